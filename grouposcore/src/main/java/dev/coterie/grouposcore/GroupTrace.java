package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.Message;

/** Both views of every message the Group OSCORE layer handles, for message-flow traces. No key material. */
public interface GroupTrace {
    enum Event { REQUEST_PROTECTED, REQUEST_VERIFIED, RESPONSE_PROTECTED, RESPONSE_VERIFIED, REJECTED }

    void onMessage(Event event, Message plain, Message onWire, GroupContext context, GroupMode mode, String note);
}
