package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A request whose Group OSCORE protection verified, with the binding that protects its responses. */
public final class VerifiedGroupRequest extends Request {
    private final GroupServerBinding binding;

    VerifiedGroupRequest(Code code, GroupServerBinding binding) {
        super(code);
        this.binding = binding;
    }

    public GroupServerBinding binding() { return binding; }
}
