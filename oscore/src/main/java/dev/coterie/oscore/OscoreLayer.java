package dev.coterie.oscore;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Consumer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.network.stack.AbstractLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one security layer of a Californium stack, for every mode: a thin adapter over
 * {@link ProtectionPipeline}. It sits below the block-wise layer (blocks set by the application
 * are inner, end-to-end) and above reliability and the matcher's deduplication, so a
 * retransmitted CON reaches it once and never trips a replay window.
 *
 * <p>Security is decided per exchange: an outgoing request is protected with the view its
 * {@link ClientContextBinding} names; an incoming one is verified with the view its resolver
 * finds from the OSCORE option; a response is protected with the identifiers of its request,
 * kept in this layer's tables (by exchange on the server side, by Token on the client side),
 * never inside a message. The protected copy of a message goes down, the original stays with
 * the upper layers, and the copy's transmission events are relayed to it.
 *
 * <p>Requests to a group (multicast) that fail get silence (GRP-27, GCB-04); unicast ones get
 * the answer of digest tables 1.6 and 2.9.
 */
public final class OscoreLayer extends AbstractLayer {
    private static final Logger LOG = LoggerFactory.getLogger(OscoreLayer.class);

    /** What a server does with a request that carries no OSCORE option. */
    public enum UnprotectedRequests {
        /** 4.01 "OSCORE required" to a unicast request, silence to a group request (the default). */
        REFUSE,
        /** Deliver it unprotected (an endpoint with public resources, a proxy); its responses go out unprotected. */
        DELIVER
    }

    private final ProtectionPipeline pipeline;
    private final RequestVerifier.Resolver server;
    private final ClientContextBinding client;
    private final SecurityTrace trace;
    private final boolean echoRetry;
    private final UnprotectedRequests unprotected;
    private final java.util.function.Predicate<Request> deterministicAllowed;
    private final ClientExchanges clientExchanges;
    private final int maxLayers;
    private final Map<Exchange, RequestIdentifiers> serverExchanges = Collections.synchronizedMap(new WeakHashMap<>());
    private final Map<Exchange, Boolean> unprotectedExchanges = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile Consumer<Exchange> dropDeduplication = e -> { };
    private volatile java.util.function.Predicate<Request> forwardUntouched = r -> false;
    private volatile DeterministicPhantoms phantoms;

    OscoreLayer(ProtectionPipeline pipeline, RequestVerifier.Resolver server, ClientContextBinding client, SecurityTrace trace,
                boolean echoRetry, UnprotectedRequests unprotected, int maxClientExchanges,
                java.util.function.Predicate<Request> deterministicAllowed, int maxLayers) {
        this.maxLayers = maxLayers;
        this.pipeline = pipeline;
        this.server = server;
        this.client = client;
        this.trace = trace;
        this.echoRetry = echoRetry;
        this.unprotected = unprotected;
        this.deterministicAllowed = deterministicAllowed;
        this.clientExchanges = new ClientExchanges(maxClientExchanges, ClientExchanges.DEFAULT_LIFETIME_NANOS);
    }

    /**
     * Requests a proxy forwards as they came, with whatever OSCORE layers they carry: those with
     * proxy-related options or for a reverse-proxy route (oscore-capable-proxies Section 2.4,
     * steps 1-4, before any layer is removed). They reach the deliverer unprotected by this hop.
     */
    void forwardUntouched(java.util.function.Predicate<Request> p) {
        forwardUntouched = p;
    }

    /** The deterministic phantoms this server recognises before any OSCORE processing (OMN-13), or null. */
    void deterministicPhantoms(DeterministicPhantoms p) {
        phantoms = p;
    }

    /** How this layer drops the deduplication entry of a request it rejected (set by the endpoint builder). */
    void forgetRejectedWith(Consumer<Exchange> drop) {
        dropDeduplication = drop;
    }

    /** The identifiers of a verified request this server is answering (for resources and a proxy), or null. */
    public RequestIdentifiers identifiers(Exchange exchange) {
        return serverExchanges.get(exchange);
    }

