package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A request as it goes on the wire after OSCORE protection, with what its responses need. */
public final class ProtectedRequest extends Request implements RebindableRequest {
    private final RequestBinding binding;
    private final Request plain;

    ProtectedRequest(Code outerCode, RequestBinding binding, Request plain) {
        super(outerCode);
        this.binding = binding;
        this.plain = plain;
    }

    public RequestBinding binding() {
        return binding;
    }

    @Override
    public Request rebind(Request r) {
        ProtectedRequest typed = new ProtectedRequest(r.getCode(), binding, plain);
        copyInto(r, typed);
        return typed;
    }

    /** Copies what Californium's own shallow clone copies. */
    public static void copyInto(Request from, Request to) {
        to.setDestinationContext(from.getDestinationContext());
        to.setType(from.getType());
        to.setMID(from.getMID());
        to.setToken(from.getToken());
        to.setOptions(from.getOptions());
        to.setPayload(from.getPayload());
        to.setUserContext(from.getUserContext());
        to.setMaxResourceBodySize(from.getMaxResourceBodySize());
    }

    /** The unprotected request this was made from. */
    public Request plain() {
        return plain;
    }
}
