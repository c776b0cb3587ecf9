package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.io.Closeable;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * The client of a group observation (observe-multicast-notifications, digest 6.4, unprotected
 * variant): takes the informative response to its registration, checks it strictly, rebuilds
 * the phantom request, processes last_notif as the first notification and the baseline of the
 * order (OMN-08), then listens on tpi_client for notifications from tpi_server with Token
 * tpi_token, delivering each in RFC 7641 Section 3.4 order, and ends on the server's
 * cancellation (a 5.03 without Observe, OMN-06). Anything unusable in the informative response
 * is a {@link Withdraw}: the client does not join (digest 6.4 step 7).
 *
 * <p>Datagrams from another source, with another Token, of another type than NON, or that do
 * not parse are dropped and counted; so are notifications older than the last delivered one.
 */
public final class GroupObservationClient implements Closeable {

    /** The informative response cannot be used; the client withdraws (or registers again). */
    public static final class Withdraw extends Exception {
        public Withdraw(String why) {
            super(why);
        }
    }

    /** What arrives: each notification in order, and the end (the server's cancellation, or close). */
    public interface Listener {
        void notification(Response notification, boolean fromLastNotif);

        void ended(String why);

        /**
         * A notification that did not verify was dropped (Group OSCORE). Said once per distinct
         * reason, at most {@link #MAX_REASONS_REPORTED} times per observation: such a datagram is
         * unauthenticated, so it never ends the observation, but a reason such as an unknown Gid
         * (the group was rekeyed and this client does not hold the new epoch, GRP-21) is not silent.
         */
        default void unverified(String why) {
        }
    }

    /** How many distinct reasons for dropping an unverified notification are told to the listener. */
    public static final int MAX_REASONS_REPORTED = 4;
    private final java.util.Set<String> reasonsReported = new java.util.HashSet<>();

    private final TpInfo tp;
    private final Request phantom;
    private final MulticastSocket socket;
    private final Listener listener;
    private final UdpDataParser parser;
    private final Thread thread;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong delivered = new AtomicLong();
    private final Consumer<Integer> feedback;
    /** Group OSCORE: what verifies the notifications, and the verified phantom's identifiers they are bound to. */
    private final GroupObservationSecurity security;
    private final RequestIdentifiers binding;
    private volatile boolean closed;
    private long lastObserve = -1;
    private long lastAt;

    private GroupObservationClient(TpInfo tp, Request phantom, MulticastSocket socket, Listener listener, OptionRegistry registry,
                                   Consumer<Integer> feedback, GroupObservationSecurity security, RequestIdentifiers binding) {
        this.security = security;
        this.binding = binding;
        this.tp = tp;
        this.phantom = phantom;
        this.socket = socket;
        this.listener = listener;
        this.parser = new UdpDataParser(false, registry);
        this.feedback = feedback;
        this.thread = new Thread(this::receive, "group-observation-client");
        this.thread.setDaemon(true);
    }

    /**
     * Checks {@code informative} against the registration {@code own} and starts listening.
     *
     * @param contentFormat the number of application/informative-response+cbor
     * @param nif the interface to join the group on
     * @param feedback called with Q when a notification carries Feedback-Divider and this
     *     client's draw says answer (OMN-09); null: never answer
     */
    public static GroupObservationClient join(Response informative, Request own, int contentFormat, NetworkInterface nif,
                                              OptionRegistry registry, Listener listener, Consumer<Integer> feedback)
            throws Withdraw, IOException {
        return join(informative, own, contentFormat, nif, registry, listener, feedback, null);
    }

    /**
     * The same, for the Group OSCORE variant when {@code security} is not null (digest 6.6,
     * OMN-10): the informative response must have come protected, its ph_req is verified as the
     * phantom (no replay check, no delivery), last_notif and every notification are verified as
     * group-mode responses to it; a notification that does not verify is dropped and counted.
     */
    public static GroupObservationClient join(Response informative, Request own, int contentFormat, NetworkInterface nif,
                                              OptionRegistry registry, Listener listener, Consumer<Integer> feedback,
                                              GroupObservationSecurity security) throws Withdraw, IOException {
        return listen(check(informative, own, contentFormat, registry, security), nif, registry, listener, feedback, security);
    }

