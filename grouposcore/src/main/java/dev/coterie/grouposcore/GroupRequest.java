package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A Group OSCORE-protected request as it goes on the wire, with what its responses need. */
public final class GroupRequest extends Request {
    private final GroupRequestBinding binding;
    private final Request plain;

    GroupRequest(Code outerCode, GroupRequestBinding binding, Request plain) {
        super(outerCode);
        this.binding = binding;
        this.plain = plain;
    }

    public GroupRequestBinding binding() { return binding; }
    public Request plain() { return plain; }
}
