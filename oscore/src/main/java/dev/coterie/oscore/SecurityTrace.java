package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Message;

/**
 * Receives both views of every message the OSCORE layer handles, in every mode: the plain
 * message (inner code and options) and the protected one on the wire (outer code, OSCORE option,
 * ciphertext). For message-flow traces; never sees key material.
 */
public interface SecurityTrace {
    enum Event { REQUEST_PROTECTED, REQUEST_VERIFIED, RESPONSE_PROTECTED, RESPONSE_VERIFIED, REJECTED }

    /**
     * What the layer knows about the message: the mode and context name (null when nothing
     * verified), how the mode protects (a phrase), and a note (why it was rejected, ...).
     */
    record Info(ProtectionMode mode, String context, String description, String note) {
        public static Info rejected(String note) {
            return new Info(null, null, null, note);
        }
    }

    void onMessage(Event event, Message plain, Message onWire, Info info);
}