    /**
     * The client of a group observation whose phantom is a deterministic request
     * (observe-multicast-notifications App. D, OMN-13): {@code sent} is the deterministic request
     * this client computed from the plain phantom and sent as its registration; the informative
     * response to it (unprotected, App. D) is checked with {@link #checkDeterministic}, and every
     * notification is verified as a group-mode response to {@code sent} with {@code pipeline}.
     */
    public static GroupObservationClient joinDeterministic(Response informative, ProtectionPipeline.ProtectedRequest sent,
                                                           int contentFormat, NetworkInterface nif, OptionRegistry registry,
                                                           Listener listener, ProtectionPipeline pipeline)
            throws Withdraw, IOException {
        return listen(checkDeterministic(informative, sent, contentFormat, registry, pipeline), nif, registry, listener, null,
                verifierOnly(pipeline));
    }

    /** What verifies the notifications of a deterministic phantom: the pipeline alone (the binding is the sent request's). */
    private static GroupObservationSecurity verifierOnly(ProtectionPipeline pipeline) {
        java.util.Objects.requireNonNull(pipeline);
        return new GroupObservationSecurity() {
            @Override
            public ProtectionPipeline pipeline() {
                return pipeline;
            }

            @Override
            public Phantom protectPhantom(Request plain) throws OscoreException {
                throw new OscoreException.ProtectionRefused("a client protects no phantom");
            }

            @Override
            public Phantom verifyPhantom(Request rebuilt, OscorePeer responder) throws OscoreException {
                throw new OscoreException.ProtectionRefused("a deterministic phantom is the client's own request: nothing to verify");
            }
        };
    }

