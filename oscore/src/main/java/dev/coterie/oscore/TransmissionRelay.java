package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageObserverAdapter;

/**
 * The protected copy of a message is what travels; the application holds the original. The
 * copy's transmission events (ACK, RST, timeout, send error, ...) become the original's, and
 * cancelling the original cancels the copy. Shared by the OSCORE and Group OSCORE layers.
 */
public final class TransmissionRelay {
    private TransmissionRelay() {
    }

    public static void link(Message copy, Message original) {
        copy.addMessageObserver(new MessageObserverAdapter() {
            @Override public void onAcknowledgement() { original.setAcknowledged(true); }
            @Override public void onReject() { original.setRejected(true); }
            @Override public void onTimeout() { original.setTimedOut(true); }
            @Override public void onSendError(Throwable error) { original.setSendError(error); }
            @Override public void onSent(boolean retransmission) {
                if (original.getMID() == Message.NONE) {
                    original.setMID(copy.getMID()); // the Message ID it went with: an RST names only that
                }
                original.setSent(true);
            }
            @Override public void onRetransmission() { original.retransmitting(); }
            @Override public void onReadyToSend() { original.setReadyToSend(); }
        });
        original.addMessageObserver(new MessageObserverAdapter() {
            @Override public void onCancel() { copy.cancel(); }
        });
    }
}
