package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A request whose OSCORE protection verified; the binding protects its responses. */
public final class VerifiedRequest extends Request {
    private final RequestBinding binding;

    VerifiedRequest(Code code, RequestBinding binding) {
        super(code);
        this.binding = binding;
    }

    public RequestBinding binding() {
        return binding;
    }
}