    private static GroupObservationClient listen(Parsed p, NetworkInterface nif, OptionRegistry registry, Listener listener,
                                                 Consumer<Integer> feedback, GroupObservationSecurity security)
            throws IOException {
        MulticastGuard.checkGroupPort(p.tp.client().getPort());
        // bound to the group's address, not the wildcard: only datagrams to the group reach this socket, whatever
        // else shares the port
        MulticastSocket s = new MulticastSocket(p.tp.client());
        try {
            s.joinGroup(new InetSocketAddress(p.tp.client().getAddress(), 0), nif);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
        GroupObservationClient c = new GroupObservationClient(p.tp, p.phantom, s, listener, registry, feedback, security,
                p.binding);
        if (p.last != null) {
            c.offer(p.last, true);
        }
        c.thread.start();
        return c;
    }

    /**
     * What a usable informative response gives: where to listen, the phantom, the latest
     * notification (or null), and with Group OSCORE the verified phantom's identifiers (or null).
     */
    public record Parsed(TpInfo tp, Request phantom, Response last, RequestIdentifiers binding) {
        public Parsed(TpInfo tp, Request phantom, Response last) {
            this(tp, phantom, last, null);
        }
    }

    /** The strict checks of digest 6.4, with nothing joined: OMN-01 on the receiving side, OMN-07, step 4. */
    public static Parsed check(Response informative, Request own, int contentFormat, OptionRegistry registry) throws Withdraw {
        return check(informative, own, contentFormat, registry, null);
    }

    /**
     * The checks, and with {@code security} the Group OSCORE ones (digest 6.6): a protected
     * informative response (OMN-11), a ph_req that is there and verifies as the phantom, and a
     * last_notif that verifies as its response; the phantom returned is the decrypted one.
     */
    public static Parsed check(Response informative, Request own, int contentFormat, OptionRegistry registry,
                               GroupObservationSecurity security) throws Withdraw {
        if (security != null && OscorePeer.of(informative) == null) {
            throw new Withdraw("an unprotected informative response, where notifications are protected (OMN-11)");
        }
        InformativeResponse ir = header(informative, contentFormat);
        TpInfo tp = listenable(ir);
        Request phantom;
        try {
            phantom = ir.phReq() == null ? own : TransportIndependent.request(ir.phReq(), registry, "ph_req");
        } catch (IllegalArgumentException e) {
            throw new Withdraw(e.getMessage());
        }
        RequestIdentifiers binding = null;
        if (security != null) {
            if (ir.phReq() == null) {
                throw new Withdraw("no ph_req: with Group OSCORE the informative response is malformed without it (digest 6.6)");
            }
            phantom.setToken(tp.token());
            phantom.setType(CoAP.Type.NON);
            try {
                GroupObservationSecurity.Phantom v = security.verifyPhantom(phantom, OscorePeer.of(informative));
                phantom = v.plain();
                binding = v.binding();
            } catch (OscoreException e) {
                throw new Withdraw("the phantom request did not verify: " + e.getMessage());
            }
        }
        if (!satisfies(phantom, own)) {
            throw new Withdraw("the phantom request asks for something else than this registration (digest 6.4 step 4)");
        }
        Response last = null;
        if (ir.lastNotif() != null) {
            try {
                last = TransportIndependent.response(ir.lastNotif(), registry, "last_notif");
            } catch (IllegalArgumentException e) {
                throw new Withdraw(e.getMessage());
            }
            if (!last.getOptions().hasObserve()) {
                throw new Withdraw("last_notif has no Observe option");
            }
            // the server's latest notification: from tpi_server, like the multicast ones (who sent it, and with Group
            // OSCORE the verified peer, is then the same for all of them)
            last.setSourceContext(new AddressEndpointContext(tp.server()));
            if (security != null) {
                last.setToken(tp.token());
                last.setType(CoAP.Type.NON);
                try {
                    // OMN-08 with Group OSCORE: its Partial IV is the first of this server's Response Numbers
                    last = security.pipeline().unprotectResponse(last, binding).plain();
                } catch (OscoreException e) {
                    throw new Withdraw("last_notif did not verify as a response to the phantom: " + e.getMessage());
                }
                if (!last.getOptions().hasObserve()) {
                    throw new Withdraw("last_notif has no inner Observe option");
                }
            }
        }
        return new Parsed(tp, phantom, last, binding);
    }

    /**
     * The checks of an informative response to a deterministic request this client sent
     * (observe-multicast-notifications App. D, OMN-13): the digest 6.4 checks of the message and
     * tp_info; a ph_req, when there is one, must be byte for byte the transport-independent part
     * (code, options, payload) of {@code sent}, or the informative response is malformed and the
     * client withdraws; last_notif must verify as a group-mode response to {@code sent}. The
     * binding returned is {@code sent}'s identifiers (what the notifications are bound to), the
     * phantom {@code sent}'s wire request.
     */
    public static Parsed checkDeterministic(Response informative, ProtectionPipeline.ProtectedRequest sent, int contentFormat,
                                            OptionRegistry registry, ProtectionPipeline pipeline) throws Withdraw {
        if (sent.identifiers().mode() != ProtectionMode.DETERMINISTIC) {
            throw new IllegalArgumentException("not a deterministic request: " + sent.identifiers().mode());
        }
        InformativeResponse ir = header(informative, contentFormat);
        TpInfo tp = listenable(ir);
        byte[] own = TransportIndependent.encode(sent.wire());
        if (ir.phReq() != null && !Arrays.equals(ir.phReq(), own)) {
            // App. D: ph_req with other transport-independent information than the sent Deterministic Request
            throw new Withdraw("malformed informative response: ph_req is not the deterministic request sent (App. D, OMN-13)");
        }
        RequestIdentifiers binding = sent.identifiers();
        Response last = null;
        if (ir.lastNotif() != null) {
            try {
                last = TransportIndependent.response(ir.lastNotif(), registry, "last_notif");
            } catch (IllegalArgumentException e) {
                throw new Withdraw(e.getMessage());
            }
            last.setToken(tp.token());
            last.setType(CoAP.Type.NON);
            try {
                last = pipeline.unprotectResponse(last, binding).plain();
            } catch (OscoreException e) {
                throw new Withdraw("last_notif did not verify as a response to the deterministic request: " + e.getMessage());
            }
            if (!last.getOptions().hasObserve()) {
                throw new Withdraw("last_notif has no Observe option");
            }
        }
        return new Parsed(tp, sent.wire(), last, binding);
    }

    /** OMN-01 on the receiving side: code, no Observe, Content-Format, and a payload that decodes. */
    private static InformativeResponse header(Response informative, int contentFormat) throws Withdraw {
        if (informative.getCode() != CoAP.ResponseCode.SERVICE_UNAVAILABLE) {
            throw new Withdraw("not an informative response: code " + informative.getCode());
        }
        if (informative.getOptions().hasObserve()) {
            throw new Withdraw("an informative response has no Observe option");
        }
        if (informative.getOptions().getContentFormat() != contentFormat) {
            throw new Withdraw("a 5.03 without the Content-Format of application/informative-response+cbor (" + contentFormat
                    + ")");
        }
        try {
            return InformativeResponse.decode(informative.getPayload());
        } catch (IllegalArgumentException e) {
            throw new Withdraw("malformed informative response: " + e.getMessage());
        }
    }

    /** A tp_info with a multicast tpi_client: somewhere to listen. */
    private static TpInfo listenable(InformativeResponse ir) throws Withdraw {
        TpInfo tp = ir.tpInfo();
        if (tp == null || tp.client() == null) {
            throw new Withdraw("no tp_info with tpi_client and tpi_token: nowhere to listen");
        }
        if (!tp.client().getAddress().isMulticastAddress()) {
            throw new Withdraw("tpi_client is not a multicast address");
        }
        return tp;
    }

    /** The phantom's responses satisfy the registration: the same method, resource and query, Observe 0. */
    static boolean satisfies(Request phantom, Request own) {
        return phantom.getCode() == own.getCode() && phantom.getOptions().hasObserve() && phantom.getOptions().getObserve() == 0
                && phantom.getOptions().getUriPath().equals(own.getOptions().getUriPath())
                && phantom.getOptions().getUriQuery().equals(own.getOptions().getUriQuery())
                && java.util.Objects.equals(phantom.getOptions().hasAccept() ? phantom.getOptions().getAccept() : null,
                        own.getOptions().hasAccept() ? own.getOptions().getAccept() : null);
    }

    private void receive() {
        try {
            receiveLoop();
        } catch (RuntimeException e) {
            // whatever the listener threw: the observation ends here, said once, and the socket is closed
            boolean wasOpen = !closed;
            close();
            if (wasOpen) {
                listener.ended("the group observation stopped: " + e);
            }
        }
    }

    private void receiveLoop() {
        byte[] buf = new byte[65536];
        while (!closed) {
            DatagramPacket d = new DatagramPacket(buf, buf.length);
            try {
                socket.receive(d);
            } catch (IOException e) {
                if (!closed) {
                    closed = true;
                    listener.ended("socket: " + e.getMessage());
                }
                return;
            }
            if (d.getLength() >= buf.length) {
                dropped.incrementAndGet(); // truncated
                continue;
            }
            if (!tp.server().equals(d.getSocketAddress())) {
                dropped.incrementAndGet(); // notifications come from tpi_server only
                continue;
            }
            Message m;
            try {
                m = parser.parseMessage(Arrays.copyOf(buf, d.getLength()));
            } catch (RuntimeException e) {
                dropped.incrementAndGet();
                continue;
            }
            if (!(m instanceof Response r) || r.getType() != CoAP.Type.NON || !Arrays.equals(r.getTokenBytes(), tp.token())) {
                dropped.incrementAndGet();
                continue;
            }
            r.setSourceContext(new AddressEndpointContext((InetSocketAddress) d.getSocketAddress()));
            if (security != null) {
                try {
                    // a group-mode response to the phantom (request_kid, request_piv, request_kid_context of the phantom)
                    // from the server that protected it; an older or repeated Partial IV is not delivered (GRP-19)
                    r = security.pipeline().unprotectResponse(r, binding).plain();
                } catch (OscoreException e) {
                    dropped.incrementAndGet();
                    String why = e.getMessage();
                    if (reasonsReported.size() < MAX_REASONS_REPORTED && reasonsReported.add(why)) {
                        listener.unverified(why);
                    }
                    continue;
                }
            }
            if (!r.getOptions().hasObserve()) {
                if (r.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE) {
                    closed = true;
                    socket.close();
                    listener.ended("the server cancelled the group observation (5.03, Token " + Hex.encode(tp.token()) + ")");
                    return;
                }
                dropped.incrementAndGet();
                continue;
            }
            offer(r, false);
        }
    }

    /** RFC 7641 Section 3.4: deliver only what is newer than the last delivered notification. */
    private synchronized void offer(Response r, boolean fromLastNotif) {
        long v = r.getOptions().getObserve();
        long now = System.nanoTime();
        if (lastObserve >= 0) {
            boolean newer = lastObserve < v && v - lastObserve < (1 << 23) || lastObserve > v && lastObserve - v > (1 << 23)
                    || now - lastAt > 128_000_000_000L;
            if (!newer) {
                dropped.incrementAndGet();
                return;
            }
        }
        lastObserve = v;
        lastAt = now;
        delivered.incrementAndGet();
        Integer q = null;
        if (!fromLastNotif && feedback != null) { // OMN-08: a Feedback-Divider rebuilt from last_notif is ignored
            for (Option o : r.getOptions().getOthers()) {
                if (o.getNumber() == feedbackNumber) {
                    q = FeedbackDivider.decode(o.getValue()); // -1: not a 0-1 byte uint, ignored
                }
            }
        }
        listener.notification(r, fromLastNotif); // read first: a listener may strip the option before passing it on
        java.util.random.RandomGenerator d = draw;
        if (q != null && q >= 0 && q <= FeedbackDivider.MAX_Q
                && FeedbackDivider.answers(q, d != null ? d : java.util.concurrent.ThreadLocalRandom.current())) {
            feedback.accept(q);
        }
    }

    private int feedbackNumber = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number();

    private volatile java.util.random.RandomGenerator draw;

    /** The generator of the Feedback-Divider draw (OMN-09); null: ThreadLocalRandom. Tests seed it. */
    public GroupObservationClient feedbackDraw(java.util.random.RandomGenerator random) {
        this.draw = random;
        return this;
    }

    /** With a registry that moved Feedback-Divider to another number. */
    public GroupObservationClient feedbackOption(int number) {
        this.feedbackNumber = number;
        return this;
    }

    public TpInfo tpInfo() {
        return tp;
    }

    public Request phantom() {
        return phantom;
    }

    /** Group OSCORE: the verified phantom's identifiers (kid, Partial IV, kid context), or null. */
    public RequestIdentifiers binding() {
        return binding;
    }

    public long dropped() {
        return dropped.get();
    }

    public long delivered() {
        return delivered.get();
    }

    /** Forgets the group observation (the client's cancellation: nothing is sent, digest 6.3). */
    @Override
    public void close() {
        closed = true;
        socket.close();
    }

    /** The interface named, or null for none named: the system then chooses by its routes (its default multicast interface). */
    public static NetworkInterface networkInterface(String name) throws SocketException {
        if (name == null) {
            return null;
        }
        NetworkInterface n = NetworkInterface.getByName(name);
        if (n == null) {
            throw new SocketException("no network interface " + name);
        }
        return n;
    }

    static List<String> path(Request r) {
        return r.getOptions().getUriPath();
    }
}
