package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A request as it goes on the wire after OSCORE protection, with what its responses need. */
public final class ProtectedRequest extends Request {
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

    /** The unprotected request this was made from. */
    public Request plain() {
        return plain;
    }
}
