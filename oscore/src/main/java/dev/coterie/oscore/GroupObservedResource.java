package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.NoResponseOption;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.RawData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A resource observed as a group observation (observe-multicast-notifications, digest 6.1-6.3,
 * unprotected variant): the first registration creates a phantom request (a GET with Observe 0
 * and the registration's Uri-Path and Uri-Query, under a Token T of this server's own Token
 * space for (group, server)) and the initial notification; every registration it absorbs is
 * answered with an informative response (5.03, a Confirmable separate response, no Observe,
 * Content-Format application/informative-response+cbor, Max-Age 0, with tp_info, ph_req and
 * last_notif: OMN-01); every change is one NON notification with Observe and Token T from the
 * server's own socket to the group (OMN-04); the latest one is sent again, fresh, when it
 * outlives its Max-Age (OMN-05); {@link #cancel()} sends the multicast 5.03 with Token T, no
 * payload and no Observe (OMN-06) and frees T. A registration with No-Response 16 gets no
 * informative response but is counted. A GET without Observe, and a deregistration, get the
 * representation as usual.
 *
 * <p>The resource is not a Californium observable resource: Californium keeps no relation and
 * adds no Observe option to what this resource sends. Multicast passes {@link MulticastGuard}.
 * The resource carries the web link attribute gp-obs (OMN-14).
 *
 * <p>With {@link #protectedBy} it is the Group OSCORE variant (digest 6.6, OMN-10, OMN-11): the
 * phantom is protected in group mode with the server's own Sender ID and a consumed sequence
 * number, ph_req and last_notif carry the protected messages, every notification and the
 * cancellation are group-mode responses bound to the phantom, and only protected registrations
 * are absorbed.
 *
 * <p>With {@link #startDeterministic} it is the deterministic-phantom variant (App. D, OMN-13):
 * the group observation starts at once, its phantom the deterministic request of the group's
 * Deterministic Client for this resource, stored for the OSCORE layer's early byte comparison
 * ({@link DeterministicPhantoms}); a registration that is byte for byte that request gets an
 * unprotected informative response, and one that differs is processed and answered as usual
 * (protected, with the expected deterministic request as ph_req).
 */
public abstract class GroupObservedResource extends CoapResource {
    private static final Logger LOG = LoggerFactory.getLogger(GroupObservedResource.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The stored notification's lifetime without a Max-Age option (RFC 7252 default). */
    static final long DEFAULT_MAX_AGE_S = 60;

    private final InetSocketAddress group;
    private final int contentFormat;
    private final ScheduledExecutorService timer;
    private Connector connector;
    private InetSocketAddress serverAddress;

    private byte[] token;
    private Request phantom;
    private Response latest;
    /** The Group OSCORE variant (OMN-10), or null for the unprotected one. */
    private GroupObservationSecurity security;
    /** Group OSCORE: the protected phantom, what notifications are bound to, and the protected latest notification. */
    private Request phantomWire;
    private RequestIdentifiers binding;
    private Response latestWire;
    private final AtomicLong notSent = new AtomicLong();
    private int observe;
    private ScheduledFuture<?> refresh;
    private boolean closed;
    private final AtomicLong observers = new AtomicLong();
    private final AtomicLong multicastSent = new AtomicLong();
    private FeedbackCounting counting;
    /** OMN-13: where the deterministic phantom is stored for the early check, its bytes, and whether ph_req is sent. */
    private DeterministicPhantoms recogniser;
    private byte[] deterministicBytes;
    private boolean deterministicPhReq;

    /**
     * @param group where notifications go (GRP_ADDR:GRP_PORT)
     * @param contentFormat the number of application/informative-response+cbor
     *     ({@link InformativeResponse#DEFAULT_CONTENT_FORMAT} unless configured)
     */
    protected GroupObservedResource(String name, InetSocketAddress group, int contentFormat) {
        super(name);
        TpInfo.check(group, "the group");
        if (!group.getAddress().isMulticastAddress()) {
            throw new IllegalArgumentException("a group observation notifies a multicast address, not " + group);
        }
        MulticastGuard.checkGroupPort(group.getPort());
        this.group = group;
        this.contentFormat = contentFormat;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "group-observation-" + name);
            t.setDaemon(true);
            return t;
        });
        getAttributes().addAttribute("gp-obs");
    }

    /**
     * Binds the resource to the socket it notifies from: the server's unicast endpoint, whose
     * address must be a concrete one (it is tpi_server).
     */
    public synchronized GroupObservedResource sendFrom(Connector connector, InetSocketAddress address) {
        TpInfo.check(address, "tpi_server");
        InetSocketAddress bound = connector.getAddress();
        if (bound != null && !bound.equals(address)) {
            // tpi_server must be where notifications come from (digest 6.3); a wildcard socket lets the system choose
            throw new IllegalArgumentException("the connector is bound to " + bound + ", not to " + address
                    + ": a group observation notifies from one concrete address, the one in tp_info");
        }
        this.connector = connector;
        this.serverAddress = address;
        return this;
    }

    /**
     * Makes this a group observation protected with Group OSCORE (digest 6.6, OMN-10, OMN-11):
     * the phantom in group mode under the server's own Sender ID, every multicast notification and
     * the cancellation a group-mode response bound to it. Only OSCORE-protected registrations are
     * absorbed (their informative responses go out protected, in the registration's own context);
     * a request without OSCORE gets 4.01. Set before the first registration.
     */
    public synchronized GroupObservedResource protectedBy(GroupObservationSecurity s) {
        if (phantom != null) {
            throw new IllegalStateException("a group observation is running: protection is set before it starts");
        }
        this.security = java.util.Objects.requireNonNull(s);
        return this;
    }

    /**
     * What a deterministic phantom gives to publish out of band (App. D): the plain phantom
     * request (GET, Observe 0, the resource's Uri-Path; no Token) from which every member computes
     * the same deterministic request, that request's transport-independent bytes, and tp_info.
     */
    public record DeterministicPhantom(Request plain, byte[] wire, TpInfo tpInfo) {
    }

    /**
     * Starts the group observation now with a deterministic phantom (observe-multicast-notifications
     * App. D, OMN-13): the phantom is the deterministic request (cacheable-oscore Section 3) of the
     * plain GET with Observe 0 for this resource, protected and processed by {@link #protectedBy
     * the Group OSCORE security}, and stored in {@code phantoms}, which the server's OSCORE layer
     * consults before any OSCORE processing. The informative response to a registration that is
     * that request, byte for byte, is not protected; it carries tp_info and last_notif, and ph_req
     * only when {@code includePhReq} (App. D: it may be omitted, being the client's own request).
     * The resource must be in the server's tree (its path is the phantom's Uri-Path), bound with
     * {@link #sendFrom} and protected with {@link #protectedBy}.
     */
    public synchronized DeterministicPhantom startDeterministic(DeterministicPhantoms phantoms, boolean includePhReq)
            throws OscoreException {
        java.util.Objects.requireNonNull(phantoms);
        if (security == null) {
            throw new IllegalStateException("a deterministic phantom is a Group OSCORE request: protectedBy(...) first");
        }
        if (connector == null || closed) {
            throw new IllegalStateException("not bound to a socket (sendFrom), or closed");
        }
        if (phantom != null) {
            throw new IllegalStateException("a group observation of /" + getName() + " is running");
        }
        Request p = phantomTemplate(new byte[8]);
        for (String seg : getURI().split("/")) {
            if (!seg.isEmpty()) {
                p.getOptions().addUriPath(seg);
            }
        }
        begin(p, true);
        byte[] bytes = TransportIndependent.encode(phantomWire);
        try {
            phantoms.store(bytes, phantom);
        } catch (IllegalStateException full) {
            // the store's limit: nothing runs that would never be recognised
            if (refresh != null) {
                refresh.cancel(false);
            }
            phantom = null;
            latest = null;
            phantomWire = null;
            binding = null;
            latestWire = null;
            token = null;
            throw full;
        }
        deterministicBytes = bytes;
        deterministicPhReq = includePhReq;
        recogniser = phantoms;
        Request published = new Request(phantom.getCode());
        published.setOptions(new org.eclipse.californium.core.coap.OptionSet(phantom.getOptions()));
        return new DeterministicPhantom(published, deterministicBytes.clone(), TpInfo.udp(serverAddress, group, token));
    }

    /**
     * OMN-13: a registration the OSCORE layer recognised as a stored deterministic phantom. When it
     * is this resource's, the informative response is unprotected (the layer sends it so), with
     * tp_info, last_notif (the protected latest notification) and, if configured, ph_req.
     */
    private void answerRecognised(CoapExchange exchange, Request req) {
        InformativeResponse info;
        synchronized (this) {
            if (deterministicBytes == null || closed || !DeterministicPhantoms.isPhantom(req, deterministicBytes)) {
                exchange.respond(CoAP.ResponseCode.NOT_FOUND); // another (or an ended) group observation's phantom
                return;
            }
            observers.incrementAndGet(); // App. D: not a reliable count, every such client is the Deterministic Client
            info = InformativeResponse.of(TpInfo.udp(serverAddress, group, token), deterministicPhReq ? deterministicBytes : null,
                    TransportIndependent.encode(latestWire));
        }
        Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        r.setType(CoAP.Type.CON);
        r.getOptions().setContentFormat(contentFormat).setMaxAge(0);
        r.setPayload(info.encode());
        exchange.accept();
        NoResponseOption nr = req.getOptions().getNoResponse();
        if (nr != null && (nr.getMask() & NoResponseOption.SUPPRESS_SERVER_ERROR) != 0) {
            return; // digest 6.4 step 8: counted, not answered
        }
        exchange.respond(r);
    }

    /** The current representation: a 2.05 (or other 2.xx) with payload and options, no Observe, no Token. */
    protected abstract Response representation();

    @Override
    public void handleGET(CoapExchange exchange) {
        Request req = exchange.advanced().getRequest();
        Integer obs = req.getOptions().hasObserve() ? req.getOptions().getObserve() : null;
        if (DeterministicPhantoms.isRecognised(req)) {
            answerRecognised(exchange, req); // OMN-13: no Group OSCORE processing took place
            return;
        }
        boolean isProtected = OscorePeer.of(req) != null;
        GroupObservationSecurity sec;
        synchronized (this) {
            sec = security;
        }
        if (sec != null && !isProtected) {
            // notifications are protected, so registrations and unicast responses are too (digest 6.6): a request
            // without OSCORE gets 4.01 Unauthorized and no representation (the draft names no error for it)
            exchange.respond(CoAP.ResponseCode.UNAUTHORIZED);
            return;
        }
        if (obs == null || obs != 0 || sec == null && isProtected) {
            // without Group OSCORE, a protected registration is not taken into the group observation: its
            // notifications would go out in plaintext (digest 6.6, OMN-11), so it is answered as usual
            exchange.respond(representation());
            return;
        }
        InformativeResponse info;
        synchronized (this) {
            if (connector == null || closed) {
                exchange.respond(representation()); // not bound to a socket, or closed: plain answers only
                return;
            }
            boolean running = phantom != null;
            if (!running) {
                try {
                    start(req);
                } catch (OscoreException e) {
                    // fail closed: no phantom could be protected (a closed context, exhausted sequence numbers)
                    LOG.warn("group observation of /{} not started: {}", getName(), e.getMessage());
                    exchange.respond(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
                    return;
                }
            } else if (!GroupObservationClient.satisfies(phantom, req)) {
                // another query or Accept than the phantom's: not absorbed, so that one registration cannot decide what
                // every later observer may join (a traditional answer, no observation)
                exchange.respond(representation());
                return;
            }
            // a re-registration answering a Feedback-Divider is a confirmation, not a new observer (OMN-09)
            if (!running || counting == null || !counting.confirmation(req)) {
                observers.incrementAndGet();
            }
            // Group OSCORE: ph_req is the protected phantom (code FETCH, outer options, ciphertext and signature) and
            // last_notif the protected latest notification (digest 6.6)
            info = InformativeResponse.of(TpInfo.udp(serverAddress, group, token),
                    TransportIndependent.encode(security != null ? phantomWire : phantom),
                    TransportIndependent.encode(security != null ? latestWire : latest));
        }
        Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        r.setType(CoAP.Type.CON);
        r.getOptions().setContentFormat(contentFormat);
        OscorePeer from = OscorePeer.of(req);
        if (from == null || from.mode() != ProtectionMode.DETERMINISTIC) {
            // a response to a deterministic request must not have Max-Age 0 (DET-07): it goes without (outer Max-Age 60)
            r.getOptions().setMaxAge(0);
        }
        r.setPayload(info.encode());
        NoResponseOption nr = req.getOptions().getNoResponse();
        if (nr != null && (nr.getMask() & NoResponseOption.SUPPRESS_SERVER_ERROR) != 0) {
            // a client that knows the phantom: counted, not answered (digest 6.4 step 8); a CON registration still
            // gets its empty ACK (No-Response suppresses the response, not the acknowledgement)
            exchange.accept();
            return;
        }
        exchange.accept(); // the informative response is a separate response (protected by the OSCORE layer, OMN-11)
        exchange.respond(r);
    }

    /** Phantom, Token and initial notification (digest 6.1); the caller holds the lock. */
    void start(Request registration) throws OscoreException {
        Request p = phantomTemplate(new byte[8]);
        for (String s : registration.getOptions().getUriPath()) {
            p.getOptions().addUriPath(s);
        }
        for (String q : registration.getOptions().getUriQuery()) {
            p.getOptions().addUriQuery(q);
        }
        if (registration.getOptions().hasAccept()) {
            p.getOptions().setAccept(registration.getOptions().getAccept());
        }
        begin(p, false);
    }

    /** A GET with Observe 0 under a fresh Token T of this server's own Token space (digest 6.1 steps 1-2). */
    private static Request phantomTemplate(byte[] t) {
        RANDOM.nextBytes(t);
        Request p = new Request(CoAP.Code.GET, CoAP.Type.NON);
        p.setToken(t);
        p.getOptions().setObserve(0);
        return p;
    }

    /** Protects (with Group OSCORE) and processes the phantom {@code p}, prepares INIT_NOTIF; the caller holds the lock. */
    private void begin(Request p, boolean deterministic) throws OscoreException {
        byte[] t = p.getTokenBytes();
        int firstObserve = (RANDOM.nextInt(1 << 16) + 1) & 0xffffff;
        GroupObservationSecurity.Phantom ph = null;
        Response first = representation();
        first.getOptions().setObserve(firstObserve);
        Response firstWire = null;
        if (security != null) {
            // OMN-10: protected with the server's own Sender ID and a consumed SSN, then processed by the server itself
            ph = deterministic ? security.protectDeterministicPhantom(p) : security.protectPhantom(p);
            firstWire = protect(first, ph.binding());
        }
        // both exist: only now does the group observation change (a failed start leaves everything as it was)
        if (ph != null) {
            phantomWire = ph.wire();
            binding = ph.binding();
            p = ph.plain();
        }
        observe = firstObserve;
        latestWire = firstWire;
        token = t;
        phantom = p;
        latest = first;
        schedule();
        LOG.info("group observation of /{} started: Token {}, notifications to {}", getName(), Hex.encode(token), group);
    }

    private Response numbered(Response r) {
        observe = (observe + 1) & 0xffffff;
        r.getOptions().setObserve(observe);
        return r;
    }

    /** A change: one notification to the group (OMN-04), stored as the latest. */
    @Override
    public void changed() {
        synchronized (this) {
            if (phantom == null) {
                return;
            }
            try {
                Response next = numbered(representation());
                // Feedback-Divider in this one notification when a count was asked for (OMN-09), not kept in
                // last_notif; unprotected variant only (a protected count is not done: clients never answer one in
                // plaintext)
                boolean feedback = security == null && counting != null && counting.mark(next);
                try {
                    Response nextWire = security != null ? protect(next) : null; // both or neither are the latest
                    latest = next;
                    latestWire = nextWire;
                    send(security != null ? latestWire : latest);
                    if (feedback) {
                        counting.sent();
                    }
                } finally {
                    if (feedback) {
                        counting.unmark(next);
                    }
                }
            } catch (OscoreException e) {
                notSent.incrementAndGet(); // fail closed: nothing in plaintext
                LOG.warn("group observation of /{}: a notification could not be protected: {}", getName(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("group observation of /{}: a notification was not sent: {}", getName(), e.toString());
            } finally {
                schedule(); // the refresh keeps running whatever happened to this one (OMN-05)
            }
        }
    }

    private void schedule() {
        if (refresh != null) {
            refresh.cancel(false);
        }
        if (closed) {
            return;
        }
        long maxAge = latest.getOptions().hasMaxAge() ? latest.getOptions().getMaxAge() : DEFAULT_MAX_AGE_S;
        refresh = timer.schedule(this::refreshExpired, Math.max(1, maxAge), TimeUnit.SECONDS);
    }

    /** OMN-05: the stored notification outlived its Max-Age; a fresh one goes out. */
    private void refreshExpired() {
        changed();
    }

    /** OMN-06: multicast 5.03 with Token T, no payload, no Observe; the group observation ends and T is freed. */
    public void cancel() {
        synchronized (this) {
            if (phantom == null) {
                return;
            }
            try {
                Response c = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
                // OMN-11: Group OSCORE protects the cancellation too, with the server's own Partial IV (digest 6.6)
                send(security != null ? protect(c) : c);
            } catch (OscoreException e) {
                notSent.incrementAndGet();
                LOG.warn("group observation of /{}: the cancellation could not be protected: {}", getName(), e.getMessage());
            } catch (RuntimeException e) {
                LOG.warn("group observation of /{}: the cancellation was not sent: {}", getName(), e.toString());
            } finally {
                if (refresh != null) {
                    refresh.cancel(false);
                }
                phantom = null;
                latest = null;
                phantomWire = null;
                binding = null;
                latestWire = null;
                token = null;
                if (recogniser != null) {
                    recogniser.remove(deterministicBytes); // OMN-13: no longer recognised
                    recogniser = null;
                    deterministicBytes = null;
                }
                observers.set(0);
                if (counting != null) {
                    counting.reset();
                }
            }
        }
    }

    /**
     * A group-mode response bound to the phantom (request_kid, request_piv, request_kid_context of
     * the protected phantom in the AAD), with its own Partial IV: the binding never hands out the
     * phantom's nonce (digest 6.6). The caller holds the lock.
     */
    private Response protect(Response plain) throws OscoreException {
        return protect(plain, binding);
    }

    private Response protect(Response plain, RequestIdentifiers to) throws OscoreException {
        Response in = new Response(plain.getCode());
        in.setOptions(new org.eclipse.californium.core.coap.OptionSet(plain.getOptions()));
        in.setPayload(plain.getPayload());
        return security.pipeline().protectResponse(in, to);
    }

    private void send(Response r) {
        MulticastGuard.checkDestination(group);
        r.setType(CoAP.Type.NON);
        r.setToken(Token.fromProvider(token));
        r.setMID(RANDOM.nextInt(1 << 16));
        byte[] bytes = new UdpDataSerializer().getByteArray(r);
        connector.send(RawData.outbound(bytes, new AddressEndpointContext(group), null, false));
        multicastSent.incrementAndGet();
    }

    /** Notifications and cancellations not sent because they could not be protected (fail closed). */
    public long notProtected() {
        return notSent.get();
    }

    /** Group OSCORE: the protected phantom as ph_req carries it, or null (unprotected variant, or not running). */
    public synchronized Request protectedPhantom() {
        return phantomWire;
    }

    /**
     * Enables the rough counting of clients (OMN-09) with {@code config}; {@link FeedbackCounting#start()}
     * then asks for a count. Once per resource.
     */
    public FeedbackCounting counting(FeedbackCounting.Config config) {
        return counting(config, () -> System.nanoTime() / 1_000_000);
    }

    /** {@link #counting(FeedbackCounting.Config)} with the clock (milliseconds, monotonic) the window is measured on. */
    public synchronized FeedbackCounting counting(FeedbackCounting.Config config, java.util.function.LongSupplier clockMs) {
        if (counting != null) {
            throw new IllegalStateException("rough counting is already enabled on /" + getName());
        }
        counting = new FeedbackCounting(config, this, observers::get, observers::set, timer, clockMs);
        return counting;
    }

    /** The rough counting, or null when not enabled. */
    public synchronized FeedbackCounting counting() {
        return counting;
    }

    /** The observer counter (digest 6.1 step 5). */
    public long observers() {
        return observers.get();
    }

    /** Datagrams this group observation sent to the group: one per change, refresh and cancellation. */
    public long multicastSent() {
        return multicastSent.get();
    }

    /** The Observe number of the latest notification (tests: a failed start leaves it as it was). */
    synchronized int observeNumber() {
        return observe;
    }

    /** The Token T of the running group observation, or null. */
    public synchronized byte[] token() {
        return token == null ? null : Arrays.copyOf(token, token.length);
    }

    /** Stops the refresh timer (the resource's server is going away). */
    public void close() {
        synchronized (this) {
            closed = true;
        }
        try {
            cancel();
        } finally {
            timer.shutdownNow();
        }
    }
}
