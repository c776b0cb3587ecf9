package dev.coterie.proxy;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscorePeer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.RandomTokenGenerator;
import org.eclipse.californium.core.network.TokenGenerator;
import org.eclipse.californium.core.server.ServerMessageDeliverer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the proxy does with a request once its front endpoint removed the client's hop layer (if
 * any): the rest of the incoming-request algorithm (oscore-capable-proxies Section 2.4), access
 * control, Hop-Limit, the cache, and forwarding on a new exchange (new Token and Message ID) to
 * the origin, over a hop layer of its own when one is configured for that origin. The response
 * goes back through the front endpoint, which protects it with the client's hop layer again.
 */
final class Forwarder extends ServerMessageDeliverer {
    private static final Logger LOG = LoggerFactory.getLogger(Forwarder.class);

    /** What changes on SIGHUP: routes, access control, whether this is a forward proxy. */
    record Policy(boolean forwardProxy, List<ProxyConfig.Route> routes, AccessControl access) {
    }

    private final ProxyConfig.Limits limits;
    private final ForwardTarget.Numbers numbers;
    private final ProxyMetrics metrics;
    private final ResponseCache cache;
    private final RateLimiter rate;
    private final Endpoint plainUpstream;
    private final Endpoint oscoreUpstream;
    private final ClientContextBinding originBinding;
    private final Map<ProxyConfig.Origin, OscoreContext> originContexts;
    private final ScheduledExecutorService timer;
    private final java.util.function.Supplier<List<InetSocketAddress>> ownAddresses;
    private final ProxyConfig.Origin nextProxy;
    private final UpstreamFailures failures;
    private final OptionRegistry recognised;
    /** The Tokens of upstream requests, set before sending so that {@link #failures} can watch them from the first datagram. */
    private final TokenGenerator tokens;
    private volatile Policy policy;
    private final java.util.concurrent.ConcurrentHashMap<ResponseCache.Key, ObserveRelay> relays =
            new java.util.concurrent.ConcurrentHashMap<>();
    /** Upstream notifications by the Token of their registration (Californium hands them to endpoint listeners). */
    private final java.util.concurrent.ConcurrentHashMap<org.eclipse.californium.core.coap.Token,
            java.util.function.Consumer<Response>> notifications = new java.util.concurrent.ConcurrentHashMap<>();

    Forwarder(Policy policy, ProxyConfig.Limits limits, ForwardTarget.Numbers numbers, ProxyMetrics metrics,
              ResponseCache cache, Endpoint plainUpstream, Endpoint oscoreUpstream, ClientContextBinding originBinding,
              Map<ProxyConfig.Origin, OscoreContext> originContexts, ScheduledExecutorService timer,
              java.util.function.Supplier<List<InetSocketAddress>> ownAddresses, ProxyConfig.Origin nextProxy,
              UpstreamFailures failures, OptionRegistry recognised,
              org.eclipse.californium.elements.config.Configuration config) {
        super(new org.eclipse.californium.core.CoapResource(""), config);
        this.policy = policy;
        this.limits = limits;
        this.numbers = numbers;
        this.metrics = metrics;
        this.cache = cache;
        this.rate = new RateLimiter(limits.requestsPerSecond(), limits.burst(), limits.clientsTracked());
        this.plainUpstream = plainUpstream;
        this.oscoreUpstream = oscoreUpstream;
        this.originBinding = originBinding;
        this.originContexts = Map.copyOf(originContexts);
        this.timer = timer;
        this.ownAddresses = ownAddresses;
        this.nextProxy = nextProxy;
        this.failures = failures;
        this.recognised = recognised;
        this.tokens = new RandomTokenGenerator(config);
    }

    /**
     * Where a forwarded request goes next: the origin, or the next proxy of a chain (with its
     * proxy options kept, for that proxy to consume). {@code key} names the hop context, if any.
     */
    private record Leg(InetSocketAddress address, ProxyConfig.Origin key, boolean toProxy) {
    }

    void policy(Policy p) {
        policy = p;
    }

    private volatile java.util.function.Predicate<Request> hopLayerForUs = r -> false;

    /** Which OSCORE requests name one of the proxy's client hop contexts (by kid and kid context). */
    void hopLayers(java.util.function.Predicate<Request> forUs) {
        hopLayerForUs = forUs;
    }

    /**
     * Whether the front endpoint forwards {@code r} without removing a layer (steps 1-3). Visible
     * proxy options mean the request is not in a layer for this proxy (a hop layer would have
     * encrypted them). A reverse route matches only the outer Uri-Host and path, which an OSCORE
     * layer hides, so a request whose OSCORE option names one of the proxy's own hop contexts is
     * verified first (step 6) and routed on its inner options; others go to the route untouched.
     */
    boolean forwardUntouched(Request r) {
        if (ForwardTarget.hasProxyOptions(r, numbers)) {
            return true;
        }
        if (r.getOptions().hasOscore() && hopLayerForUs.test(r)) {
            return false;
        }
        return ForwardTarget.reverse(r, policy.routes()) != null;
    }

    private volatile java.util.function.Consumer<Exchange> observed = e -> { };

    /** Told of every exchange that got an Observe relation here (TCP listeners end it with the connection). */
    void onObserveRelation(java.util.function.Consumer<Exchange> c) {
        observed = c;
    }

    /** Californium's observe check, and then {@link #onObserveRelation} when it made a relation. */
    private void attachObserver(Exchange exchange, org.eclipse.californium.core.server.resources.Resource resource) {
        checkForObserveOption(exchange, resource);
        if (exchange.getRelation() != null) {
            observed.accept(exchange);
        }
    }

    /**
     * Who sent the request: the hop context that verified it; else the client certificate of its
     * TLS connection (Californium's X.509 principal of the endpoint context, present only on a
     * coaps+tcp listener with client_trust); else unauthenticated.
     */
    static ProxyConfig.ClientId clientOf(Request r) {
        OscorePeer p = OscorePeer.of(r);
        if (p == null) {
            java.security.Principal who = r.getSourceContext() == null ? null : r.getSourceContext().getPeerIdentity();
            if (who instanceof org.eclipse.californium.elements.auth.X509CertPath certs && certs.getTarget() != null) {
                return ProxyConfig.ClientId.of(certs.getTarget());
            }
            return ProxyConfig.ClientId.UNAUTHENTICATED;
        }
        byte[] kc = p.kidContext();
        return new ProxyConfig.ClientId(kc == null || kc.length == 0 ? null : kc, p.kid());
    }

    private volatile FastPath fast;
    private volatile GroupForwarder groups;
    private volatile List<ProxyConfig.Group> groupList = List.of();

    /** The groups this proxy forwards to and their forwarder (group forwarding on). */
    void groups(List<ProxyConfig.Group> list, GroupForwarder g) {
        groupList = List.copyOf(list);
        groups = g;
    }

    /** Whether group forwarding is on and {@code r} carries Multicast-Timeout (then it is not for the fast path). */
    boolean groupBound(Request r) {
        GroupForwarder g = groups;
        return g != null && g.multicastTimeout(r) != null;
    }

    private ProxyConfig.Group groupOf(ForwardTarget t) {
        for (ProxyConfig.Group g : groupList) {
            if (g.matches(t.origin())) {
                return g;
            }
        }
        return null;
    }

    /** The fast path whose exchanges send upstream from its own socket. */
    void fastPath(FastPath f) {
        fast = f;
    }

    /** A request that came through the fast path, on its own exchange. */
    void deliver(Exchange exchange) {
        handle(exchange);
    }

    /** Every request is the proxy's: none reaches Californium's resource tree. */
    @Override
    protected boolean preDeliverRequest(Exchange exchange) {
        handle(exchange);
        return true;
    }

