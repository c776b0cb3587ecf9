package dev.coterie.grouposcore;

import dev.coterie.oscore.ProtectedRequest;
import dev.coterie.oscore.RebindableRequest;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Request;

/** A Group OSCORE-protected request as it goes on the wire, with what its responses need. */
public final class GroupRequest extends Request implements RebindableRequest {
    private final GroupRequestBinding binding;
    private final Request plain;

    GroupRequest(Code outerCode, GroupRequestBinding binding, Request plain) {
        super(outerCode);
        this.binding = binding;
        this.plain = plain;
    }

    public GroupRequestBinding binding() { return binding; }

    @Override
    public Request rebind(Request copy) {
        GroupRequest typed = new GroupRequest(copy.getCode(), binding, plain);
        ProtectedRequest.copyInto(copy, typed);
        return typed;
    }
    public Request plain() { return plain; }
}