    /**
     * An exchange for one more response to the request {@code answered} carries (a proxy relaying
     * every server's response to one group request: groupcomm-proxy Section 5.2). Californium
     * completes an exchange with its first response; each further one goes on an exchange of
     * its own that shares the request and its protection: the same request identifiers, whose
     * request nonce the first response alone may claim, so every further response draws its own
     * Partial IV (OCP-07). An exchange this layer does not know (neither verified nor let through
     * unprotected) gives one it does not know either, whose responses it refuses (fail closed).
     */
    public Exchange furtherExchange(Exchange answered) {
        Exchange extra = new Exchange(answered.getRequest(), answered.getPeersIdentity(), Exchange.Origin.REMOTE, null);
        extra.setEndpoint(answered.getEndpoint());
        RequestIdentifiers ids = serverExchanges.get(answered);
        if (ids != null) {
            serverExchanges.put(extra, ids);
        } else if (unprotectedExchanges.containsKey(answered)) {
            unprotectedExchanges.put(extra, Boolean.TRUE);
        }
        return extra;
    }

    /** Number of client requests whose responses are still expected (bounded; for tests and metrics). */
    public int pendingClientExchanges() {
        return clientExchanges.size();
    }

    /**
     * A protected response that ends an observation carries no outer Observe and an outer 2.04,
     * and Californium's matcher links such a response to an observation only if it is an error
     * or has Observe. Marking it with an outer Observe (class U, outside the AAD) lets it reach
     * this layer, which verifies it and delivers it without Observe: the observation's end.
     */
    MessageInterceptorAdapter observationEndInterceptor() {
        return new MessageInterceptorAdapter() {
            @Override
            public void receiveResponse(Response response) {
                if (response.getOptions().hasOscore() && !response.getOptions().hasObserve() && response.isSuccess()) {
                    ClientExchanges.Entry e = clientExchanges.get(response.getToken());
                    // only for a registration (Observe 0): the answer to a deregistration (Observe 1) is a plain
                    // response, and Californium's matcher would drop it as an "overlapping notification" if marked
                    if (e != null && e.identifiers().isObserve() && e.plain().getOptions().hasObserve()
                            && e.plain().getOptions().getObserve() == 0) {
                        response.getOptions().setObserve(0);
                    }
                }
            }
        };
    }

    void observationRemoved(org.eclipse.californium.core.coap.Token token) {
        ClientExchanges.Entry e = clientExchanges.get(token);
        if (e != null && e.identifiers().isObserve()) {
            clientExchanges.remove(token, e.identifiers());
        }
    }

    /* ----------------------------------------------------------------- client side */

    @Override
    public void sendRequest(Exchange exchange, Request request) {
        List<RequestProtector> views = client == null ? null : client.lookup(exchange.getRequest());
        if (views == null) {
            refuse(exchange, request, "no security context bound to this request; not sent");
            return;
        }
        if (views.size() > maxLayers) {
            // OCP-04: an outgoing request over the layer limit is not sent at all
            refuse(exchange, request, views.size() + " OSCORE layers exceed this endpoint's limit of " + maxLayers
                    + " (OCP-04); not sent");
            return;
        }
        if (!clientExchanges.hasRoom()) {
            refuse(exchange, request, "too many requests awaiting responses; not sent");
            return;
        }
        ProtectionPipeline.LayeredRequest p;
        try {
            p = pipeline.protectRequest(request, views, -1, null);
        } catch (OscoreException e) {
            refuse(exchange, request, e.getMessage());
            return;
        }
        sendProtected(exchange, request, views, p, 0);
    }

