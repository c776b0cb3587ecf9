package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Response;

/** A verified response as the application sees it, with the member that sent it and the mode it used. */
public final class GroupResponse extends Response {
    private final byte[] serverKid;
    private final GroupMode mode;

    GroupResponse(ResponseCode code, byte[] serverKid, GroupMode mode) {
        super(code);
        this.serverKid = serverKid;
        this.mode = mode;
    }

    /** The responding member's Sender ID. */
    public byte[] serverKid() {
        return serverKid.clone();
    }

    public GroupMode mode() {
        return mode;
    }
}
