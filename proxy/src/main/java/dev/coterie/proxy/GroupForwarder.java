package dev.coterie.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.coterie.oscore.Cri;
import dev.coterie.oscore.MulticastGuard;
import dev.coterie.oscore.OscoreLayer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.ReplyFrom;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.serialization.DataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group forwarding (groupcomm-proxy Section 5.2, digest 5.3): one unicast request from an
 * allow-listed client goes to a CoAP group as a NON multicast request, and every response that
 * arrives before the client's Multicast-Timeout T' runs out goes back to the client with its
 * Token, tagged with Reply-From (the responding server's address as a CRI). A client's hop layer
 * protects each response with a Partial IV of its own (OCP-07): the first response goes on the
 * client's exchange, every further one on an exchange of its own that shares the request's
 * protection ({@link OscoreLayer#furtherExchange}).
 *
 * <p>Timer rules (GPX-06): T' = 0 relays nothing; a response after T' is dropped; the upstream
 * Token is released at T', unless a 2.xx with Observe arrived, which keeps the collection (and
 * its Token) until the client stops it, a final non-2.xx notification, or
 * {@link ProxyConfig.GroupForwarding#maxObservationSeconds()}. A released Token is not drawn
 * again for {@code token_reuse_s} (MIN_TOKEN_REUSE_TIME, GCB-03). An RST from the client to a
 * relayed response, or an Early Stop Request (GET, the same Token, an empty Multicast-Timeout,
 * no proxy or URI options), stops the collection (GPX-07); the Early Stop Request itself is not
 * forwarded.
 *
 * <p>The group requests go out of a socket of this class's own, one per configured interface,
 * never through Californium's client stack: Californium keeps a multicast exchange for its own
 * fixed lifetime and would hide the T' rules.
 */
final class GroupForwarder {
    private static final Logger LOG = LoggerFactory.getLogger(GroupForwarder.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The most (server, Message ID) pairs one collection remembers to drop retransmitted responses. */
    private static final int SEEN_PER_COLLECTION = 1024;

    /** A client's request in progress: who sent it and with which Token. */
    record ClientKey(InetSocketAddress peer, Token token) {
    }

    private record MidKey(InetSocketAddress peer, int mid) {
    }

    private final ProxyConfig.GroupForwarding settings;
    private final ProxyMetrics metrics;
    private final ScheduledExecutorService timer;
    private final DataParser parser;
    private final UdpDataSerializer serializer = new UdpDataSerializer();
    private final BiFunction<Request, Response, String> refusal;
    private final int multicastTimeoutNumber;
    private final int replyFromNumber;
    private final Map<String, Socket> sockets = new HashMap<>();
    private final ConcurrentHashMap<Long, Collection> byToken = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<ClientKey, Collection> byClient = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<MidKey, Collection> byRelayedMid = new ConcurrentHashMap<>();
    /** Tokens whose collection ended less than token_reuse_s ago (bounded: tokens_remembered). */
    private final Cache<Long, Boolean> released;
    private final AtomicInteger mid = new AtomicInteger(RANDOM.nextInt(65536));
    private final Runnable slotFreed;
    private final ResponseCache cache;
    private final ForwardTarget.Numbers numbers;
    private final ProtectionPipeline pipeline;
    private final org.eclipse.californium.core.coap.option.OptionDefinition replyFromDef;
    private final org.eclipse.californium.core.coap.option.OptionDefinition groupEtagDef;
    /** The servers this proxy stood in for in a Reply-From, by their group (bounded; follow-ups reach them: GPX-13). */
    private final Cache<InetSocketAddress, String> standingIn =
            Caffeine.newBuilder().maximumSize(10_000).expireAfterAccess(1, TimeUnit.HOURS).build();

    /**
     * @param groups the configured groups (one socket per distinct interface)
     * @param parser parses the servers' answers as the plain upstream endpoint does
     * @param refusal why a server's response cannot be relayed to the client of a request, or null
     * @param slotFreed called once per collection when it ends (the forwarder's exchange slot)
     */
    GroupForwarder(List<ProxyConfig.Group> groups, ProxyConfig.GroupForwarding settings, InetSocketAddress bind,
                   ProxyMetrics metrics, ScheduledExecutorService timer, DataParser parser,
                   BiFunction<Request, Response, String> refusal, ForwardTarget.Numbers numbers, ResponseCache cache,
                   dev.coterie.oscore.ExtensionOptionRegistry registry, boolean chainSocket, Runnable slotFreed)
            throws IOException {
        this.settings = settings;
        this.metrics = metrics;
        this.timer = timer;
        this.parser = parser;
        this.refusal = refusal;
        this.multicastTimeoutNumber = numbers.multicastTimeout();
        this.replyFromNumber = numbers.replyFrom();
        this.numbers = numbers;
        this.cache = cache;
        this.pipeline = new ProtectionPipeline(registry, dev.coterie.oscore.InnerObserve.EMPTY, true);
        // the definitions themselves: an Option made from a bare number looks it up in Californium's default registry,
        // which does not know these and formats a name for them, per option
        org.eclipse.californium.core.coap.option.OptionRegistry defs = registry.californiumRegistry();
        this.replyFromDef = defs.getDefinitionByNumber(replyFromNumber);
        this.groupEtagDef = defs.getDefinitionByNumber(numbers.groupEtag());

        this.slotFreed = slotFreed;
        this.released = Caffeine.newBuilder().expireAfterWrite(settings.tokenReuseSeconds(), TimeUnit.SECONDS)
                .maximumSize(settings.tokensRemembered()).build();
        try {
            for (ProxyConfig.Group g : groups) {
                String nif = g.networkInterface() == null ? "" : g.networkInterface();
                if (!sockets.containsKey(nif)) {
                    sockets.put(nif, new Socket(bind, nif));
                }
            }
            if (chainSocket && !sockets.containsKey("")) {
                sockets.put("", new Socket(bind, ""));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    void start() {
        for (Socket s : sockets.values()) {
            s.start();
        }
    }

    void close() {
        for (Socket s : sockets.values()) {
            s.close();
        }
        for (Collection c : List.copyOf(byToken.values())) {
            end(c);
        }
    }

    /** Whether group requests may go on through next_proxy (group_forwarding.through_next_proxy). */
    boolean chains() {
        return settings.throughNextProxy();
    }

    long chainMargin() {
        return settings.chainMarginSeconds();
    }

    long maxMulticastTimeout() {
        return settings.maxMulticastTimeoutSeconds();
    }

    /** What {@link #forward} and {@link #forwardChained} return when the client has max_collections_per_client running. */
    static final String TOO_MANY = "too many group requests of this client running";

    /** Running collections per client identity (an unauthenticated client counts by its address). */
    private final ConcurrentHashMap<Object, AtomicInteger> perClient = new ConcurrentHashMap<>();

    private static Object clientKey(Collection c) {
        return c.client.isUnauthenticated() ? c.exchange.getRequest().getSourceContext().getPeerAddress().getAddress() : c.client;
    }

    /** Collections running (for tests and metrics). */
    int running() {
        return byToken.size();
    }

    /** The Multicast-Timeout of {@code r} in seconds: null when absent, 0 for an empty one. */
    Long multicastTimeout(Message r) {
        Option o = ForwardTarget.other(r.getOptions(), multicastTimeoutNumber);
        if (o == null) {
            return null;
        }
        long v = 0;
        for (byte b : o.getValue()) {
            v = (v << 8) | (b & 0xff);
        }
        return v;
    }

    /** The key of a client's request: its source and Token. */
    static ClientKey keyOf(Request r) {
        return new ClientKey(r.getSourceContext().getPeerAddress(), r.getToken());
    }

    /**
     * An Early Stop Request (groupcomm-proxy Section 5.1.3): GET, an empty Multicast-Timeout, and
     * no Proxy-Uri, Proxy-Scheme(-Number), Proxy-Cri or Uri-* option. Whether it names a running
     * collection is {@link #earlyStop}'s to find out.
     */
    boolean isEarlyStop(Request r, ForwardTarget.Numbers numbers) {
        if (r.getCode() != CoAP.Code.GET) {
            return false;
        }
        Long t = multicastTimeout(r);
        if (t == null || t != 0) {
            return false;
        }
        var o = r.getOptions();
        return !ForwardTarget.hasProxyOptions(r, numbers) && !o.hasUriHost() && !o.hasUriPort() && o.getURIPathCount() == 0
                && o.getURIQueryCount() == 0;
    }

    /**
     * Stops the collection an Early Stop Request names (same source, same Token, same client
     * identity); the request is not forwarded and gets no response (an empty ACK when CON).
     *
     * @return false when no running collection matches (the request is then an ordinary one)
     */
    boolean earlyStop(Exchange exchange, ProxyConfig.ClientId client) {
        Collection c = byClient.get(keyOf(exchange.getRequest()));
        if (c == null || !c.client.equals(client)) {
            return false;
        }
        LOG.debug("early stop of a group collection");
        metrics.outcome(ProxyMetrics.Outcome.GROUP_STOPPED);
        end(c);
        if (exchange.getRequest().isConfirmable()) {
            exchange.sendAccept();
        }
        exchange.executeComplete();
        return true;
    }

    /** An RST from a client: when it answers a relayed response, that response's collection stops. */
    void reset(EmptyMessage rst) {
        Collection c = byRelayedMid.get(new MidKey(rst.getSourceContext().getPeerAddress(), rst.getMID()));
        if (c != null) {
            LOG.debug("the client reset a relayed response: its group collection stops");
            metrics.outcome(ProxyMetrics.Outcome.GROUP_STOPPED);
            end(c);
        }
    }

    /** Whether a collection runs for the source and Token of {@code r} (a reused Token, GCB-07). */
    Collection runningFor(Request r) {
        return byClient.get(keyOf(r));
    }

    /** Ends {@code c} as the answer to a Token reused while it runs. */
    void stop(Collection c) {
        end(c);
    }

    /**
     * Sends {@code up} (the group request, without Multicast-Timeout) to {@code group} and relays
     * the responses for {@code tPrimeSeconds}. The caller holds an exchange slot, which this
     * class frees when the collection ends.
     *
     * @param front the OSCORE layer of the client's front endpoint, or null when it has none
     * @return null when sent, or why not (the caller answers 5.02 and frees the slot)
     */
    String forward(Exchange exchange, ProxyConfig.ClientId client, ProxyConfig.Group group, Request up, long tPrimeSeconds,
                   OscoreLayer front, ForwardTarget target, InetSocketAddress standInAs) {
        Request req = exchange.getRequest();
        CachePlan plan = plan(group, up, target, standInAs != null);
        if (plan != null && plan.complete() && tPrimeSeconds > 0) { // T' = 0 relays nothing, cached or not (GPX-06)
            answerFromCache(exchange, client, group, front, plan, groupEtags(req));
            return null;
        }
        InetSocketAddress to = new InetSocketAddress(group.address(), group.port());
        try {
            MulticastGuard.checkDestination(to);
        } catch (IllegalStateException | IllegalArgumentException e) {
            LOG.warn("group {}: not sent: {}", group.name(), e.getMessage());
            return "multicast to this group is not allowed here";
        }
        Socket socket = sockets.get(group.networkInterface() == null ? "" : group.networkInterface());
        if (socket == null) {
            return "the group's interface was not configured at start";
        }
        return launch(exchange, client, group, up, tPrimeSeconds, front, target, plan, to, socket, null, standInAs);
    }

    /**
     * A non-last proxy of a chain (groupcomm-proxy Section 8, GPX-10/11): {@code up} goes to the
     * next proxy with its proxy options and the rewritten Multicast-Timeout T''; every response
     * that proxy relays before this proxy's T' goes back as it came, Reply-From untouched.
     *
     * @param hop the hop layer towards the next proxy, or null for a plain leg
     */
    String forwardChained(Exchange exchange, ProxyConfig.ClientId client, Request up, long tPrimeSeconds, OscoreLayer front,
                          InetSocketAddress nextProxy, dev.coterie.oscore.RequestProtector hop) {
        Socket socket = sockets.get("");
        if (socket == null) {
            return "no socket for group requests through next_proxy";
        }
        return launch(exchange, client, null, up, tPrimeSeconds, front, null, null, nextProxy, socket, hop, null);
    }

    private String launch(Exchange exchange, ProxyConfig.ClientId client, ProxyConfig.Group group, Request up,
                          long tPrimeSeconds, OscoreLayer front, ForwardTarget target, CachePlan plan, InetSocketAddress to,
                          Socket socket, dev.coterie.oscore.RequestProtector hop, InetSocketAddress standInAs) {
        Request req = exchange.getRequest();
        long token;
        do {
            token = RANDOM.nextLong();
        } while (byToken.containsKey(token) || released.getIfPresent(token) != null);
        byte[] tb = ByteBuffer.allocate(8).putLong(token).array();
        up.setToken(Token.fromProvider(tb));
        up.setType(CoAP.Type.NON);
        up.setMID(mid.getAndIncrement() & 0xffff);
        up.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(to));
        byte[] bytes;
        List<dev.coterie.oscore.RequestIdentifiers> hopIds = null;
        try {
            Request wire = up;
            if (hop != null) {
                ProtectionPipeline.LayeredRequest sealed = pipeline.protectRequest(up, List.of(hop), -1, null);
                hopIds = sealed.identifiers();
                wire = sealed.wire();
                wire.setToken(up.getToken());
                wire.setMID(up.getMID());
                wire.setType(CoAP.Type.NON);
            }
            bytes = serializer.serializeRequest(wire).bytes;
        } catch (dev.coterie.oscore.OscoreException e) {
            return "the request could not be protected for the next proxy";
        } catch (RuntimeException e) {
            return "the group request could not be serialized";
        }
        boolean observe = req.getOptions().hasObserve() && req.getOptions().getObserve() == 0;
        Collection c = tPrimeSeconds == 0 ? null : new Collection(exchange, client, token, group, front, observe);
        if (c != null) {
            AtomicInteger n = perClient.computeIfAbsent(clientKey(c), k -> new AtomicInteger());
            if (n.incrementAndGet() > settings.maxCollectionsPerClient()) {
                n.decrementAndGet();
                return TOO_MANY;
            }
            c.counted = true;
        }
        if (c != null && c.observe) {
            metrics.observers().incrementAndGet(); // counted from the registration: a burst cannot pass limits.observers
        }
        if (c != null) {
            c.plan = plan;
            c.upstream = up;
            c.target = target;
            c.chained = group == null;
            c.hopIds = hopIds;
            c.standInAs = standInAs;
        }
        if (c != null) {
            byToken.put(token, c);
            byClient.put(keyOf(req), c);
        } else {
            released.put(token, Boolean.TRUE); // T' = 0: nothing is relayed, every response is late
        }
        try {
            socket.channel.send(ByteBuffer.wrap(bytes), to);
        } catch (IOException e) {
            if (c != null) {
                byToken.remove(token, c);
                byClient.remove(keyOf(req), c);
            }
            LOG.warn("group request to {}: send failed: {}", group == null ? "the next proxy" : group.name(),
                    e.getClass().getSimpleName());
            return "the group request could not be sent";
        }
        metrics.outcome(ProxyMetrics.Outcome.GROUP_FORWARDED);
        if (req.isConfirmable()) {
            exchange.sendAccept(); // every response comes separately, NON
        }
        if (c == null) {
            exchange.executeComplete();
            slotFreed.run();
            return null;
        }
        long ms = Math.min(tPrimeSeconds, settings.maxMulticastTimeoutSeconds()) * 1000L;
        c.timer = timer.schedule(() -> expire(c), ms, TimeUnit.MILLISECONDS);
        if (plan != null) {
            // GPX-08: a cached response whose residual lifetime L is below T' goes at once; the others of servers that have
            // not answered by then go near T' (at 90 % of it)
            List<ResponseCache.Entry> later = new ArrayList<>();
            for (Map.Entry<InetSocketAddress, ResponseCache.Entry> e : plan.fresh().entrySet()) {
                if (e.getValue().maxAgeLeft(System.nanoTime()) < tPrimeSeconds) {
                    sendCached(c, e.getValue(), null);
                } else {
                    later.add(e.getValue());
                }
            }
            if (!later.isEmpty()) {
                c.nearTPrime = timer.schedule(() -> {
                    for (Map.Entry<InetSocketAddress, ResponseCache.Entry> e : plan.fresh().entrySet()) {
                        boolean answered;
                        synchronized (c) {
                            answered = c.answeredBy.contains(e.getKey());
                        }
                        if (!answered && later.contains(e.getValue())) {
                            sendCached(c, e.getValue(), null);
                        }
                    }
                }, ms * 9 / 10, TimeUnit.MILLISECONDS);
            }
        }
        return null;
    }

    /* ------------------------------------------------------------------ the cache for groups (digest 5.4) */

    /**
     * What the cache holds for a group request: the fresh entry of each server that answered it
     * before (or of each configured member), by the server's unicast address; complete when the
     * proxy knows every member ({@code members} configured) and holds a fresh entry for each.
     */
    record CachePlan(Map<InetSocketAddress, ResponseCache.Entry> fresh, boolean complete, List<ResponseCache.Key> memberKeys) {
    }

    /**
     * The cache key of one server's entry for a group request: the key of the unicast request
     * to that server, in a key space of its own (a unicast response never stands in for a group
     * one, nor the reverse), and per flavour (as a forward proxy or standing in for the group, or
     * standing in for each server: their Reply-From differ).
     */
    private ResponseCache.Key entryKey(Request up, InetSocketAddress server, ForwardTarget target, boolean standIn) {
        byte[] k = ResponseCache.key(up, serverTarget(server, target), numbers).bytes();
        byte[] out = new byte[k.length + 2];
        out[0] = (byte) 0xfe; // no method code: keys of unicast requests start with one
        out[1] = (byte) (standIn ? 1 : 0);
        System.arraycopy(k, 0, out, 2, k.length);
        return new ResponseCache.Key(out);
    }

    /** The unicast request a group response answers: the group URI with the server's address as authority (5.4). */
    static ForwardTarget serverTarget(InetSocketAddress server, ForwardTarget group) {
        return new ForwardTarget(new ProxyConfig.Origin(server.getAddress().getHostAddress(), server.getPort()), false,
                group.path(), group.query(), null);
    }

    private CachePlan plan(ProxyConfig.Group group, Request up, ForwardTarget target, boolean standIn) {
        if (cache == null || group.members() == null || group.members().isEmpty()
                || (up.getCode() != CoAP.Code.GET && up.getCode() != CoAP.Code.FETCH) || up.getOptions().hasObserve()) {
            return null; // GPX-08: entries only from known members, so nothing without a membership to know
        }
        long now = System.nanoTime();
        Map<InetSocketAddress, ResponseCache.Entry> fresh = new java.util.LinkedHashMap<>();
        List<ResponseCache.Key> memberKeys = new ArrayList<>();
        boolean complete = true;
        for (InetSocketAddress s : group.members()) {
            ResponseCache.Key k = entryKey(up, s, target, standIn);
            memberKeys.add(k);
            ResponseCache.Entry e = cache.lookup(k);
            if (e != null && e.fresh(now)) {
                fresh.put(s, e);
            } else {
                complete = false;
            }
        }
        return fresh.isEmpty() ? null : new CachePlan(fresh, complete, memberKeys);
    }

    /**
     * The entity tag of a complete set J (GPX-09): a digest of every member's entry in member
     * order, so it changes whenever one of them does. Eight bytes.
     */
    private static byte[] groupEtag(CachePlan plan) {
        try {
            java.security.MessageDigest d = java.security.MessageDigest.getInstance("SHA-256");
            for (Map.Entry<InetSocketAddress, ResponseCache.Entry> e : plan.fresh().entrySet()) {
                byte[] who = (e.getKey().getAddress().getHostAddress() + ":" + e.getKey().getPort()).getBytes(
                        java.nio.charset.StandardCharsets.US_ASCII);
                byte[] entry = serializedEntry(e.getValue());
                d.update(ByteBuffer.allocate(8).putInt(who.length).putInt(entry.length).array());
                d.update(who);
                d.update(entry); // lengths first: no shift of bytes between entries gives the same digest
            }
            return Arrays.copyOf(d.digest(), 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] serializedEntry(ResponseCache.Entry e) {
        Response r = e.stored();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(r.getRawCode());
        for (Option o : r.getOptions().asSortedList()) {
            if (o.getNumber() == OptionNumberRegistry.MAX_AGE) {
                continue; // the residual lifetime changes every second; the entry does not
            }
            out.write(o.getNumber() >> 8);
            out.write(o.getNumber());
            out.write(o.getLength() >> 8);
            out.write(o.getLength());
            out.writeBytes(o.getValue());
        }
        byte[] p = r.getPayload();
        out.write(0xff);
        if (p != null) {
            out.writeBytes(p);
        }
        return out.toByteArray(); // the same representations give the same tag, as an ETag would
    }

    private List<byte[]> groupEtags(Request req) {
        List<byte[]> out = new ArrayList<>();
        for (Option o : req.getOptions().getOthers()) {
            if (o.getNumber() == numbers.groupEtag()) {
                out.add(o.getValue());
            }
        }
        return out;
    }

    /**
     * GPX-08 / GPX-09: every current member has a fresh entry, so the group request is answered
     * from the cache alone, no multicast: each entry (with its stored Reply-From and the Max-Age
     * left) carries the set's Group-ETag; a request whose Group-ETag matches it gets exactly one
     * 2.03 with that Group-ETag and no payload instead.
     */
    private void answerFromCache(Exchange exchange, ProxyConfig.ClientId client, ProxyConfig.Group group, OscoreLayer front,
                                 CachePlan plan, List<byte[]> requestTags) {
        byte[] tag = groupEtag(plan);
        metrics.cacheHit();
        metrics.outcome(ProxyMetrics.Outcome.CACHE_HIT);
        if (exchange.getRequest().isConfirmable()) {
            exchange.sendAccept();
        }
        Collection c = new Collection(exchange, client, 0, group, front, false);
        long now = System.nanoTime();
        for (byte[] t : requestTags) {
            if (Arrays.equals(t, tag)) {
                Response valid = new Response(ResponseCode.VALID);
                valid.getOptions().addOption(new Option(groupEtagDef, tag));
                long left = Long.MAX_VALUE;
                for (ResponseCache.Entry e : plan.fresh().values()) {
                    left = Math.min(left, e.maxAgeLeft(now));
                }
                valid.getOptions().setMaxAge(left);
                valid.setType(CoAP.Type.NON);
                deliver(c, valid);
                slotFreed.run();
                return;
            }
        }
        for (ResponseCache.Entry e : plan.fresh().values()) {
            sendCached(c, e, tag);
        }
        slotFreed.run();
    }

    /** One cached response on the collection's next exchange, with {@code groupEtag} when given. */
    private void sendCached(Collection c, ResponseCache.Entry e, byte[] groupEtag) {
        Response r = cache.serve(e);
        r.getOptions().clearOtherOption(numbers.groupEtag());
        if (groupEtag != null) {
            r.getOptions().addOption(new Option(groupEtagDef, groupEtag));
        }
        r.setType(CoAP.Type.NON);
        synchronized (c) {
            if (c.ended) {
                return;
            }
        }
        deliver(c, r);
    }

    /** T' has run out: the collection ends, unless an observation keeps it. */
    private void expire(Collection c) {
        synchronized (c) {
            c.pastTPrime = true;
            if (c.observing && !c.ended) {
                c.timer = timer.schedule(() -> end(c), settings.maxObservationSeconds(), TimeUnit.SECONDS);
                return;
            }
        }
        end(c);
    }

    private void end(Collection c) {
        synchronized (c) {
            if (c.ended) {
                return;
            }
            c.ended = true;
            if (c.timer != null) {
                c.timer.cancel(false);
            }
            if (c.nearTPrime != null) {
                c.nearTPrime.cancel(false);
            }
        }
        byToken.remove(c.token, c);
        byClient.remove(keyOf(c.exchange.getRequest()), c);
        for (MidKey k : c.sentMids) {
            byRelayedMid.remove(k, c);
        }
        released.put(c.token, Boolean.TRUE);
        boolean complete;
        synchronized (c) {
            complete = c.relayed == 0 || c.observe;
        }
        slotFreed.run();
        if (c.observe) {
            metrics.observers().decrementAndGet();
        }
        if (c.counted) {
            perClient.computeIfPresent(clientKey(c), (k, n) -> n.decrementAndGet() <= 0 ? null : n);
        }
        // on the exchange's own executor: this runs on a timer, a socket reader or another exchange's thread
        c.exchange.execute(() -> {
            var relation = c.exchange.getRelation();
            if (relation != null) {
                relation.cancel(); // the client's relation ends with the collection
            }
            if (complete && !c.exchange.isComplete()) {
                c.exchange.setComplete(); // nothing came (the client's Token lapses at its T), or the observation ended
            }
        });
    }

    /** One datagram from a server. */
    private void received(Socket socket, byte[] d, InetSocketAddress from) {
        if (d.length < 4 || (d[0] & 0xff) >> 6 != 1 || (d[1] & 0xff) == 0) {
            return; // not CoAP, or an empty ACK or RST: the group request was NON, nothing waits for one
        }
        int type = (d[0] >> 4) & 3;
        int messageId = ((d[2] & 0xff) << 8) | (d[3] & 0xff);
        Collection c = null;
        if (d.length >= 12 && (d[0] & 0x0f) == 8) {
            c = byToken.get(ByteBuffer.wrap(d, 4, 8).getLong()); // every Token of ours has 8 bytes
        }
        if (type == CoAP.Type.CON.value) {
            // acknowledged when it is for a running collection, reset otherwise (late, stopped, or never ours)
            socket.sendEmpty(c != null ? CoAP.Type.ACK : CoAP.Type.RST, messageId, from);
        }
        if (c == null) {
            if (type == CoAP.Type.NON.value && d.length >= 12 && (d[0] & 0x0f) == 8
                    && released.getIfPresent(ByteBuffer.wrap(d, 4, 8).getLong()) != null) {
                socket.sendEmpty(CoAP.Type.RST, messageId, from); // a notification nobody relays any more (RFC 7641 3.6)
            }
            metrics.groupDropped();
            return;
        }
        Message m;
        try {
            m = parser.parseMessage(d);
        } catch (RuntimeException e) {
            metrics.groupDropped();
            return;
        }
        if (!(m instanceof Response r)) {
            return;
        }
        r.setSourceContext(new org.eclipse.californium.elements.AddressEndpointContext(from));
        if (c.hopIds != null) {
            try {
                r = pipeline.unprotectResponse(r, c.hopIds).plain(); // the next proxy's hop layer
            } catch (dev.coterie.oscore.OscoreException e) {
                LOG.debug("a response from the next proxy did not verify: {}", e.getMessage());
                metrics.groupDropped();
                return;
            }
        }
        if (c.chained && r.getCode() == ResponseCode.PROXY_NOT_SUPPORTED) {
            chainRefused(c, r);
            return;
        }
        relay(c, r, from);
    }

    private void relay(Collection c, Response fromServer, InetSocketAddress from) {
        Response out;
        Exchange via;
        if (c.group != null && c.group.members() != null && !c.group.members().contains(from)) {
            // the membership is known: anyone else on the link who saw the Token is not a server of this group
            LOG.debug("a response from an address that is not a member of group {} is dropped", c.group.name());
            metrics.groupDropped();
            return;
        }
        synchronized (c) {
            boolean notification = fromServer.getOptions().hasObserve() && fromServer.isSuccess();
            // past T' only an observation goes on: notifications, and the final non-2.xx of a server that notified
            if (c.ended || c.pastTPrime && !(c.observing && (notification || c.notifying.contains(from)))) {
                metrics.groupDropped();
                return;
            }
            if (c.relayed >= settings.maxResponses()) {
                metrics.groupDropped(); // group_forwarding.max_responses: one request never turns into more
                return;
            }
            if (!c.seen.add(new MidKey(from, fromServer.getMID()))) {
                metrics.groupDropped(); // a retransmission of a response already relayed
                return;
            }
            if (c.seen.size() > SEEN_PER_COLLECTION) {
                c.seen.remove(c.seen.iterator().next());
            }
            String refused = refusal.apply(c.exchange.getRequest(), fromServer);
            if (refused != null) {
                LOG.debug("a group response is not relayed: {}", refused);
                metrics.groupDropped();
                return;
            }
            out = downstream(fromServer, c.observe, c.chained);
            if (!c.chained) {
                // Reply-From before caching, so that a cached copy keeps it (digest 5.3 step 5); a forward chain never
                // touches the one the next proxy set (GPX-11)
                out.getOptions().addOption(new Option(replyFromDef, replyFrom(c, from).encode()));
            }
            out.setType(CoAP.Type.NON);
            if (c.observe && notification) {
                c.observing = true;
                c.notifying.add(from);
            } else {
                c.notifying.remove(from); // a final non-2.xx ends that server's part of the observation (RFC 7641 3.2)
            }
            if (c.observe && notification) {
                c.notificationNext = true;
                // one numbering per client relation (RFC 7641 Section 5): servers' own numbers are per server, and a
                // client keeps only notifications newer than the last; a server's stale one is dropped first
                Integer last = c.lastObserve.get(from);
                int v = fromServer.getOptions().getObserve();
                if (last != null && !newer(v, last)) {
                    metrics.groupDropped();
                    return;
                }
                c.lastObserve.put(from, v);
                out.getOptions().setObserve(++c.observeNumber & 0xffffff);
            }
            boolean first = c.answeredBy.add(from);
            via = nextExchange(c);
            if (first) {
                store(c, fromServer, out, from); // one entry per server per collection: a second response replaces nothing
            }
        }
        send(c, out, via);
    }

    /** RFC 7641 Section 3.4: whether Observe value {@code v} is newer than {@code last} (24-bit serial numbers). */
    private static boolean newer(int v, int last) {
        return (last < v && v - last < (1 << 23)) || (last > v && last - v > (1 << 23));
    }

    /**
     * Reply-From for a response from {@code server}: its address (a forward proxy, or a reverse
     * proxy standing in for the group); or, standing in for each server, this proxy's own address
     * with a reference to the server, which follow-up requests name in Uri-Host and Uri-Port
     * (GPX-13; Uri-Port left out for 5683).
     */
    private ReplyFrom replyFrom(Collection c, InetSocketAddress server) {
        if (c.standInAs == null) {
            return ReplyFrom.of(server);
        }
        if (c.group.members() != null && c.group.members().contains(server)) {
            standingIn.put(server, c.group.name()); // follow-ups reach configured members only
        }
        Cri.Authority ref = new Cri.Authority(null, server.getAddress().getAddress(), null, List.of(),
                server.getPort() == 5683 ? -1 : server.getPort());
        return new ReplyFrom(ReplyFrom.of(c.standInAs).target(), ref, List.of());
    }

    /** The group whose server {@code server} is, when this proxy stands in for it (a follow-up goes to it), or null. */
    String standingInFor(InetSocketAddress server) {
        return standingIn.getIfPresent(server);
    }

    /** A group response into the cache, under the server's unicast URI (digest 5.4). */
    private void store(Collection c, Response fromServer, Response withReplyFrom, InetSocketAddress from) {
        Request up = c.upstream;
        if (cache == null || up == null || c.target == null) {
            return;
        }
        ForwardTarget server = serverTarget(from, c.target);
        if ((up.getCode() == CoAP.Code.GET || up.getCode() == CoAP.Code.FETCH) && !up.getOptions().hasObserve()) {
            if (c.group.members() != null && c.group.members().contains(from) && cache.storable(up, fromServer)) {
                // a member's entry, under a group key, fresh for its Max-Age but never longer than max_cache_age_s: a
                // forged Max-Age must not keep every later request off the group for good
                cache.store(entryKey(up, from, c.target, c.standInAs != null), withReplyFrom, server,
                        settings.maxCacheAgeSeconds());
            }
        } else if (!up.getOptions().hasOscore() && (fromServer.getCode() == ResponseCode.CHANGED
                || fromServer.getCode() == ResponseCode.CREATED || fromServer.getCode() == ResponseCode.DELETED)) {
            cache.invalidate(server); // RFC 7252 5.9.1: that server's stored responses for the URI are stale
        }
    }

    /** The exchange the collection's next response goes on (OCP-07: each but the first on a further one); under its lock. */
    private Exchange nextExchange(Collection c) {
        Exchange via;
        if (c.observe) {
            // an observation: notifications go on the client's exchange, which holds the Observe relation (Californium
            // sends a notification only on one); anything else on a further exchange
            via = c.notificationNext ? c.exchange
                    : c.front != null ? c.front.furtherExchange(c.exchange) : plainFurtherExchange(c.exchange);
            c.notificationNext = false;
        } else {
            via = c.relayed == 0 ? c.exchange
                    : c.front != null ? c.front.furtherExchange(c.exchange) : plainFurtherExchange(c.exchange);
        }
        c.relayed++;
        return via;
    }

    /** Sends {@code out} on the collection's next exchange and remembers its MID for an RST. */
    private void deliver(Collection c, Response out) {
        Exchange via;
        synchronized (c) {
            via = nextExchange(c);
        }
        send(c, out, via);
    }

    private void send(Collection c, Response out, Exchange via) {
        if (c.token != 0) {
            out.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onSent(boolean retransmission) {
                    if (out.getMID() != Message.NONE) {
                        MidKey k = new MidKey(c.exchange.getRequest().getSourceContext().getPeerAddress(), out.getMID());
                        synchronized (c) {
                            if (c.ended) {
                                return;
                            }
                            c.sentMids.add(k);
                        }
                        byRelayedMid.put(k, c);
                    }
                }
            });
        }
        metrics.groupRelayed();
        via.sendResponse(out);
    }

    /**
     * The next proxy answered 5.05: it found no T'' for the T'' this proxy sent (GPX-10). This
     * proxy does not retry; it answers 5.05 itself with its own minimum, the next proxy's plus
     * its margin, and the collection ends.
     */
    private void chainRefused(Collection c, Response refusal) {
        synchronized (c) {
            if (c.ended || c.relayed > 0) {
                return;
            }
        }
        Long theirs = multicastTimeout(refusal);
        Response r = new Response(ResponseCode.PROXY_NOT_SUPPORTED);
        if (theirs != null) {
            r.getOptions().addOption(new Option(multicastTimeoutNumber, theirs + settings.chainMarginSeconds()));
        }
        r.getOptions().setMaxAge(0);
        r.setType(CoAP.Type.NON);
        deliver(c, r);
        end(c);
    }

    /** A further exchange on an endpoint without an OSCORE layer (the request came unprotected). */
    private static Exchange plainFurtherExchange(Exchange answered) {
        Exchange extra = new Exchange(answered.getRequest(), answered.getPeersIdentity(), Exchange.Origin.REMOTE, null);
        extra.setEndpoint(answered.getEndpoint());
        return extra;
    }

    /**
     * The response to the client: the server's code, options (without any Reply-From it gave:
     * this proxy says where the response came from) and payload; Observe kept for an observation.
     */
    private Response downstream(Response fromServer, boolean observe, boolean keepReplyFrom) {
        Response r = new Response(fromServer.getCode());
        byte[] wire = fromServer.getBytes();
        if (wire != null && wire.length > 1 && (wire[1] & 0xff) != fromServer.getRawCode()) {
            r = new HopLimitReached.RawCode(wire[1] & 0xff, fromServer.getCode());
        }
        for (Option opt : fromServer.getOptions().asSortedList()) {
            int n = opt.getNumber();
            if (n == replyFromNumber && !keepReplyFrom || n == OptionNumberRegistry.OBSERVE && !observe) {
                continue;
            }
            r.getOptions().addOption(opt);
        }
        byte[] p = fromServer.getPayload();
        if (p != null && p.length > 0) {
            r.setPayload(p);
        }
        return r;
    }

    /** One client request being answered by a group. */
    static final class Collection {
        final Exchange exchange;
        final ProxyConfig.ClientId client;
        final long token;
        final ProxyConfig.Group group;
        final OscoreLayer front;
        final boolean observe;
        final Set<MidKey> seen = new LinkedHashSet<>();
        final Set<InetSocketAddress> answeredBy = new java.util.HashSet<>();
        final Map<InetSocketAddress, Integer> lastObserve = new HashMap<>();
        int observeNumber = 1;
        /** Servers whose notifications are relayed (their final non-2.xx too, past T'). */
        final Set<InetSocketAddress> notifying = new java.util.HashSet<>();
        boolean notificationNext;
        boolean counted;
        CachePlan plan;
        Request upstream;
        ForwardTarget target;
        ScheduledFuture<?> nearTPrime;
        boolean chained;
        List<dev.coterie.oscore.RequestIdentifiers> hopIds;
        /** A reverse proxy standing in for each server: its own address, the target of every Reply-From (GPX-13). */
        InetSocketAddress standInAs;
        final List<MidKey> sentMids = new ArrayList<>();
        ScheduledFuture<?> timer;
        int relayed;
        boolean observing;
        boolean pastTPrime;
        boolean ended;

        Collection(Exchange exchange, ProxyConfig.ClientId client, long token, ProxyConfig.Group group, OscoreLayer front,
                   boolean observe) {
            this.exchange = exchange;
            this.client = client;
            this.token = token;
            this.group = group;
            this.front = front;
            this.observe = observe;
        }
    }

    /** One upstream socket: multicast out of one interface (or the route's), answers in. */
    private final class Socket {
        final DatagramChannel channel;
        private Thread reader;

        Socket(InetSocketAddress bind, String networkInterface) throws IOException {
            channel = DatagramChannel.open(bind.getAddress() instanceof java.net.Inet6Address
                    ? java.net.StandardProtocolFamily.INET6 : java.net.StandardProtocolFamily.INET);
            try {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
                channel.setOption(StandardSocketOptions.IP_MULTICAST_LOOP, true);
                if (!networkInterface.isEmpty()) {
                    NetworkInterface nif = NetworkInterface.getByName(networkInterface);
                    if (nif == null) {
                        throw new IOException("no network interface " + networkInterface);
                    }
                    channel.setOption(StandardSocketOptions.IP_MULTICAST_IF, nif);
                }
                channel.bind(new InetSocketAddress(bind.getAddress(), 0));
            } catch (IOException e) {
                channel.close();
                throw new ListenFailure("upstream_bind", new InetSocketAddress(bind.getAddress(), 0), e);
            }
        }

        void start() {
            Thread t = new Thread(this::read, "coterie-proxy-group-upstream");
            t.setDaemon(true);
            reader = t;
            t.start();
        }

        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                // closing
            }
        }

        void sendEmpty(CoAP.Type type, int messageId, InetSocketAddress to) {
            byte[] m = {(byte) (0x40 | type.value << 4), 0, (byte) (messageId >> 8), (byte) messageId};
            try {
                channel.send(ByteBuffer.wrap(m), to);
            } catch (IOException e) {
                LOG.debug("could not send an empty message to a group member: {}", e.getClass().getSimpleName());
            }
        }

        private void read() {
            ByteBuffer buf = ByteBuffer.allocate(65536);
            while (channel.isOpen()) {
                SocketAddress from;
                try {
                    buf.clear();
                    from = channel.receive(buf);
                } catch (ClosedChannelException e) {
                    return;
                } catch (IOException e) {
                    continue;
                }
                try {
                    received(this, Arrays.copyOf(buf.array(), buf.position()), (InetSocketAddress) from);
                } catch (RuntimeException e) {
                    LOG.debug("dropping a datagram from a group member: {}", e.getClass().getSimpleName());
                }
            }
        }
    }
}