    private void sendProtected(Exchange exchange, Request original, List<RequestProtector> views,
                               ProtectionPipeline.LayeredRequest p, int echoed) {
        Request wire = p.wire();
        Request plain = p.stages().get(0);
        TransmissionRelay.link(wire, original);
        if (original.getToken() != null) {
            clientExchanges.put(original.getToken(), p.identifiers(), views, plain, original.isMulticast(), echoed);
        }
        super.sendRequest(exchange, wire);
        if (wire.getToken() != null) {
            if (original.getToken() == null) {
                original.setToken(wire.getToken());
            }
            clientExchanges.put(wire.getToken(), p.identifiers(), views, plain, original.isMulticast(), echoed);
            RequestIdentifiers ids = p.identifiers().get(0);
            org.eclipse.californium.core.coap.Token token = wire.getToken();
            original.addMessageObserver(new org.eclipse.californium.core.coap.MessageObserverAdapter() {
                @Override public void onCancel() { forget(); }
                @Override public void onTimeout() { forget(); }
                @Override public void onReject() { forget(); }
                @Override public void onSendError(Throwable error) { forget(); }

                private void forget() {
                    clientExchanges.remove(token, ids);
                }
            });
        }
        for (int i = 0; i < views.size(); i++) {
            // one trace line per layer, each with its own inner (before) and outer (after) view
            RequestProtector v = views.get(i);
            trace(SecurityTrace.Event.REQUEST_PROTECTED, p.stages().get(i), p.stages().get(i + 1),
                    new SecurityTrace.Info(v.mode(), v.contextName(), layerLabel(v.describe(), i, views.size()), null));
        }
    }

    private static String layerLabel(String describe, int layer, int layers) {
        return layers == 1 ? describe : describe + " [layer " + (layer + 1) + " of " + layers + "]";
    }

    private void refuse(Exchange exchange, Request request, String why) {
        LOG.warn("refusing to send {} {}: {}", request.getCode(), request.getURI(), why);
        request.setSendError(new OscoreSendRefusedException(why));
        exchange.executeComplete();
    }

    @Override
    public void receiveResponse(Exchange exchange, Response response) {
        if (response.isDuplicate()) {
            return;
        }
        ClientExchanges.Entry e = clientExchanges.get(response.getToken());
        if (e == null) {
            LOG.debug("dropping a response to a request this layer did not protect");
            return;
        }
        if (!response.getOptions().hasOscore()) {
            if (response.isError() && !e.multicast()) {
                // an OSCORE error (digest table 1.6) is unprotected by design; it reaches the application marked so
                response.setSourceContext(OscorePeer.markUnprotected(response.getSourceContext()));
                trace(SecurityTrace.Event.RESPONSE_VERIFIED, response, response,
                        new SecurityTrace.Info(null, e.identifiers().contextName(), null, "unprotected error response"));
                finish(response, e);
                super.receiveResponse(exchange, response);
            } else {
                LOG.debug("dropping unprotected {} response to a protected request", response.getCode());
            }
            return;
        }
        ProtectionPipeline.LayeredResponse layered;
        try {
            layered = pipeline.unprotectResponse(response, e.layers());
        } catch (OscoreException ex) {
            LOG.debug("dropping a response that failed verification: {}", ex.getMessage());
            trace(SecurityTrace.Event.REJECTED, null, response, SecurityTrace.Info.rejected(ex.getMessage()));
            return;
        }
        Response plain = layered.plain();
        if (response.getApplicationRttNanos() != null) {
            plain.setApplicationRttNanos(response.getApplicationRttNanos());
        }
        if (response.getTransmissionRttNanos() != null) {
            plain.setTransmissionRttNanos(response.getTransmissionRttNanos());
        }
        Response outer = response;
        int n = e.layers().size();
        for (int k = 0; k < layered.steps().size(); k++) {
            ProtectionPipeline.Unprotected<Response> u = layered.steps().get(k);
            int layer = n - 1 - k;
            String what = layer == layered.innermostLayer() && layer > 0
                    ? u.description() + " [layer " + (layer + 1) + " of " + n + "; the intermediary's own answer]"
                    : layerLabel(u.description(), layer, n);
            trace(SecurityTrace.Event.RESPONSE_VERIFIED, u.plain(), outer,
                    new SecurityTrace.Info(u.peer().mode(), u.peer().context(), what, null));
            outer = u.plain();
        }
        int layer = layered.innermostLayer();
        if (layer > 0) {
            plain.setSourceContext(OscorePeer.markIntermediary(plain.getSourceContext()));
        }
        if (echoRetry && !e.multicast() && plain.getCode() == ResponseCode.UNAUTHORIZED) {
            byte[] echo = echoOf(plain.getOptions());
            if (echo != null && (e.echoed() & (1 << layer)) == 0) {
                retryWithEcho(exchange, e, echo, layer);
                return;
            }
        }
        finish(plain, e);
        super.receiveResponse(exchange, plain);
    }

