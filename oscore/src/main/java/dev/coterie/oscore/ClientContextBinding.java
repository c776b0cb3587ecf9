package dev.coterie.oscore;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * Which security context protects an outgoing request. A request is bound explicitly, or the
 * endpoint has a default context for every request it sends; a context is never looked up by
 * destination URI (STYLE.md). A request without either is refused, never sent in plaintext.
 */
public final class ClientContextBinding {
    private final Map<Request, OscoreContext> perRequest = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile OscoreContext endpointDefault;

    /** Every request from this endpoint without its own binding uses {@code ctx}. */
    public ClientContextBinding endpointDefault(OscoreContext ctx) {
        endpointDefault = ctx;
        return this;
    }

    /** Binds {@code request} (and its block-wise follow-ups, which share its exchange) to {@code ctx}. */
    public Request bind(Request request, OscoreContext ctx) {
        perRequest.put(request, ctx);
        return request;
    }

    OscoreContext lookup(Request original) {
        OscoreContext c = perRequest.get(original);
        return c != null ? c : endpointDefault;
    }
}
