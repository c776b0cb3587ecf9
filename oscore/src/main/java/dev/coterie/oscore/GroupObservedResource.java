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
    private int observe;
    private ScheduledFuture<?> refresh;
    private boolean closed;
    private final AtomicLong observers = new AtomicLong();
    private final AtomicLong multicastSent = new AtomicLong();
    private FeedbackCounting counting;

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

    /** The current representation: a 2.05 (or other 2.xx) with payload and options, no Observe, no Token. */
    protected abstract Response representation();

    @Override
    public void handleGET(CoapExchange exchange) {
        Request req = exchange.advanced().getRequest();
        Integer obs = req.getOptions().hasObserve() ? req.getOptions().getObserve() : null;
        if (obs == null || obs != 0 || OscorePeer.of(req) != null) {
            // a protected registration is not taken into the group observation: its notifications would go out in
            // plaintext (digest 6.6, OMN-11; the Group OSCORE variant is not implemented), so it is answered as usual
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
                start(req);
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
            info = InformativeResponse.of(TpInfo.udp(serverAddress, group, token), TransportIndependent.encode(phantom),
                    TransportIndependent.encode(latest));
        }
        Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        r.setType(CoAP.Type.CON);
        r.getOptions().setContentFormat(contentFormat).setMaxAge(0);
        r.setPayload(info.encode());
        NoResponseOption nr = req.getOptions().getNoResponse();
        if (nr != null && (nr.getMask() & NoResponseOption.SUPPRESS_SERVER_ERROR) != 0) {
            // a client that knows the phantom: counted, not answered (digest 6.4 step 8); a CON registration still
            // gets its empty ACK (No-Response suppresses the response, not the acknowledgement)
            exchange.accept();
            return;
        }
        exchange.accept(); // the informative response is a separate response
        exchange.respond(r);
    }

    /** Phantom, Token and initial notification (digest 6.1); the caller holds the lock. */
    private void start(Request registration) {
        token = new byte[8];
        RANDOM.nextBytes(token);
        Request p = new Request(CoAP.Code.GET);
        p.getOptions().setObserve(0);
        for (String s : registration.getOptions().getUriPath()) {
            p.getOptions().addUriPath(s);
        }
        for (String q : registration.getOptions().getUriQuery()) {
            p.getOptions().addUriQuery(q);
        }
        if (registration.getOptions().hasAccept()) {
            p.getOptions().setAccept(registration.getOptions().getAccept());
        }
        phantom = p;
        observe = RANDOM.nextInt(1 << 16);
        latest = numbered(representation());
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
                latest = numbered(representation());
                // Feedback-Divider in this one notification when a count was asked for (OMN-09), not kept in last_notif
                boolean feedback = counting != null && counting.mark(latest);
                try {
                    send(latest);
                    if (feedback) {
                        counting.sent();
                    }
                } finally {
                    if (feedback) {
                        counting.unmark(latest);
                    }
                }
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
                send(new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE));
            } catch (RuntimeException e) {
                LOG.warn("group observation of /{}: the cancellation was not sent: {}", getName(), e.toString());
            } finally {
                if (refresh != null) {
                    refresh.cancel(false);
                }
                phantom = null;
                latest = null;
                token = null;
                observers.set(0);
                if (counting != null) {
                    counting.reset();
                }
            }
        }
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