    /** Forgets a unicast request's identifiers after its final response. */
    private void finish(Response plain, ClientExchanges.Entry e) {
        if (!e.multicast() && !plain.isNotification()) {
            clientExchanges.remove(plain.getToken(), e.identifiers());
        }
    }

    /**
     * RFC 9175 Section 2.4 / RFC 8613 Appendix B.1.2: repeat the request once with the Echo value
     * of the endpoint that challenged, inside the layer that endpoint removes ({@code layer}: 0 for
     * the server, more for an intermediary).
     */
    private void retryWithEcho(Exchange exchange, ClientExchanges.Entry previous, byte[] echo, int layer) {
        Request original = previous.plain();
        Request retry = new Request(original.getCode(), original.getType());
        retry.setOptions(new OptionSet(original.getOptions()));
        retry.setPayload(original.getPayload());
        retry.setToken(exchange.getCurrentRequest().getToken());
        retry.setDestinationContext(exchange.getCurrentRequest().getDestinationContext());
        ProtectionPipeline.LayeredRequest p;
        try {
            p = pipeline.protectRequest(retry, previous.views(), layer, echo);
        } catch (OscoreException ex) {
            refuse(exchange, exchange.getRequest(), ex.getMessage());
            return;
        }
        LOG.debug("{} asked for freshness; repeating the request with its Echo value", layer == 0 ? "the server" : "a proxy");
        sendProtected(exchange, exchange.getRequest(), previous.views(), p, previous.echoed() | (1 << layer));
    }

    /* ----------------------------------------------------------------- server side */

    @Override
    public void receiveRequest(Exchange exchange, Request request) {
        if (server == null) {
            LOG.debug("ignoring a request on a client-only endpoint");
            return;
        }
        if (forwardUntouched.test(request)) {
            unprotectedExchanges.put(exchange, Boolean.TRUE);
            super.receiveRequest(exchange, request);
            return;
        }
        DeterministicPhantoms ph = phantoms;
        Request recognised = ph == null || !request.getOptions().hasOscore() ? null : ph.recognise(request);
        if (recognised != null) {
            // OMN-13 (observe-multicast-notifications App. D): byte for byte a stored deterministic phantom; no Group
            // OSCORE processing, the plain phantom the server composed is delivered, and its answer goes out unprotected
            unprotectedExchanges.put(exchange, Boolean.TRUE);
            LOG.debug("deterministic phantom recognised by byte comparison (OMN-13)");
            exchange.setRequest(recognised);
            exchange.setCurrentRequest(recognised);
            super.receiveRequest(exchange, recognised);
            return;
        }
        if (!request.getOptions().hasOscore()) {
            if (unprotected == UnprotectedRequests.DELIVER) {
                unprotectedExchanges.put(exchange, Boolean.TRUE);
                super.receiveRequest(exchange, request);
            } else {
                if (!request.isMulticast()) {
                    super.sendResponse(exchange, ProtectionPipeline.unprotectedError(request, ResponseCode.UNAUTHORIZED,
                            "OSCORE required"));
                }
                dropDeduplication.accept(exchange);
            }
            return;
        }
        ProtectionPipeline.Unprotected<Request> u;
        try {
            u = pipeline.unprotectRequest(request, server);
        } catch (OscoreException e) {
            trace(SecurityTrace.Event.REJECTED, null, request, SecurityTrace.Info.rejected(e.diagnostic()));
            LOG.debug("rejecting {} request: {}", request.isMulticast() ? "group" : "unicast", e.getMessage());
            forgetRejected(request);
            if (!request.isMulticast()) {
                super.sendResponse(exchange, ProtectionPipeline.errorResponse(e, request));
            }
            // nothing changed: a retransmission is verified again and gets the same answer
            dropDeduplication.accept(exchange);
            return; // silence towards a failed group request
        } catch (ProtectedAnswerRequired a) {
            forgetRejected(request);
            if (!request.isMulticast()) {
                answerProtected(exchange, request, a);
            }
            return;
        }
        Request plain = u.plain();
        if (u.identifiers().mode() == ProtectionMode.DETERMINISTIC && !deterministicAllowed.test(plain)) {
            // resources opt in to deterministic requests (cacheable-oscore Section 3.4.3, DET-06)
            trace(SecurityTrace.Event.REJECTED, plain, request, SecurityTrace.Info.rejected(
                    "deterministic request for a resource that does not accept them"));
            if (!request.isMulticast()) {
                answerProtected(exchange, request, new ProtectedAnswerRequired(u.identifiers(), ResponseCode.UNAUTHORIZED, null,
                        "The resource does not accept deterministic requests"));
            }
            return;
        }
        plain.setSourceContext(u.peer().attachTo(request.getSourceContext()));
        serverExchanges.put(exchange, u.identifiers());
        trace(SecurityTrace.Event.REQUEST_VERIFIED, plain, request,
                new SecurityTrace.Info(u.identifiers().mode(), u.identifiers().contextName(), u.description(), null));
        exchange.setRequest(plain);
        exchange.setCurrentRequest(plain);
        super.receiveRequest(exchange, plain);
    }

