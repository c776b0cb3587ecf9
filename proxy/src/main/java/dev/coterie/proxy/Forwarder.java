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
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.server.MessageDeliverer;
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
final class Forwarder implements MessageDeliverer {
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
    private final List<InetSocketAddress> ownAddresses;
    private volatile Policy policy;

    Forwarder(Policy policy, ProxyConfig.Limits limits, ForwardTarget.Numbers numbers, ProxyMetrics metrics,
              ResponseCache cache, Endpoint plainUpstream, Endpoint oscoreUpstream, ClientContextBinding originBinding,
              Map<ProxyConfig.Origin, OscoreContext> originContexts, ScheduledExecutorService timer,
              List<InetSocketAddress> ownAddresses) {
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
        this.ownAddresses = List.copyOf(ownAddresses);
    }

    void policy(Policy p) {
        policy = p;
    }

    /** Whether the front endpoint forwards {@code r} without removing a layer (steps 1-3: proxy options, a route). */
    boolean forwardUntouched(Request r) {
        if (ForwardTarget.hasProxyOptions(r, numbers)) {
            return true;
        }
        return ForwardTarget.reverse(r, policy.routes()) != null;
    }

    /** Who sent the request: the hop context that verified it, or unauthenticated. */
    static ProxyConfig.ClientId clientOf(Request r) {
        OscorePeer p = OscorePeer.of(r);
        if (p == null) {
            return ProxyConfig.ClientId.UNAUTHENTICATED;
        }
        byte[] kc = p.kidContext();
        return new ProxyConfig.ClientId(kc == null || kc.length == 0 ? null : kc, p.kid());
    }