    private void handle(Exchange exchange) {
        Request req = exchange.getRequest();
        Policy pol = policy;
        ProxyConfig.ClientId client = clientOf(req);
        Object rateKey = client.isUnauthenticated() ? req.getSourceContext().getPeerAddress().getAddress() : client;
        if (!rate.tryAcquire(rateKey)) {
            overloaded(exchange, ProxyMetrics.Outcome.RATE_LIMITED, "request rate limit");
            return;
        }
        Integer hopLimit = hopLimit(req);
        if (hopLimit != null && hopLimit == 0) {
            answer(exchange, ResponseCode.BAD_REQUEST, "Hop-Limit 0", ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        GroupForwarder g = groups;
        if (isEarlyStopShape(req)) {
            // GPX-07: an Early Stop Request is never forwarded; one that names no running collection (late, or never
            // ours) is dropped the same way
            if (g == null || !g.earlyStop(exchange, client)) {
                if (req.isConfirmable()) {
                    exchange.sendAccept();
                }
                exchange.executeComplete();
            }
            return;
        }
        if (g != null && req.getOptions().hasObserve() && req.getOptions().getObserve() == 1 && g.earlyStop(exchange, client)) {
            return; // a deregistration of a group observation with its Token: the relaying stops, as on an early stop
        }
        ForwardTarget target;
        try {
            if (ForwardTarget.hasProxyOptions(req, numbers)) {
                if (!pol.forwardProxy()) {
                    answer(exchange, ResponseCode.PROXY_NOT_SUPPORTED, null, ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY);
                    return;
                }
                target = ForwardTarget.forward(req, numbers);
            } else {
                target = ForwardTarget.reverse(req, pol.routes());
                if (target == null) {
                    target = followUp(req, g); // GPX-13: to one server named by a Reply-From reference
                }
                if (target == null && req.getOptions().hasOscore()) {
                    // another layer for the proxy itself, past the layers it removes (OCP-04): 4.01,
                    // protected by the front endpoint with the layer it removed
                    answer(exchange, ResponseCode.UNAUTHORIZED, "OSCORE layer limit", ProxyMetrics.Outcome.BAD_REQUEST);
                    return;
                }
                if (target == null) {
                    // a request for the proxy itself: it has no resources of its own
                    answer(exchange, ResponseCode.NOT_FOUND, null, ProxyMetrics.Outcome.NO_ROUTE);
                    return;
                }
            }
        } catch (ForwardTarget.Refusal r) {
            refuse(exchange, r);
            return;
        }
        try {
            target = ForwardTarget.checked(target);
        } catch (ForwardTarget.Refusal r) {
            refuse(exchange, r);
            return;
        }
        ProxyConfig.Group group = groupOf(target);
        if (group != null) {
            toGroup(exchange, req, client, target, group, hopLimit, standsInForServers(target, pol));
            return;
        }
        String followUpOf = target.viaRoute() != null && target.viaRoute().startsWith(FOLLOW_UP) ? target.viaRoute()
                .substring(FOLLOW_UP.length()) : null;
        if (followUpOf != null ? !pol.access().allows(client, target, followUpOf) : !pol.access().allows(client, target)) {
            LOG.info("denied: client {} to {}", client, printable(target.uri()));
            answer(exchange, ResponseCode.UNAUTHORIZED, "Forwarding not authorised", ProxyMetrics.Outcome.DENIED);
            return;
        }
        if (ForwardTarget.other(req.getOptions(), numbers.listenToMulticastResponses()) != null && ticket(exchange, req, target)) {
            return;
        }
        int nextHop = hopLimit == null ? limits.hopLimit() : hopLimit - 1;
        if (nextHop == 0) {
            // RFC 8768 Section 3: not forwarded; the diagnostic names this proxy
            metrics.outcome(ProxyMetrics.Outcome.HOP_LIMIT);
            Response r = new HopLimitReached();
            r.setPayload(ownName(req));
            r.getOptions().setContentFormat(0).setMaxAge(0);
            exchange.sendResponse(r);
            return;
        }
        // a forward-proxy request goes on to the next proxy of a chain, which resolves the target itself
        boolean chained = nextProxy != null && target.viaRoute() == null;
        ProxyConfig.Origin next = chained ? nextProxy : target.origin();
        InetAddress address;
        try {
            address = chained ? ForwardTarget.resolve(nextProxy) : target.address();
        } catch (ForwardTarget.Refusal r) {
            answer(exchange, r.code(), r.getMessage(), ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        boolean groupRequest = ForwardTarget.other(req.getOptions(), numbers.multicastTimeout()) != null;
        if (chained && groupRequest && g != null && g.chains()) {
            viaNextProxy(exchange, req, client, target, nextHop, new Leg(new InetSocketAddress(address, nextProxy.port()),
                    nextProxy, true));
            return;
        }
        if (!chained && target.origin().tcp() && address.isMulticastAddress()) {
            answer(exchange, ResponseCode.BAD_REQUEST, "coap+tcp and coaps+tcp have no multicast (RFC 8323)",
                    ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        if (address.isMulticastAddress() || chained && groupRequest) {
            if (chained) {
                answer(exchange, ResponseCode.NOT_IMPLEMENTED, "group requests through next_proxy are not enabled",
                        ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY);
            } else if (groupList.isEmpty()) {
                // group forwarding is not enabled: groupcomm-bis 3.5.1, GCB-07
                answer(exchange, ResponseCode.NOT_IMPLEMENTED, "forwarding to a group is not enabled",
                        ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY);
            } else {
                // a multicast address that is not one of the configured groups: not an allowed group URI (GPX-02)
                LOG.info("denied: client {} to an unconfigured group {}", client, printable(target.uri()));
                answer(exchange, ResponseCode.UNAUTHORIZED, "Forwarding not authorised", ProxyMetrics.Outcome.DENIED);
            }
            return;
        }
        if (chained && originContexts.containsKey(target.origin())) {
            // the target has a hop context of its own, which a request sent on through next_proxy would not get
            answer(exchange, ResponseCode.BAD_GATEWAY, "the origin's hop context cannot be used through next_proxy",
                    ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        Leg leg = new Leg(new InetSocketAddress(address, next.port()), next, chained);
        if (isSelf(leg.address())) {
            answer(exchange, ResponseCode.NOT_FOUND, null, ProxyMetrics.Outcome.LOCAL);
            return;
        }
        if (isFeedbackConfirmation(req, numbers.feedbackDivider())) {
            // a client's answer to a count (observe-multicast-notifications 8.2, MNP-07): sent only for its side effect at
            // the server, so it goes there every time, never into an Observe relay or the cache
            Request up = upstreamRequest(req, target, nextHop, leg);
            if (req.getOptions().hasObserve()) {
                up.getOptions().setObserve(req.getOptions().getObserve()); // the registration it stands for
            }
            if (takeSlot(exchange)) {
                send(exchange, req, up, target, leg, null, null);
            }
            return;
        }
        if (req.getOptions().hasObserve() && (req.getCode() == org.eclipse.californium.core.coap.CoAP.Code.GET
                || req.getCode() == org.eclipse.californium.core.coap.CoAP.Code.FETCH)) {
            observe(exchange, req, target, nextHop, leg);
            return;
        }
        ResponseCache.Key key = cache == null ? null : cache.keyOf(req, target);
        ResponseCache.Entry stored = key == null ? null : cache.lookup(key);
        if (stored != null && stored.fresh(System.nanoTime())) {
            metrics.cacheHit();
            serveFromCache(exchange, req, stored);
            return;
        }
        if (key != null) {
            metrics.cacheMiss();
        }
        Request up = upstreamRequest(req, target, nextHop, leg); // before counting: nothing after this can throw
        if (!takeSlot(exchange)) {
            return;
        }
        boolean revalidate = stored != null && stored.etag != null && req.getOptions().getETagCount() == 0;
        if (revalidate) {
            up.getOptions().addETag(stored.etag);
        }
        send(exchange, req, up, target, leg, key, revalidate ? stored : null);
    }

    private void send(Exchange exchange, Request req, Request up, ForwardTarget target, Leg leg, ResponseCache.Key key,
                      ResponseCache.Entry revalidating) {
        Endpoint tcpVia = null;
        if (tcpLeg(leg) && (tcpVia = tcpViaOrAnswer(exchange, leg)) == null) {
            return;
        }
        AtomicBoolean done = new AtomicBoolean();
        ScheduledFuture<?>[] timeout = new ScheduledFuture<?>[1];
        Token token = tokens.createToken(TokenGenerator.Scope.SHORT_TERM_CLIENT_LOCAL);
        up.setToken(token);
        Runnable finish = () -> {
            metrics.inFlight().decrementAndGet();
            failures.forget(token);
            if (timeout[0] != null) {
                timeout[0].cancel(false);
            }
        };
        // an answer the upstream endpoint throws away (failed verification, unprotected, malformed) is dropped and
        // the exchange goes on (RFC 8613 8.4: a forged datagram must not end it); if no usable answer follows, the
        // client gets 5.02 with the reason instead of 5.04
        java.util.concurrent.atomic.AtomicReference<String> unusable = new java.util.concurrent.atomic.AtomicReference<>();
        failures.watch(token, up.getDestinationContext().getPeerAddress(), unusable::set);
        up.addMessageObserver(new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                if (!done.compareAndSet(false, true)) {
                    return;
                }
                finish.run();
                relay(exchange, req, response, key, revalidating, target, leg);
            }

            @Override
            public void onReject() {
                fail(ResponseCode.BAD_GATEWAY, "origin rejected the request", ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            @Override
            public void onTimeout() {
                timedOut();
            }

            @Override
            public void onSendError(Throwable error) {
                fail(ResponseCode.BAD_GATEWAY, "origin unreachable", ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            private void timedOut() {
                String why = unusable.get();
                fail(why != null ? ResponseCode.BAD_GATEWAY : ResponseCode.GATEWAY_TIMEOUT, why,
                        why != null ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.TIMEOUT);
            }

            private void fail(ResponseCode code, String diagnostic, ProxyMetrics.Outcome outcome) {
                if (done.compareAndSet(false, true)) {
                    finish.run();
                    answer(exchange, code, diagnostic, outcome);
                }
            }
        });
        OscoreContext hop = originContexts.get(leg.key());
        FastPath f = fast;
        boolean viaFast = hop == null && tcpVia == null && f != null && FastPath.isFast(exchange);
        if (!viaFast) {
            // the fast path's upstream times its requests out itself (onTimeout above), without a timer task each
            timeout[0] = timer.schedule(() -> {
                if (done.compareAndSet(false, true)) {
                    finish.run();
                    up.cancel();
                    String why = unusable.get();
                    answer(exchange, why != null ? ResponseCode.BAD_GATEWAY : ResponseCode.GATEWAY_TIMEOUT, why,
                            why != null ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.TIMEOUT);
                }
            }, limits.upstreamTimeoutMs(), TimeUnit.MILLISECONDS);
        }
        if (hop != null) {
            if (up.getOptions().hasOscore() && !leg.toProxy()) {
                // an origin is not known to remove two layers (OCP-11 Q2); a next proxy removes its own
                if (done.compareAndSet(false, true)) {
                    finish.run();
                    answer(exchange, ResponseCode.BAD_GATEWAY, "nested OSCORE towards this origin is not supported",
                            ProxyMetrics.Outcome.BAD_GATEWAY);
                }
                return;
            }
            bindHop(up, hop, leg);
            oscoreUpstream.sendRequest(up);
        } else if (tcpVia != null) {
            tcpVia.sendRequest(up);
        } else {
            (viaFast ? f.upstream() : plainUpstream).sendRequest(up);
        }
    }

    private volatile TcpUpstreams tcpUpstreams;

    /** Where requests to coap+tcp and coaps+tcp origins leave (RFC 8323); without it they get 5.02. */
    void tcpUpstreams(TcpUpstreams t) {
        tcpUpstreams = t;
    }

    /** Whether {@code leg} ends at a coap+tcp or coaps+tcp origin (not a next proxy). */
    private static boolean tcpLeg(Leg leg) {
        return leg.key() != null && leg.key().tcp() && !leg.toProxy();
    }

    /**
     * The endpoint towards {@code leg}'s TCP origin, or null once the client was answered: 5.03
     * with Max-Age past a limit, else the refusal's code (5.02); the exchange's slot is released.
     */
    private Endpoint tcpViaOrAnswer(Exchange exchange, Leg leg) {
        TcpUpstreams t = tcpUpstreams;
        try {
            if (t == null) {
                throw new ForwardTarget.Refusal(ResponseCode.BAD_GATEWAY, "no TCP upstream configured");
            }
            return t.endpoint(leg.key());
        } catch (ForwardTarget.Refusal r) {
            metrics.inFlight().decrementAndGet();
            if (r.code() == ResponseCode.SERVICE_UNAVAILABLE) {
                overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, r.getMessage());
            } else {
                answer(exchange, r.code(), r.getMessage(), ProxyMetrics.Outcome.BAD_GATEWAY);
            }
            return null;
        }
    }

    /**
     * The answer of an origin hop this proxy protected, as the client may see it: an Echo visible
     * after the proxy removed its own upstream layer was the origin's challenge to this proxy (its
     * endpoint answered one already), not the client's to answer in the client's hop (RFC 9175
     * 2.4). Not on a leg to a next proxy, which may pass on its origin's Echo for the client; not
     * for relayed notifications yet.
     */
    private static Response ownHopRemoved(Response fromHop) {
        int echo = org.eclipse.californium.core.coap.option.StandardOptionRegistry.ECHO.getNumber();
        if (fromHop.getOptions().getOtherOption(echo) == null) {
            return fromHop;
        }
        Response copy = downstreamResponse(fromHop);
        copy.getOptions().clearOtherOption(echo);
        copy.setSourceContext(fromHop.getSourceContext());
        copy.setBytes(fromHop.getBytes()); // the code as it came, for a code Californium has no constant for
        return copy;
    }

    private static boolean isInvalidating(ResponseCode c) {
        return c == ResponseCode.CREATED || c == ResponseCode.DELETED || c == ResponseCode.CHANGED;
    }

    private void relay(Exchange exchange, Request req, Response fromOrigin, ResponseCache.Key key,
                       ResponseCache.Entry revalidating, ForwardTarget target, Leg leg) {
        boolean hopLeg = originContexts.containsKey(leg.key());
        String refused = refusal(req, fromOrigin, hopLeg);
        if (refused != null) {
            answer(exchange, ResponseCode.BAD_GATEWAY, refused, ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        if (hopLeg && !leg.toProxy()) {
            fromOrigin = ownHopRemoved(fromOrigin);
        }
        Response toSend;
        if (revalidating != null && fromOrigin.getCode() == ResponseCode.VALID) {
            cache.refresh(key, revalidating, fromOrigin);
            toSend = cache.serve(revalidating);
            metrics.outcome(ProxyMetrics.Outcome.REVALIDATED);
        } else {
            if (key != null && cache.storable(req, fromOrigin)) {
                cache.store(key, fromOrigin, target);
            } else if (cache != null && key == null && !req.getOptions().hasObserve() && !req.getOptions().hasOscore()
                    && isInvalidating(fromOrigin.getCode())) {
                // an OSCORE request hides its method: its outer POST and 2.04 invalidate nothing
                cache.invalidate(target);
            }
            toSend = downstreamResponse(fromOrigin);
            metrics.outcome(ProxyMetrics.Outcome.FORWARDED);
        }
        exchange.sendResponse(toSend);
    }

    /**
     * Why the origin's answer to {@code req} cannot go to the client as it is, or null.
     * <ul>
     * <li>An unprotected answer from an origin the proxy protects requests for: only an OSCORE
     * error may be unprotected, and relaying it would give an unauthenticated answer the
     * protection of the client's hop, so it is a 5.02 (M6).
     * <li>An option the proxy does not recognise (the upstream parser keeps them): RFC 7252
     * Section 5.7.1 makes an unrecognised critical or unsafe one a 5.02 and has a Safe-to-Forward
     * one passed on; when the proxy protects the response on the client's hop it must recognise
     * every option (oscore-capable-proxies, OCP-02), so any unrecognised one is a 5.02.
     * </ul>
     */
    String refusal(Request req, Response fromOrigin, boolean originHop) {
        if (originHop && OscorePeer.isUnprotected(fromOrigin)) {
            return UpstreamFailures.UNPROTECTED + " (" + codeOf(fromOrigin) + ")";
        }
        if (originHop && fromOrigin.getOptions().hasOscore() && !req.getOptions().hasOscore()) {
            // OCP-08: an OSCORE option left after removing every layer this proxy added, with none in the request
            return "an OSCORE option is left after removing the proxy's layer (OCP-08)";
        }
        List<Option> others = fromOrigin.getOptions().getOthers();
        if (others.isEmpty()) {
            return null;
        }
        boolean protectedHop = OscorePeer.of(req) != null;
        for (Option o : others) {
            int n = o.getNumber();
            if (recognised.getDefinitionByNumber(n) == null
                    && (protectedHop || OptionNumberRegistry.isCritical(n) || OptionNumberRegistry.isUnsafe(n))) {
                return "origin response carries option " + n + ", which the proxy does not recognise";
            }
        }
        return null;
    }

    private static String codeOf(Response r) {
        byte[] wire = r.getBytes();
        int at = codeOffset(wire, r.getSourceContext() instanceof org.eclipse.californium.elements.TcpEndpointContext);
        int raw = at > 0 ? wire[at] & 0xff : r.getRawCode();
        return (raw >> 5) + "." + String.format("%02d", raw & 0x1f);
    }

    private void serveFromCache(Exchange exchange, Request req, ResponseCache.Entry stored) {
        Response r = cache.serve(stored);
        if (stored.etag != null) {
            for (byte[] etag : req.getOptions().getETags()) {
                if (java.util.Arrays.equals(etag, stored.etag)) {
                    Response valid = new Response(ResponseCode.VALID);
                    valid.getOptions().addETag(stored.etag);
                    valid.getOptions().setMaxAge(r.getOptions().getMaxAge());
                    r = valid;
                    break;
                }
            }
        }
        metrics.outcome(ProxyMetrics.Outcome.CACHE_HIT);
        exchange.sendResponse(r);
    }

    /**
     * A request for a configured group (groupcomm-proxy Section 5.2, digest 5.3): the allow-list
     * for this client and group (4.01), Multicast-Timeout required (4.00 carrying an empty one,
     * GPX-03), a Token reused while its collection runs (4.00, the old collection stopped:
     * groupcomm-bis 3.5.2, GCB-07), Hop-Limit; then the request goes to the group without
     * Multicast-Timeout (GPX-04) and {@link GroupForwarder} relays the responses.
     */
    /** GET, an empty Multicast-Timeout, no proxy and no URI options (groupcomm-proxy 5.1.3). */
    private boolean isEarlyStopShape(Request r) {
        if (r.getCode() != org.eclipse.californium.core.coap.CoAP.Code.GET) {
            return false;
        }
        Option mt = ForwardTarget.other(r.getOptions(), numbers.multicastTimeout());
        if (mt == null || mt.getLength() != 0 && !allZero(mt.getValue())) {
            return false;
        }
        org.eclipse.californium.core.coap.OptionSet o = r.getOptions();
        return !ForwardTarget.hasProxyOptions(r, numbers) && !o.hasUriHost() && !o.hasUriPort() && o.getURIPathCount() == 0
                && o.getURIQueryCount() == 0;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    /** The resource a group observation's relation is for (Californium keeps relations per resource). */
    private final org.eclipse.californium.core.CoapResource groupObservations =
            new org.eclipse.californium.core.CoapResource("group observations", true) {
                {
                    setObservable(true);
                }
            };

    /** The route name prefix of a follow-up request's target: the name of the group the server answered for follows. */
    static final String FOLLOW_UP = "follow-up of group ";

    private static boolean standsInForServers(ForwardTarget target, Policy pol) {
        if (target.viaRoute() == null) {
            return false;
        }
        for (ProxyConfig.Route r : pol.routes()) {
            if (r.name().equals(target.viaRoute())) {
                return r.standInForServers();
            }
        }
        return false;
    }

    /**
     * A follow-up request (groupcomm-proxy Section 5.4, GPX-13): no proxy option, and Uri-Host and
     * Uri-Port (5683 when absent) naming a server that this proxy stands in for, as the reference
     * of a Reply-From it gave: the request goes to that server.
     */
    private static ForwardTarget followUp(Request req, GroupForwarder g) {
        org.eclipse.californium.core.coap.OptionSet o = req.getOptions();
        if (g == null || !o.hasUriHost()) {
            return null;
        }
        String host = o.getUriHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (!ForwardTarget.looksNumeric(host)) {
            return null;
        }
        String ip = ForwardTarget.canonicalIp(host);
        if (ip == null) {
            return null;
        }
        int port = o.hasUriPort() ? o.getUriPort() : 5683;
        InetSocketAddress server;
        try {
            server = new InetSocketAddress(InetAddress.getByName(ip), port); // a literal: nothing is looked up
        } catch (java.net.UnknownHostException e) {
            return null;
        }
        String group = g.standingInFor(server);
        return group == null ? null : new ForwardTarget(new ProxyConfig.Origin(ip, port), false, o.getUriPath(), o.getUriQuery(),
                FOLLOW_UP + group);
    }

    private void toGroup(Exchange exchange, Request req, ProxyConfig.ClientId client, ForwardTarget target,
                         ProxyConfig.Group group, Integer hopLimit, boolean standInForServers) {
        GroupForwarder g = groups;
        if (!policy.access().allows(client, target, group.name())) {
            LOG.info("denied: client {} to group {}", client, group.name());
            answer(exchange, ResponseCode.UNAUTHORIZED, "Forwarding not authorised", ProxyMetrics.Outcome.DENIED);
            return;
        }
        Long tPrime = g.multicastTimeout(req);
        if (tPrime == null) {
            metrics.outcome(ProxyMetrics.Outcome.BAD_REQUEST);
            Response r = new Response(ResponseCode.BAD_REQUEST);
            r.getOptions().addOption(new Option(numbers.multicastTimeout(), new byte[0]));
            r.getOptions().setContentFormat(0).setMaxAge(0);
            r.setPayload("a group request needs Multicast-Timeout");
            exchange.sendResponse(r);
            return;
        }
        if (ForwardTarget.other(req.getOptions(), numbers.listenToMulticastResponses()) != null) {
            answer(exchange, ResponseCode.BAD_OPTION, "Listen-To-Multicast-Responses is not supported",
                    ProxyMetrics.Outcome.BAD_OPTION);
            return;
        }
        GroupForwarder.Collection running = g.runningFor(req);
        if (running != null) {
            if (running.client.equals(client)) {
                g.stop(running); // the same client (address, Token and identity) reusing its Token: GCB-07
            }
            answer(exchange, ResponseCode.BAD_REQUEST, "the Token is in use by a running group request",
                    ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        int nextHop = hopLimit == null ? limits.hopLimit() : hopLimit - 1;
        if (nextHop == 0) {
            metrics.outcome(ProxyMetrics.Outcome.HOP_LIMIT);
            Response r = new HopLimitReached();
            r.setPayload(ownName(req));
            r.getOptions().setContentFormat(0).setMaxAge(0);
            exchange.sendResponse(r);
            return;
        }
        boolean observe = req.getOptions().hasObserve() && req.getOptions().getObserve() == 0
                && (req.getCode() == org.eclipse.californium.core.coap.CoAP.Code.GET
                || req.getCode() == org.eclipse.californium.core.coap.CoAP.Code.FETCH);
        if (observe && metrics.observers().get() >= limits.observers()) {
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many observers");
            return;
        }
        Leg leg = new Leg(new InetSocketAddress(group.address(), group.port()), null, false);
        Request up = upstreamRequest(req, target, nextHop, leg);
        up.getOptions().clearOtherOption(numbers.multicastTimeout());
        if (observe) {
            // a group observation (groupcomm-bis 3.7): the registration goes to the group; the client's exchange gets an
            // Observe relation, on which every server's notifications are relayed
            up.getOptions().setObserve(0);
            attachObserver(exchange, groupObservations);
        }
        up.getOptions().clearOtherOption(numbers.groupEtag()); // for this proxy (GPX-09), never for the servers
        if (!takeSlot(exchange)) {
            return;
        }
        InetSocketAddress own = standInForServers ? exchange.getEndpoint().getAddress() : null;
        String why = g.forward(exchange, client, group, up, tPrime,
                dev.coterie.oscore.OscoreEndpointBuilder.layerOf(exchange.getEndpoint()), target, own);
        if (GroupForwarder.TOO_MANY.equals(why)) {
            metrics.inFlight().decrementAndGet();
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, why);
            return;
        }
        if (why != null) {
            metrics.inFlight().decrementAndGet();
            answer(exchange, ResponseCode.BAD_GATEWAY, why, ProxyMetrics.Outcome.BAD_GATEWAY);
        }
    }

    /**
     * A group request this proxy sends on to the next proxy of a chain (groupcomm-proxy Section
     * 8, GPX-10): its Token lives for the client's T', so the next proxy gets T'' = T' minus
     * chain_margin_s, which is below both; when that leaves nothing (T' > 0 but T'' < 1), 5.05
     * carrying the smallest T' this proxy accepts. T' = 0 goes on as 0.
     */
    private void viaNextProxy(Exchange exchange, Request req, ProxyConfig.ClientId client, ForwardTarget target, int nextHop,
                              Leg leg) {
        GroupForwarder g = groups;
        if (!policy.access().allows(client, target)) {
            LOG.info("denied: client {} to {}", client, printable(target.uri()));
            answer(exchange, ResponseCode.UNAUTHORIZED, "Forwarding not authorised", ProxyMetrics.Outcome.DENIED);
            return;
        }
        long tPrime = Math.min(g.multicastTimeout(req), g.maxMulticastTimeout()); // the T' this proxy keeps its Token for
        long margin = g.chainMargin();
        if (tPrime > 0 && tPrime - margin < 1) {
            metrics.outcome(ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY);
            Response r = new Response(ResponseCode.PROXY_NOT_SUPPORTED);
            r.getOptions().addOption(new Option(numbers.multicastTimeout(), margin + 1));
            r.getOptions().setMaxAge(0);
            exchange.sendResponse(r);
            return;
        }
        GroupForwarder.Collection running = g.runningFor(req);
        if (running != null) {
            if (running.client.equals(client)) {
                g.stop(running); // the same client (address, Token and identity) reusing its Token: GCB-07
            }
            answer(exchange, ResponseCode.BAD_REQUEST, "the Token is in use by a running group request",
                    ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        Request up = upstreamRequest(req, target, nextHop, leg);
        up.getOptions().clearOtherOption(numbers.multicastTimeout());
        up.getOptions().addOption(new Option(numbers.multicastTimeout(), tPrime == 0 ? 0 : tPrime - margin));
        if (req.getOptions().hasObserve()) {
            up.getOptions().setObserve(req.getOptions().getObserve()); // a group observation through the chain
        }
        if (!takeSlot(exchange)) {
            return;
        }
        OscoreContext hop = originContexts.get(leg.key());
        String why = g.forwardChained(exchange, client, up, tPrime,
                dev.coterie.oscore.OscoreEndpointBuilder.layerOf(exchange.getEndpoint()), leg.address(),
                hop == null ? null : dev.coterie.oscore.RequestProtector.forProxy(hop.protector()));
        if (GroupForwarder.TOO_MANY.equals(why)) {
            metrics.inFlight().decrementAndGet();
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, why);
            return;
        }
        if (why != null) {
            metrics.inFlight().decrementAndGet();
            answer(exchange, ResponseCode.BAD_GATEWAY, why, ProxyMetrics.Outcome.BAD_GATEWAY);
        }
    }

    /** An RST a front endpoint received: it may stop a group collection (GPX-07). */
    void reset(org.eclipse.californium.core.coap.EmptyMessage rst) {
        GroupForwarder g = groups;
        if (g != null) {
            g.reset(rst);
        }
    }

    private volatile ProxyConfig.GroupObservations multicastObservations;
    private volatile TicketRelay tickets;

    /** Taking part in group observations for the observers behind this proxy (null: off). */
    void groupObservations(ProxyConfig.GroupObservations g) {
        multicastObservations = g;
        tickets = g == null ? null : new TicketRelay(numbers, metrics, limits, timer, recognised, joinedGroupObservations,
                (client, notification) -> refusal(client, notification, false), (e, relay) -> {
                    attachObserver(e, relay);
                    relay.handleRequest(e);
                }, this::answer);
    }

    /**
     * A ticket request (multicast-notifications-proxy Section 4.2, MNP-02), its target allowed for
     * the client. At the proxy next to the server (no next_proxy, or a reverse route) it is never
     * forwarded: with group_observations, {@link TicketRelay} takes it; without, the option is
     * critical and unsafe and not acted on, RFC 7252 5.4.1 / 5.7.1's 4.02. A proxy with next_proxy
     * is not the last one and forwards it on (false), Proxy-* and the option kept, as Section 4.2
     * has every proxy of a chain do.
     */
    private boolean ticket(Exchange exchange, Request req, ForwardTarget target) {
        if (nextProxy != null && target.viaRoute() == null) {
            return false;
        }
        TicketRelay t = tickets;
        ProxyConfig.GroupObservations g = multicastObservations;
        if (t == null || g == null) {
            answer(exchange, ResponseCode.BAD_OPTION, "Listen-To-Multicast-Responses is not supported",
                    ProxyMetrics.Outcome.BAD_OPTION);
        } else {
            t.handle(exchange, req, target, g);
        }
        return true;
    }

    /** Group observations that ticket clients share (for tests). */
    int ticketRelayCount() {
        TicketRelay t = tickets;
        return t == null ? 0 : t.count();
    }

    /**
     * An unprotected informative response to an unprotected registration (observe-multicast-notifications 4.2)
     * on a leg without an OSCORE hop context: where the proxy protects the leg to the origin, an unprotected 5.03
     * is anyone's (OSCORE lets unprotected errors through) and is never taken as one, nor would its plaintext
     * multicast notifications be what the protected leg promised (digest 6.6).
     */
    private boolean informative(Response r, Request up, boolean originHop) {
        ProxyConfig.GroupObservations g = multicastObservations;
        return g != null && !originHop && !OscorePeer.isUnprotected(r) && r.getCode() == ResponseCode.SERVICE_UNAVAILABLE
                && !r.getOptions().hasObserve() && r.getOptions().getContentFormat() == g.contentFormat()
                && !r.getOptions().hasOscore() && (!up.getOptions().hasOscore() || isDeterministic(up))
                && joinedGroupObservations.get() < g.maxJoined();
    }

    /** The number of Request-Hash (cacheable-oscore 3.2), as the proxy's option registry has it. */
    private static final int REQUEST_HASH = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.REQUEST_HASH).number();

    /**
     * A deterministic request (cacheable-oscore 3.3) as an OSCORE-unaware proxy sees one: OSCORE
     * and Request-Hash. The deterministic-phantom variant (multicast-notifications-proxy Appendix
     * C, MNP-06): the client sends the deterministic phantom as its registration, without
     * Listen-To-Multicast-Responses, the proxy forwards it as any request, and the server answers
     * with an unprotected informative response.
     */
    static boolean isDeterministic(Request r) {
        return r.getOptions().hasOscore() && ForwardTarget.other(r.getOptions(), REQUEST_HASH) != null;
    }

    /**
     * MNP-06 (multicast-notifications-proxy Appendix C step 9, observe-multicast-notifications
     * App. D): "If the informative response includes the 'ph_req' parameter and this specifies
     * transport-independent information different from the one of the sent Deterministic
     * Request, then the proxy considers the informative response malformed." Why it is
     * malformed, or null: {@code up} is not deterministic, or ph_req is absent, or it is byte for
     * byte the code, options and payload of {@code up} as the proxy sent it. A payload that does
     * not decode is left to the checks of the join.
     */
    static String deterministicPhReqMismatch(Response informative, Request up) {
        if (!isDeterministic(up)) {
            return null;
        }
        dev.coterie.oscore.InformativeResponse ir;
        try {
            ir = dev.coterie.oscore.InformativeResponse.decode(informative.getPayload());
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (ir.phReq() == null || java.util.Arrays.equals(ir.phReq(), dev.coterie.oscore.TransportIndependent.encode(up))) {
            return null;
        }
        return "malformed informative response: its ph_req is not the deterministic request forwarded (MNP-06)";
    }

    /** Group observations this proxy listens to now (each a socket and a thread): at most group_observations.max_joined. */
    private final java.util.concurrent.atomic.AtomicInteger joinedGroupObservations = new java.util.concurrent.atomic.AtomicInteger();

    /** Ends every relayed observation (the proxy stops): upstream registrations are cancelled, group listeners closed. */
    void closeRelays() {
        for (ObserveRelay r : relays.values()) {
            r.cancelUpstream();
        }
        relays.clear();
        TicketRelay t = tickets;
        if (t != null) {
            t.close();
        }
    }

    /**
     * The proxy next to the server as the client of the group observation
     * (multicast-notifications-proxy Section 3): it checks the informative response as a client
     * does (digest 6.4), listens to the group, and every notification from there, last_notif
     * first, goes into the relay as if the server had sent it to the proxy's own registration:
     * each observer gets it with its own Token. With no last_notif, the waiting observers' CON
     * registrations get an empty ACK (MNP-05). The informative response itself never reaches an
     * observer. False when the informative response cannot be used: it is then relayed as it is.
     */
    private boolean joinGroupObservation(Response informative, Request up, ObserveRelay relay,
                                         java.util.function.Consumer<Response> into) {
        ProxyConfig.GroupObservations g = multicastObservations;
        org.eclipse.californium.core.coap.Token t = informative.getToken();
        int feedbackDivider = numbers.feedbackDivider();
        java.util.concurrent.atomic.AtomicReference<ScheduledFuture<?>> silence = new java.util.concurrent.atomic.AtomicReference<>();
        // a group observation that goes silent (its 5.03 lost, the server gone) ends: the observers get 5.04 and may
        // register again; the server sends at least one notification per Max-Age (OMN-05)
        java.util.function.LongConsumer watch = seconds -> {
            ScheduledFuture<?> old = silence.getAndSet(timer.schedule(() -> {
                Response end = new Response(ResponseCode.GATEWAY_TIMEOUT);
                end.setToken(t);
                end.setPayload("the group observation went silent");
                into.accept(end);
            }, seconds, TimeUnit.SECONDS));
            if (old != null) {
                old.cancel(false);
            }
        };
        // MNP-07: the proxy answers a Feedback-Divider itself (to the server its registration went to), never relays it
        dev.coterie.oscore.FeedbackAnswer[] feedback = new dev.coterie.oscore.FeedbackAnswer[1];
        try {
            joinedGroupObservations.incrementAndGet();
            feedback[0] = up.getDestinationContext() == null ? null
                    : ProxyFeedback.answer(up, up.getDestinationContext().getPeerAddress(), feedbackDivider, g.feedbackLeisureMs());
            dev.coterie.oscore.GroupObservationClient c = dev.coterie.oscore.GroupObservationClient.join(informative, up,
                    g.contentFormat(), dev.coterie.oscore.GroupObservationClient.networkInterface(g.networkInterface()),
                    recognised, new dev.coterie.oscore.GroupObservationClient.Listener() {
                        @Override
                        public void notification(Response n, boolean fromLastNotif) {
                            if (!fromLastNotif) {
                                metrics.groupNotification(); // multicast notifications only, not last_notif
                            }
                            Response copy = new Response(n.getCode()); // a parsed message is sealed: a copy takes the Token
                            copy.setOptions(n.getOptions());
                            // MNP-07: answered by the proxy (feedback), never passed on to an observer
                            copy.getOptions().clearOtherOption(feedbackDivider);
                            copy.setPayload(n.getPayload());
                            copy.setType(org.eclipse.californium.core.coap.CoAP.Type.NON);
                            copy.setToken(t);
                            copy.setSourceContext(n.getSourceContext());
                            long maxAge = n.getOptions().hasMaxAge() ? n.getOptions().getMaxAge() : 60;
                            watch.accept(maxAge + SILENCE_MARGIN_S);
                            into.accept(copy);
                        }

                        @Override
                        public void ended(String why) {
                            Response end = new Response(ResponseCode.SERVICE_UNAVAILABLE);
                            end.setToken(t);
                            into.accept(end); // the server's cancellation ends every observer's relation
                        }
                    }, feedback[0]);
            c.feedbackOption(feedbackDivider);
            relay.registration(null); // nothing to cancel upstream: the proxy just stops listening (digest 6.3)
            relay.groupJoined();
            relay.onEnd(() -> {
                c.close();
                if (feedback[0] != null) {
                    feedback[0].close();
                }
                ScheduledFuture<?> f = silence.get();
                if (f != null) {
                    f.cancel(false);
                }
                joinedGroupObservations.decrementAndGet();
            });
            if (relay.isClosed()) {
                c.close(); // it ended while joining
            }
            metrics.outcome(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED);
            if (!relay.hasNotification()) {
                watch.accept(Math.max(1, limits.upstreamTimeoutMs() / 1000));
                for (Exchange e : relay.waiting()) {
                    if (e.getRequest().isConfirmable()) {
                        e.execute(e::sendAccept); // MNP-05: no latest notification yet, an empty ACK
                    }
                }
            }
            return true;
        } catch (dev.coterie.oscore.GroupObservationClient.Withdraw | java.io.IOException | IllegalArgumentException
                 | IllegalStateException e) {
            if (feedback[0] != null) {
                feedback[0].close();
            }
            joinedGroupObservations.decrementAndGet();
            LOG.info("an informative response that this proxy cannot take part in, relayed as it is: {}", e.getMessage());
            return false;
        }
    }

    /**
     * A client's answer to a Feedback-Divider exactly as observe-multicast-notifications 8.2 shapes
     * it: GET, Observe 0, Feedback-Divider 0 (empty or one zero byte) and No-Response 26. Anything
     * else carrying the option takes the ordinary path (an Observe relay, the cache), so the
     * option cannot be used to open upstream observations that no relay owns.
     */
    static boolean isFeedbackConfirmation(Request req, int feedbackDivider) {
        org.eclipse.californium.core.coap.Option fd = ForwardTarget.other(req.getOptions(), feedbackDivider);
        if (fd == null || req.getCode() != org.eclipse.californium.core.coap.CoAP.Code.GET
                || !Integer.valueOf(0).equals(req.getOptions().getObserve()) || fd.getLength() > 1
                || fd.getLength() == 1 && fd.getValue()[0] != 0) {
            return false;
        }
        org.eclipse.californium.core.coap.NoResponseOption nr = req.getOptions().getNoResponse();
        return nr != null && nr.getMask() == dev.coterie.oscore.FeedbackAnswer.NO_RESPONSE_ALL;
    }

    /** Seconds past a notification's Max-Age after which a silent group observation is ended. */
    static final long SILENCE_MARGIN_S = 30;

    /**
     * Observe through the proxy (RFC 7641 Section 5): one upstream registration per resource
     * (the cache key of the request without Observe), fanned out to every observer.
     */
    private void observe(Exchange exchange, Request req, ForwardTarget target, int nextHop, Leg leg) {
        ResponseCache.Key key = ResponseCache.key(req, target, numbers);
        boolean register = req.getOptions().getObserve() == 0;
        ObserveRelay relay = relays.get(key);
        if (!register) {
            // a deregistration (Observe 1): Californium ends the relation; the answer is the latest notification
            if (relay != null && relay.hasNotification()) {
                attachObserver(exchange, relay);
                relay.handleRequest(exchange);
            } else {
                forwardPlain(exchange, req, target, nextHop, leg);
            }
            return;
        }
        if (relay != null && relay.hasNotification() && !relay.isClosed()) {
            ProxyConfig.GroupObservations gobs = multicastObservations;
            if (metrics.observers().get() >= limits.observers()
                    || gobs != null && relay.getObserverCount() >= gobs.maxObservers()) {
                overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many observers");
                return;
            }
            metrics.outcome(ProxyMetrics.Outcome.OBSERVE_JOINED);
            attachObserver(exchange, relay);
            relay.handleRequest(exchange);
            return;
        }
        if (relay != null && multicastObservations != null && relay.waitingCount() >= multicastObservations.maxObservers()) {
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many observers waiting");
            return;
        }
        ObserveRelay.First queued = relay == null ? ObserveRelay.First.OVER : relay.awaitFirst(exchange);
        if (queued == ObserveRelay.First.LATEST) {
            // the first notification arrived since hasNotification() above: attach now, or no one would answer
            metrics.outcome(ProxyMetrics.Outcome.OBSERVE_JOINED);
            attachObserver(exchange, relay);
            relay.handleRequest(exchange);
            return;
        }
        if (queued == ObserveRelay.First.WAITING) {
            if (relay.isGroupJoined() && exchange.getRequest().isConfirmable()) {
                exchange.sendAccept(); // MNP-05: a group observation without a latest notification yet
            }
            return; // answered with the first notification
        }
        if (metrics.observers().get() >= limits.observers()) {
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many observers");
            return;
        }
        Request up = upstreamRequest(req, target, nextHop, leg);
        up.getOptions().setObserve(0);
        if (!takeSlot(exchange)) {
            return;
        }
        OscoreContext hop = originContexts.get(leg.key());
        if (hop != null && up.getOptions().hasOscore() && !leg.toProxy()) {
            metrics.inFlight().decrementAndGet();
            answer(exchange, ResponseCode.BAD_GATEWAY, "nested OSCORE towards this origin is not supported",
                    ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        Endpoint via = hop != null ? oscoreUpstream : plainUpstream;
        if (hop == null && tcpLeg(leg) && (via = tcpViaOrAnswer(exchange, leg)) == null) {
            return;
        }
        Endpoint viaFinal = via;
        java.util.function.Consumer<Request> send = r -> {
            if (hop != null) {
                bindHop(r, hop, leg);
            }
            viaFinal.sendRequest(r);
        };
        boolean originHop = hop != null;
        ObserveRelay fresh = new ObserveRelay(key, via, send, metrics, () -> relays.remove(key),
                (client, notification) -> refusal(client, notification, originHop));
        ObserveRelay raced = relays.putIfAbsent(key, fresh);
        if (raced != null) {
            metrics.inFlight().decrementAndGet();
            ObserveRelay.First q = raced.awaitFirst(exchange);
            if (q == ObserveRelay.First.LATEST) {
                metrics.outcome(ProxyMetrics.Outcome.OBSERVE_JOINED);
                attachObserver(exchange, raced);
                raced.handleRequest(exchange);
            } else if (q == ObserveRelay.First.OVER) {
                forwardPlain(exchange, req, target, nextHop, leg);
            }
            return;
        }
        fresh.await(exchange);
        fresh.registration(up);
        AtomicBoolean first = new AtomicBoolean(true);
        // an observation's Token outlives its exchange: the long-term scope Californium itself gives registrations
        Token token = tokens.createToken(TokenGenerator.Scope.LONG_TERM);
        up.setToken(token);
        java.util.concurrent.atomic.AtomicReference<String> unusable = new java.util.concurrent.atomic.AtomicReference<>();
        ScheduledFuture<?> timeout = timer.schedule(() -> {
            if (first.compareAndSet(true, false)) {
                metrics.inFlight().decrementAndGet();
                failures.forget(token);
                relays.remove(key, fresh);
                up.cancel();
                String why = unusable.get();
                for (Exchange e : fresh.end()) {
                    answer(e, why != null ? ResponseCode.BAD_GATEWAY : ResponseCode.GATEWAY_TIMEOUT, why,
                            why != null ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.TIMEOUT);
                }
            }
        }, limits.upstreamTimeoutMs(), TimeUnit.MILLISECONDS);
        Response[] lastSeen = new Response[1];
        var observer = new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                synchronized (lastSeen) {
                    if (lastSeen[0] == response) {
                        return; // delivered both to the request and to the endpoint's listener
                    }
                    lastSeen[0] = response;
                }
                boolean isFirst = first.compareAndSet(true, false);
                if (isFirst && response.getOptions().hasObserve() && response.getToken() != null) {
                    notifications.put(response.getToken(), this::onResponse);
                    fresh.onEnd(() -> notifications.remove(response.getToken()));
                }
                if (isFirst) {
                    timeout.cancel(false);
                    failures.forget(token);
                    metrics.inFlight().decrementAndGet();
                }
                boolean informative = isFirst && informative(response, up, originHop);
                String malformed = informative ? deterministicPhReqMismatch(response, up) : null;
                if (malformed != null) {
                    // MNP-06: the proxy, as the client of the group observation, does not take part in it (digest 6.4
                    // step 7: it withdraws); the waiting observers get 5.02, the upstream answer being unusable
                    LOG.info("{}", malformed);
                    relays.remove(key, fresh);
                    for (Exchange e : fresh.end()) {
                        answer(e, ResponseCode.BAD_GATEWAY, malformed, ProxyMetrics.Outcome.BAD_GATEWAY);
                    }
                    return;
                }
                if (informative && joinGroupObservation(response, up, fresh, this::onResponse)) {
                    return; // the observers are answered from the group observation's notifications (MNP-04, MNP-05)
                }
                if (!response.getOptions().hasObserve() || !response.isSuccess()) {
                    // not (or no longer) observable: the waiting observers get this answer, the relay ends
                    relays.remove(key, fresh);
                    List<Exchange> waiting = fresh.end();
                    for (Exchange e : waiting) {
                        String refused = refusal(e.getRequest(), response, originHop);
                        if (refused != null) {
                            answer(e, ResponseCode.BAD_GATEWAY, refused, ProxyMetrics.Outcome.BAD_GATEWAY);
                        } else {
                            metrics.outcome(ProxyMetrics.Outcome.FORWARDED);
                            e.sendResponse(downstreamResponse(response));
                        }
                    }
                    if (!isFirst) {
                        fresh.notification(response);
                        fresh.changed(); // the error ends every relation (RFC 7641 3.2)
                    }
                    return;
                }
                List<Exchange> waiting = fresh.notification(response);
                if (!isFirst) {
                    // the established relations first: a waiting observer attached before changed() enumerated the
                    // relations would get this notification twice (seen in the demo's alarm under TRACE logging)
                    fresh.changed();
                }
                for (Exchange e : waiting) {
                    metrics.outcome(ProxyMetrics.Outcome.FORWARDED);
                    // the relation belongs to the observer's exchange: set it up on that exchange's executor
                    e.execute(() -> {
                        attachObserver(e, fresh);
                        fresh.handleRequest(e);
                    });
                }
            }

            @Override
            public void onReject() {
                fail(ResponseCode.BAD_GATEWAY, ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            @Override
            public void onSendError(Throwable error) {
                fail(ResponseCode.BAD_GATEWAY, ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            @Override
            public void onTimeout() {
                String why = unusable.get();
                fail(why != null ? ResponseCode.BAD_GATEWAY : ResponseCode.GATEWAY_TIMEOUT, why,
                        why != null ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.TIMEOUT);
            }

            private void fail(ResponseCode code, ProxyMetrics.Outcome outcome) {
                fail(code, null, outcome);
            }

            void fail(ResponseCode code, String diagnostic, ProxyMetrics.Outcome outcome) {
                if (first.compareAndSet(true, false)) {
                    timeout.cancel(false);
                    failures.forget(token);
                    metrics.inFlight().decrementAndGet();
                    relays.remove(key, fresh);
                    for (Exchange e : fresh.end()) {
                        answer(e, code, diagnostic, outcome);
                    }
                }
            }
        };
        up.addMessageObserver(observer);
        // until the first answer: one the upstream endpoint throws away is dropped; if no usable one follows by the
        // timeout, every waiting observer gets 5.02 with the reason
        failures.watch(token, leg.address(), unusable::set);
        send.accept(up);
    }

    /** A request forwarded once, without Observe (a deregistration nobody relays). */
    private void forwardPlain(Exchange exchange, Request req, ForwardTarget target, int nextHop, Leg leg) {
        Request up = upstreamRequest(req, target, nextHop, leg);
        if (!takeSlot(exchange)) {
            return;
        }
        send(exchange, req, up, target, leg, null, null);
    }

    /** The hop layer towards the next hop: for a next proxy, with the proxy-related options encrypted for it (digest 4.2). */
    private void bindHop(Request up, OscoreContext hop, Leg leg) {
        originBinding.bind(up, leg.toProxy() ? dev.coterie.oscore.RequestProtector.forProxy(hop.protector()) : hop.protector());
    }

    /** A notification the upstream endpoint delivered to its listeners (RFC 7641: after the first response). */
    void onNotification(Request registration, Response response) {
        java.util.function.Consumer<Response> h = response.getToken() == null ? null : notifications.get(response.getToken());
        if (h != null) {
            h.accept(response);
        }
    }

    /** Relayed observations (for tests and metrics). */
    int relayCount() {
        return relays.size();
    }

    /**
     * The request to the next hop. To the origin: the client's options without the proxy and URI
     * ones, the target's URI, Hop-Limit. To the next proxy of a chain: the client's options as
     * they came, proxy-related and URI options included, with this proxy's Hop-Limit.
     */
    private Request upstreamRequest(Request req, ForwardTarget target, int hopLimit, Leg leg) {
        Request up = new Request(req.getCode(), req.getType());
        up.setDestinationContext(new AddressEndpointContext(leg.address()));
        OptionSet o = up.getOptions();
        for (Option opt : req.getOptions().asSortedList()) {
            int n = opt.getNumber();
            if (leg.toProxy()) {
                if (n != ExtensionOptionRegistry.HOP_LIMIT.getNumber() && n != OptionNumberRegistry.OBSERVE) {
                    o.addOption(opt);
                }
                continue;
            }
            if (ForwardTarget.isForwardProxyOption(n, numbers) || n == OptionNumberRegistry.URI_HOST
                    || n == OptionNumberRegistry.URI_PORT || n == OptionNumberRegistry.URI_PATH
                    || n == OptionNumberRegistry.URI_QUERY || n == ExtensionOptionRegistry.HOP_LIMIT.getNumber()
                    || n == OptionNumberRegistry.OBSERVE) {
                continue;
            }
            o.addOption(opt);
        }
        if (!leg.toProxy()) {
            if (target.hostIsName()) {
                o.setUriHost(target.origin().host());
            }
            for (String seg : target.path()) {
                o.addUriPath(seg);
            }
            for (String q : target.query()) {
                o.addUriQuery(q);
            }
        }
        if (leg.toProxy() || !isDeterministic(req)) {
            // not on the last hop of a deterministic request: its outer options are what every client's copy has in
            // common (the cache key, DET-10) and what a server byte-compares with its deterministic phantom (OMN-13,
            // MNP-06); the origin server is the last hop, where a hop limit has nothing left to count
            o.addOption(ExtensionOptionRegistry.HOP_LIMIT.create(hopLimit));
        }
        byte[] p = req.getPayload();
        if (p != null && p.length > 0) {
            if (!up.isIntendedPayload()) {
                up.setUnintendedPayload();
            }
            up.setPayload(p.clone());
        }
        return up;
    }

    /**
     * Where the code byte of the message {@code wire} is, or -1: byte 1 of a UDP header (RFC 7252
     * 3); in an RFC 8323 frame it follows Len/TKL and the 0, 1, 2 or 4 bytes of extended length
     * that Len 0-12, 13, 14, 15 announce (RFC 8323 3.2).
     */
    static int codeOffset(byte[] wire, boolean tcp) {
        if (wire == null || wire.length < 2) {
            return -1;
        }
        int at = 1;
        if (tcp) {
            int len = (wire[0] & 0xff) >>> 4;
            at = len < 13 ? 1 : len == 13 ? 2 : len == 14 ? 3 : 5;
        }
        return at < wire.length ? at : -1;
    }

    /** The response to the client: the origin's code, options and payload on the client's exchange. */
    private static Response downstreamResponse(Response fromOrigin) {
        Response r = new Response(fromOrigin.getCode());
        byte[] wire = fromOrigin.getBytes();
        int at = codeOffset(wire, fromOrigin.getSourceContext() instanceof org.eclipse.californium.elements.TcpEndpointContext);
        if (at > 0 && (wire[at] & 0xff) != fromOrigin.getRawCode()) {
            // a code Californium has no constant for (it keeps the class default): relay the code that came
            r = new HopLimitReached.RawCode(wire[at] & 0xff, fromOrigin.getCode());
        }
        OptionSet o = r.getOptions();
        for (Option opt : fromOrigin.getOptions().asSortedList()) {
            if (opt.getNumber() != OptionNumberRegistry.OBSERVE) {
                o.addOption(opt);
            }
        }
        byte[] p = fromOrigin.getPayload();
        if (p != null && p.length > 0) {
            r.setPayload(p);
        }
        return r;
    }

    private void answer(Exchange exchange, ResponseCode code, String diagnostic, ProxyMetrics.Outcome outcome) {
        metrics.outcome(outcome);
        Response r = new Response(code);
        if (diagnostic != null) {
            r.setPayload(diagnostic);
            r.getOptions().setContentFormat(0);
        }
        if (code.value >= 128 && code != ResponseCode.VALID) {
            // RFC 7252 5.6.1 / 5.9.3: a proxy's own error is not to be cached by the client for long
            r.getOptions().setMaxAge(0);
        }
        exchange.sendResponse(r);
    }

    private void refuse(Exchange exchange, ForwardTarget.Refusal r) {
        ProxyMetrics.Outcome o = r.code() == ResponseCode.BAD_OPTION ? ProxyMetrics.Outcome.BAD_OPTION
                : r.code() == ResponseCode.PROXY_NOT_SUPPORTED ? ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY
                : r.code() == ResponseCode.BAD_GATEWAY ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.BAD_REQUEST;
        answer(exchange, r.code(), r.getMessage(), o);
    }

    /** One of the exchanges in flight, or a 5.03 when all are taken. Released when the origin's answer (or none) is known. */
    private boolean takeSlot(Exchange exchange) {
        if (metrics.inFlight().incrementAndGet() > limits.exchanges()) {
            metrics.inFlight().decrementAndGet();
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many exchanges in flight");
            return false;
        }
        return true;
    }

    private void overloaded(Exchange exchange, ProxyMetrics.Outcome outcome, String why) {
        metrics.outcome(outcome);
        Response r = new Response(ResponseCode.SERVICE_UNAVAILABLE);
        r.getOptions().setMaxAge(limits.retryAfterSeconds()); // RFC 7252 5.9.3.4: when to try again
        r.setPayload(why);
        exchange.sendResponse(r);
    }

    private static Integer hopLimit(Request r) {
        Option o = ForwardTarget.other(r.getOptions(), ExtensionOptionRegistry.HOP_LIMIT.getNumber());
        if (o == null) {
            return null;
        }
        byte[] v = o.getValue();
        return v.length == 0 ? 0 : v[0] & 0xff;
    }

    private String ownName(Request req) {
        InetSocketAddress local = req.getLocalAddress();
        return local == null ? "coterie-proxy" : local.getAddress().getHostAddress();
    }

    private boolean isSelf(InetSocketAddress origin) {
        if (origin.getAddress().isAnyLocalAddress()) {
            return true; // 0.0.0.0 or :: as a destination is this host
        }
        for (InetSocketAddress own : ownAddresses.get()) {
            if (own.getPort() == origin.getPort()
                    && (own.getAddress().equals(origin.getAddress()) || own.getAddress().isAnyLocalAddress())) {
                return true;
            }
        }
        return false;
    }


    /** {@code s} with control characters escaped, for a log line (a target comes from the network). */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
