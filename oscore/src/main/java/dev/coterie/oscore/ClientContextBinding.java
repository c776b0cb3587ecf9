package dev.coterie.oscore;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * How an outgoing request is protected: the view (context and mode) it is bound to, explicitly
 * per request, or the endpoint's default. A view is never looked up by destination URI
 * (STYLE.md), and a request with neither is refused, never sent in plaintext.
 */
public final class ClientContextBinding {
    private final Map<Request, RequestProtector> perRequest = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile RequestProtector endpointDefault;

    /** Every request from this endpoint without its own binding is protected with {@code view}. */
    public ClientContextBinding endpointDefault(RequestProtector view) {
        endpointDefault = view;
        return this;
    }

    /** Every request from this endpoint without its own binding uses the OSCORE context {@code ctx}. */
    public ClientContextBinding endpointDefault(OscoreContext ctx) {
        return endpointDefault(ctx.protector());
    }

    /** Binds {@code request} (and its block-wise follow-ups, which share its exchange) to {@code view}. */
    public Request bind(Request request, RequestProtector view) {
        perRequest.put(request, view);
        return request;
    }

    /** Binds {@code request} to the OSCORE context {@code ctx}. */
    public Request bind(Request request, OscoreContext ctx) {
        return bind(request, ctx.protector());
    }

    RequestProtector lookup(Request original) {
        RequestProtector v = perRequest.get(original);
        return v != null ? v : endpointDefault;
    }
}
