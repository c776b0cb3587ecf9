package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Message;

/**
 * Receives both views of every message the OSCORE layer handles: the plain message (inner
 * code and options) and the protected one on the wire (outer code, OSCORE option, ciphertext).
 * Used for message-flow traces; never sees key material.
 */
public interface OscoreTrace {
    enum Event { REQUEST_PROTECTED, REQUEST_VERIFIED, RESPONSE_PROTECTED, RESPONSE_VERIFIED, REJECTED }

    void onMessage(Event event, Message plain, Message onWire, OscoreContext context, String note);
}