    @Override
    public void deliverRequest(Exchange exchange) {
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
            answer(exchange, r.code(), r.getMessage(), r.code() == ResponseCode.BAD_OPTION ? ProxyMetrics.Outcome.BAD_OPTION
                    : r.code() == ResponseCode.PROXY_NOT_SUPPORTED ? ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY
                    : r.code() == ResponseCode.BAD_GATEWAY ? ProxyMetrics.Outcome.BAD_GATEWAY : ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        if (!pol.access().allows(client, target)) {
            LOG.info("denied: client {} to {}", client, target.uri());
            answer(exchange, ResponseCode.UNAUTHORIZED, "Forwarding not authorised", ProxyMetrics.Outcome.DENIED);
            return;
        }
        int nextHop = hopLimit == null ? limits.hopLimit() : hopLimit - 1;
        if (nextHop == 0) {
            // RFC 8768 Section 3: not forwarded; the diagnostic names this proxy
            metrics.outcome(ProxyMetrics.Outcome.HOP_LIMIT);
            Response r = new HopLimitReached();
            r.setPayload(ownName(req));
            r.getOptions().setContentFormat(0);
            exchange.sendResponse(r);
            return;
        }
        InetAddress address;
        try {
            address = target.address();
        } catch (ForwardTarget.Refusal r) {
            answer(exchange, r.code(), r.getMessage(), ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        InetSocketAddress origin = new InetSocketAddress(address, target.origin().port());
        if (isSelf(origin)) {
            answer(exchange, ResponseCode.NOT_FOUND, null, ProxyMetrics.Outcome.LOCAL);
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
        if (metrics.inFlight().incrementAndGet() > limits.exchanges()) {
            metrics.inFlight().decrementAndGet();
            overloaded(exchange, ProxyMetrics.Outcome.OVERLOADED, "too many exchanges in flight");
            return;
        }
        Request up = upstreamRequest(req, target, nextHop);
        up.setDestinationContext(new AddressEndpointContext(origin));
        boolean revalidate = stored != null && stored.etag != null && req.getOptions().getETagCount() == 0;
        if (revalidate) {
            up.getOptions().addETag(stored.etag);
        }
        send(exchange, req, up, target, key, revalidate ? stored : null);
    }

    private void send(Exchange exchange, Request req, Request up, ForwardTarget target, ResponseCache.Key key,
                      ResponseCache.Entry revalidating) {
        AtomicBoolean done = new AtomicBoolean();
        ScheduledFuture<?>[] timeout = new ScheduledFuture<?>[1];
        Runnable finish = () -> {
            metrics.inFlight().decrementAndGet();
            if (timeout[0] != null) {
                timeout[0].cancel(false);
            }
        };
        up.addMessageObserver(new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                if (!done.compareAndSet(false, true)) {
                    return;
                }
                finish.run();
                relay(exchange, req, response, key, revalidating);
            }

            @Override
            public void onReject() {
                fail(ResponseCode.BAD_GATEWAY, "origin rejected the request", ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            @Override
            public void onTimeout() {
                fail(ResponseCode.GATEWAY_TIMEOUT, null, ProxyMetrics.Outcome.TIMEOUT);
            }

            @Override
            public void onSendError(Throwable error) {
                fail(ResponseCode.BAD_GATEWAY, "origin unreachable", ProxyMetrics.Outcome.BAD_GATEWAY);
            }

            private void fail(ResponseCode code, String diagnostic, ProxyMetrics.Outcome outcome) {
                if (done.compareAndSet(false, true)) {
                    finish.run();
                    answer(exchange, code, diagnostic, outcome);
                }
            }
        });
        timeout[0] = timer.schedule(() -> {
            if (done.compareAndSet(false, true)) {
                finish.run();
                up.cancel();
                answer(exchange, ResponseCode.GATEWAY_TIMEOUT, null, ProxyMetrics.Outcome.TIMEOUT);
            }
        }, limits.upstreamTimeoutMs(), TimeUnit.MILLISECONDS);
        OscoreContext hop = originContexts.get(target.origin());
        if (hop != null) {
            if (up.getOptions().hasOscore()) {
                // an end-to-end layer inside a proxy-to-server layer needs option escalation (OSCORE-in-OSCORE)
                if (done.compareAndSet(false, true)) {
                    finish.run();
                    answer(exchange, ResponseCode.BAD_GATEWAY, "nested OSCORE towards this origin is not supported",
                            ProxyMetrics.Outcome.BAD_GATEWAY);
                }
                return;
            }
            originBinding.bind(up, hop);
            oscoreUpstream.sendRequest(up);
        } else {
            plainUpstream.sendRequest(up);
        }
    }

    private void relay(Exchange exchange, Request req, Response fromOrigin, ResponseCache.Key key,
                       ResponseCache.Entry revalidating) {
        Response toSend;
        if (revalidating != null && fromOrigin.getCode() == ResponseCode.VALID) {
            cache.refresh(key, revalidating, fromOrigin);
            toSend = cache.serve(revalidating);
            metrics.outcome(ProxyMetrics.Outcome.REVALIDATED);
        } else {
            if (key != null && cache.storable(req, fromOrigin)) {
                cache.store(key, fromOrigin);
            }
            toSend = downstreamResponse(fromOrigin);
            metrics.outcome(ProxyMetrics.Outcome.FORWARDED);
        }
        exchange.sendResponse(toSend);
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

    /** The request to the origin: the client's options without the proxy and URI ones, the target's URI, Hop-Limit. */
    private Request upstreamRequest(Request req, ForwardTarget target, int hopLimit) {
        Request up = new Request(req.getCode(), req.getType());
        OptionSet o = up.getOptions();
        for (Option opt : req.getOptions().asSortedList()) {
            int n = opt.getNumber();
            if (ForwardTarget.isForwardProxyOption(n, numbers) || n == OptionNumberRegistry.URI_HOST
                    || n == OptionNumberRegistry.URI_PORT || n == OptionNumberRegistry.URI_PATH
                    || n == OptionNumberRegistry.URI_QUERY || n == ExtensionOptionRegistry.HOP_LIMIT.getNumber()
                    || n == OptionNumberRegistry.OBSERVE) {
                continue;
            }
            o.addOption(opt);
        }
        if (target.hostIsName()) {
            o.setUriHost(target.origin().host());
        }
        for (String seg : target.path()) {
            o.addUriPath(seg);
        }
        for (String q : target.query()) {
            o.addUriQuery(q);
        }
        o.addOption(ExtensionOptionRegistry.HOP_LIMIT.create(hopLimit));
        byte[] p = req.getPayload();
        if (p != null && p.length > 0) {
            if (!up.isIntendedPayload()) {
                up.setUnintendedPayload();
            }
            up.setPayload(p.clone());
        }
        return up;
    }

    /** The response to the client: the origin's code, options and payload on the client's exchange. */
    private static Response downstreamResponse(Response fromOrigin) {
        Response r = new Response(fromOrigin.getCode());
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

    private void overloaded(Exchange exchange, ProxyMetrics.Outcome outcome, String why) {
        metrics.outcome(outcome);
        Response r = new Response(ResponseCode.SERVICE_UNAVAILABLE);
        r.getOptions().setMaxAge(limits.retryAfterSeconds()); // RFC 7252 5.9.3.4: when to try again
        r.setPayload(why);
        exchange.sendResponse(r);
    }

    private static Integer hopLimit(Request r) {
        Option o = r.getOptions().getOtherOption(ExtensionOptionRegistry.HOP_LIMIT.getNumber());
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
        for (InetSocketAddress own : ownAddresses) {
            if (own.getPort() == origin.getPort()
                    && (own.getAddress().equals(origin.getAddress()) || own.getAddress().isAnyLocalAddress())) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void deliverResponse(Exchange exchange, Response response) {
        if (exchange.getRequest() != null) {
            exchange.getRequest().setResponse(response);
        }
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
