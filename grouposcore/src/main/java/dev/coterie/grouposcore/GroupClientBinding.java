package dev.coterie.grouposcore;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * How an outgoing request is protected: which group context, which mode, and in pairwise mode
 * which member it is for. A request is bound explicitly, or the endpoint's default applies
 * (group mode for requests to the group). Never looked up by destination URI.
 */
public final class GroupClientBinding {
    /** A binding: context, mode and, for pairwise mode, the addressed member's Sender ID. */
    public record Target(GroupContext context, GroupMode mode, byte[] member) {
    }

    private final Map<Request, Target> perRequest = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile Target endpointDefault;

    /** Every request without its own binding goes to the group in group mode with {@code ctx}. */
    public GroupClientBinding groupDefault(GroupContext ctx) {
        endpointDefault = new Target(ctx, GroupMode.GROUP, null);
        return this;
    }

    /** Binds one request (and its block-wise follow-ups) to a group-mode target. */
    public Request bindGroup(Request request, GroupContext ctx) {
        perRequest.put(request, new Target(ctx, GroupMode.GROUP, null));
        return request;
    }

    /** Binds one request to a pairwise-mode target: only {@code member} can read it. */
    public Request bindPairwise(Request request, GroupContext ctx, byte[] member) {
        perRequest.put(request, new Target(ctx, GroupMode.PAIRWISE, member.clone()));
        return request;
    }

    Target lookup(Request original) {
        Target t = perRequest.get(original);
        return t != null ? t : endpointDefault;
    }
}
