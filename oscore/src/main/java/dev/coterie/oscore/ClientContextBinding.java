package dev.coterie.oscore;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * How an outgoing request is protected: the view (context and mode) it is bound to, explicitly
 * per request, or the endpoint's default. A view is never looked up by destination URI
 * (STYLE.md), and a request with neither is refused, never sent in plaintext.
 *
 * <p>A request may also be bound to several layers (oscore-capable-proxies, OCP-01): the
 * end-to-end view first, then one view per OSCORE-capable intermediary from the server side
 * towards the client, the next hop's last.
 */
public final class ClientContextBinding {
    private final Map<Request, List<RequestProtector>> perRequest = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile List<RequestProtector> endpointDefault;

    /** Every request from this endpoint without its own binding is protected with {@code view}. */
    public ClientContextBinding endpointDefault(RequestProtector view) {
        return endpointDefaultLayers(List.of(view));
    }

    /** Every request from this endpoint without its own binding uses the OSCORE context {@code ctx}. */
    public ClientContextBinding endpointDefault(OscoreContext ctx) {
        return endpointDefault(ctx.protector());
    }

    /** Every request from this endpoint without its own binding is protected with {@code layers}, innermost first. */
    public ClientContextBinding endpointDefaultLayers(List<RequestProtector> layers) {
        endpointDefault = checked(layers);
        return this;
    }

    /** Binds {@code request} (and its block-wise follow-ups, which share its exchange) to {@code view}. */
    public Request bind(Request request, RequestProtector view) {
        return bindLayers(request, List.of(view));
    }

    /** Binds {@code request} to the OSCORE context {@code ctx}. */
    public Request bind(Request request, OscoreContext ctx) {
        return bind(request, ctx.protector());
    }

    /** Binds {@code request} to {@code layers}: the end-to-end view first, the next hop's last. */
    public Request bindLayers(Request request, List<RequestProtector> layers) {
        perRequest.put(request, checked(layers));
        return request;
    }

    List<RequestProtector> lookup(Request original) {
        List<RequestProtector> v = perRequest.get(original);
        return v != null ? v : endpointDefault;
    }

    private static List<RequestProtector> checked(List<RequestProtector> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a binding names at least one OSCORE layer");
        }
        return List.copyOf(layers);
    }
}