    /**
     * A rejected request keeps nothing it does not need to be answered again: its deduplication
     * entry is dropped when the rejection changed no state (an unprotected error, silence), and
     * kept, for the exchange lifetime at most, when the answer is protected (an Echo challenge
     * or a protected 4.02, which took a sequence number and must be resent as it was).
     */
    private static void forgetRejected(Request request) {
        request.setPayload((byte[]) null);
        request.setBytes(null);
    }

    private void answerProtected(Exchange exchange, Request request, ProtectedAnswerRequired a) {
        Response plain = ProtectionPipeline.protectedAnswer(request, a);
        if (request.getType() == Type.NON && a.code() == ResponseCode.BAD_OPTION) {
            return; // RFC 7252 5.4.1: a NON request with an unrecognized critical option is rejected silently
        }
        try {
            Response p = pipeline.protectResponse(plain, a.identifiers());
            super.sendResponse(exchange, p);
            trace(SecurityTrace.Event.RESPONSE_PROTECTED, plain, p, new SecurityTrace.Info(a.identifiers().mode(),
                    a.identifiers().contextName(), null, a.echo() != null
                            ? "replay window not initialised: Echo challenge (RFC 8613 Appendix B.1.2)" : a.diagnostic()));
        } catch (OscoreException ex) {
            LOG.warn("cannot protect the answer to a request: {}", ex.getMessage());
            exchange.executeComplete();
        }
    }

    @Override
    public void sendResponse(Exchange exchange, Response response) {
        RequestIdentifiers ids = serverExchanges.get(exchange);
        if (ids == null) {
            if (unprotectedExchanges.containsKey(exchange)) {
                super.sendResponse(exchange, response); // the request came unprotected, by policy
                return;
            }
            // fail closed: no identifiers means this response would go out in plaintext
            LOG.warn("refusing to send an unprotected {} response", response.getCode());
            response.setSendError(new OscoreSendRefusedException("no OSCORE request identifiers for this response"));
            exchange.executeComplete();
            return;
        }
        Response p;
        try {
            p = pipeline.protectResponse(response, ids);
        } catch (OscoreException e) {
            LOG.warn("cannot protect a response: {}", e.getMessage());
            response.setSendError(new OscoreSendRefusedException(e.getMessage()));
            exchange.executeComplete();
            return;
        }
        TransmissionRelay.link(p, response);
        super.sendResponse(exchange, p);
        trace(SecurityTrace.Event.RESPONSE_PROTECTED, response, p, new SecurityTrace.Info(ids.mode(), ids.contextName(),
                null, null));
    }

    private void trace(SecurityTrace.Event event, org.eclipse.californium.core.coap.Message plain,
                       org.eclipse.californium.core.coap.Message wire, SecurityTrace.Info info) {
        if (trace != null) {
            trace.onMessage(event, plain, wire, info);
        }
    }

    private static byte[] echoOf(OptionSet options) {
        for (Option o : options.getOthers()) {
            if (o.getNumber() == StandardOptionRegistry.ECHO.getNumber()) {
                return o.getValue();
            }
        }
        return null;
    }
}
