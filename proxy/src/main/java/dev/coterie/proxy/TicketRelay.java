package dev.coterie.proxy;

import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ticket requests at the proxy next to the server (multicast-notifications-proxy Section 4.2,
 * digest 7.3 step 3, MNP-02, MNP-04, MNP-05). A ticket request is never forwarded: the proxy
 * removes the proxy options (Proxy-Uri, Proxy-Scheme, Proxy-Cri, Proxy-Scheme-Number, and the
 * Uri-Host / Uri-Port that came with a Proxy-Scheme), Hop-Limit and Listen-To-Multicast-Responses,
 * and the rest of the outer message (code, options, payload) is the phantom request, taken as
 * opaque bytes: in the Group OSCORE variant it is ciphertext and an encrypted countersignature
 * the proxy cannot read. The option's tp_info, decoded strictly, says where to listen
 * (tpi_client), whose datagrams to take (tpi_server, which must be the request's target) and
 * with which Token (tpi_token).
 *
 * <p>Every ticket client of one group observation (the same tp_info and the same phantom
 * bytes) shares one listener; nothing is sent to the server, whose counter already counted the
 * client's own registration. The first answer to a new ticket client is the latest notification
 * received for the group observation, with the client's Token; with none yet, an empty ACK to a
 * CON ticket request. Each multicast notification then goes to every ticket client with its own
 * Token and its own Observe sequence; payload and OSCORE option are passed on untouched.
 *
 * <p>The proxy cannot verify a Group OSCORE notification (its countersignature is encrypted
 * with the group's keys, which the proxy does not have): a notification whose Observe does not
 * advance, or, when it carries an OSCORE option, whose Partial IV does not advance or is
 * missing, is dropped before fan-out and counted; the ticket clients verify what is passed on.
 */
final class TicketRelay {
    private static final Logger LOG = LoggerFactory.getLogger(TicketRelay.class);
    /** The Max-Age a notification has when it carries none (RFC 7252 5.10.5), the server's re-send period (OMN-05). */
    static final long DEFAULT_MAX_AGE_S = 60;

    /** How the forwarder answers a ticket request itself (code, diagnostic, outcome). */
    interface Answer {
        void answer(Exchange e, ResponseCode code, String diagnostic, ProxyMetrics.Outcome outcome);
    }

    private final ForwardTarget.Numbers numbers;
    private final ProxyMetrics metrics;
    private final ProxyConfig.Limits limits;
    private final ScheduledExecutorService timer;
    private final OptionRegistry recognised;
    private final AtomicInteger joined;
    private final BiFunction<Request, Response, String> refusal;
    private final BiConsumer<Exchange, ObserveRelay> attach;
    private final Answer answer;
    private final ConcurrentHashMap<ResponseCache.Key, ObserveRelay> relays = new ConcurrentHashMap<>();

    /**
     * @param joined the group observations the proxy listens to (shared with the unprotected
     *     variant's joins, bounded by group_observations.max_joined)
     * @param attach gives an exchange its Observe relation on a relay and answers it from there
     */
    TicketRelay(ForwardTarget.Numbers numbers, ProxyMetrics metrics, ProxyConfig.Limits limits, ScheduledExecutorService timer,
                OptionRegistry recognised, AtomicInteger joined, BiFunction<Request, Response, String> refusal,
                BiConsumer<Exchange, ObserveRelay> attach, Answer answer) {
        this.numbers = numbers;
        this.metrics = metrics;
        this.limits = limits;
        this.timer = timer;
        this.recognised = recognised;
        this.joined = joined;
        this.refusal = refusal;
        this.attach = attach;
        this.answer = answer;
    }

    /** What a ticket request gives: the tp_info, the phantom (with Token tpi_token) and the key of its group observation. */
    record Ticket(TpInfo tp, Request phantom, byte[] phantomBytes, ResponseCache.Key key) {
    }

    /**
     * The phantom a ticket request carries, or why there is none: a {@link ForwardTarget.Refusal}
     * with the code to answer.
     */
    Ticket parse(Request req, ForwardTarget target) throws ForwardTarget.Refusal {
        Option ltmr = ForwardTarget.other(req.getOptions(), numbers.listenToMulticastResponses());
        byte[] v = ltmr.getValue();
        if (v.length < 3 || v.length > 1024) {
            // RFC 7252 5.4.3: a length outside the option's range is an unrecognised option, and this one is critical
            throw new ForwardTarget.Refusal(ResponseCode.BAD_OPTION, "Listen-To-Multicast-Responses of " + v.length
                    + " bytes (3 to 1024)");
        }
        TpInfo tp;
        try {
            tp = TpInfo.decode(v, "Listen-To-Multicast-Responses");
        } catch (IllegalArgumentException e) {
            throw new ForwardTarget.Refusal(ResponseCode.BAD_REQUEST, e.getMessage());
        }
        if (tp.client() == null) {
            throw new ForwardTarget.Refusal(ResponseCode.BAD_REQUEST,
                    "Listen-To-Multicast-Responses has no tpi_client and tpi_token: nowhere to listen");
        }
        if (!tp.client().getAddress().isMulticastAddress()) {
            throw new ForwardTarget.Refusal(ResponseCode.BAD_REQUEST, "tpi_client is not a multicast address");
        }
        try {
            dev.coterie.oscore.MulticastGuard.checkGroupPort(tp.client().getPort());
        } catch (IllegalArgumentException e) {
            throw new ForwardTarget.Refusal(ResponseCode.BAD_REQUEST, e.getMessage());
        }
        InetSocketAddress server = new InetSocketAddress(target.address(), target.origin().port());
        if (!server.equals(tp.server())) {
            // the access rules allowed this client the request's target, and only that server's datagrams are taken
            throw new ForwardTarget.Refusal(ResponseCode.UNAUTHORIZED,
                    "tpi_server is not the request's target: forwarding not authorised");
        }
        boolean schemeOptions = req.getOptions().hasProxyScheme()
                || ForwardTarget.other(req.getOptions(), numbers.proxySchemeNumber()) != null;
        Request ph = new Request(req.getCode());
        for (Option o : req.getOptions().asSortedList()) {
            int n = o.getNumber();
            if (ForwardTarget.isForwardProxyOption(n, numbers) || n == numbers.listenToMulticastResponses()
                    || n == OptionNumberRegistry.OBSERVE // the phantom's is 0 (set below): a deregistration names the same one
                    || n == dev.coterie.oscore.ExtensionOptionRegistry.HOP_LIMIT.getNumber()
                    || schemeOptions && (n == OptionNumberRegistry.URI_HOST || n == OptionNumberRegistry.URI_PORT)) {
                continue;
            }
            ph.getOptions().addOption(o);
        }
        if (req.getOptions().hasObserve()) {
            ph.getOptions().setObserve(0);
        }
        byte[] p = req.getPayload();
        if (p != null && p.length > 0) {
            if (!ph.isIntendedPayload()) {
                ph.setUnintendedPayload();
            }
            ph.setPayload(p.clone());
        }
        ph.setToken(tp.token());
        byte[] bytes = TransportIndependent.encode(ph);
        ByteArrayOutputStream k = new ByteArrayOutputStream();
        byte[] t = tp.encode(); // one form for the key: the flattened and the nested CRI name the same observation
        k.write(t.length >> 8);
        k.write(t.length);
        k.writeBytes(t);
        k.writeBytes(bytes);
        return new Ticket(tp, ph, bytes, new ResponseCache.Key(k.toByteArray()));
    }

    /** A ticket request with Observe 0 at the last proxy, its target allowed for the client. */
    void handle(Exchange exchange, Request req, ForwardTarget target, ProxyConfig.GroupObservations g) {
        Ticket ticket;
        try {
            ticket = parse(req, target);
        } catch (ForwardTarget.Refusal r) {
            answer.answer(exchange, r.code(), r.getMessage(), r.code() == ResponseCode.UNAUTHORIZED ? ProxyMetrics.Outcome.DENIED
                    : r.code() == ResponseCode.BAD_OPTION ? ProxyMetrics.Outcome.BAD_OPTION : ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        boolean register = req.getOptions().hasObserve() && req.getOptions().getObserve() == 0;
        ObserveRelay relay = relays.get(ticket.key());
        if (req.getOptions().hasObserve() && req.getOptions().getObserve() == 1 && relay != null && relay.hasNotification()) {
            attach.accept(exchange, relay); // a deregistration: Californium ends the relation, the answer is the latest
            return;
        }
        if (!register || req.getCode() != CoAP.Code.GET && req.getCode() != CoAP.Code.FETCH) {
            answer.answer(exchange, ResponseCode.BAD_REQUEST, "a ticket request is a GET or FETCH registration (Observe 0)",
                    ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        }
        if (metrics.observers().get() >= limits.observers()
                || relay != null && relay.getObserverCount() + relay.waitingCount() >= g.maxObservers()) {
            answer.answer(exchange, ResponseCode.SERVICE_UNAVAILABLE, "too many observers", ProxyMetrics.Outcome.OVERLOADED);
            return;
        }
        if (relay != null) {
            beforeWait.run();
            // the check for a latest notification and the wait for the first are one step (no lost wake-up)
            switch (relay.awaitFirst(exchange)) {
                case LATEST -> {
                    metrics.outcome(ProxyMetrics.Outcome.OBSERVE_JOINED);
                    attach.accept(exchange, relay); // MNP-05: the latest notification, with this client's Token
                    return;
                }
                case WAITING -> {
                    if (req.isConfirmable()) {
                        exchange.sendAccept(); // MNP-05: nothing received yet, an empty ACK
                    }
                    return;
                }
                case OVER -> {
                    // ended: a new listener below
                }
            }
        }
        join(exchange, ticket, g);
    }

    private void join(Exchange exchange, Ticket ticket, ProxyConfig.GroupObservations g) {
        if (joined.get() >= g.maxJoined()) {
            answer.answer(exchange, ResponseCode.SERVICE_UNAVAILABLE, "too many group observations",
                    ProxyMetrics.Outcome.OVERLOADED);
            return;
        }
        ResponseCache.Key key = ticket.key();
        ObserveRelay[] self = new ObserveRelay[1];
        ObserveRelay relay = new ObserveRelay(null, null, r -> { }, metrics, () -> relays.remove(key, self[0]), refusal);
        self[0] = relay;
        ObserveRelay raced = relays.putIfAbsent(key, relay);
        if (raced != null) {
            ObserveRelay.First f = raced.awaitFirst(exchange);
            if (f == ObserveRelay.First.LATEST) {
                attach.accept(exchange, raced);
            } else if (f == ObserveRelay.First.WAITING) {
                if (exchange.getRequest().isConfirmable()) {
                    exchange.sendAccept();
                }
            } else {
                answer.answer(exchange, ResponseCode.SERVICE_UNAVAILABLE, "the group observation is ending",
                        ProxyMetrics.Outcome.OVERLOADED);
            }
            return;
        }
        relay.await(exchange);
        Group group = new Group(relay, key);
        // what an informative response would give a client (digest 6.4): tp_info and the phantom, no last_notif
        Response informative = new Response(ResponseCode.SERVICE_UNAVAILABLE);
        informative.getOptions().setContentFormat(g.contentFormat());
        informative.setPayload(InformativeResponse.of(ticket.tp(), ticket.phantomBytes(), null).encode());
        joined.incrementAndGet();
        GroupObservationClient c;
        // MNP-07: an unprotected notification's Feedback-Divider is answered by the proxy itself, and never relayed
        dev.coterie.oscore.FeedbackAnswer feedback = ProxyFeedback.answer(ticket.phantom(), ticket.tp().server(),
                numbers.feedbackDivider(), g.feedbackLeisureMs());
        try {
            c = GroupObservationClient.join(informative, ticket.phantom(), g.contentFormat(),
                    GroupObservationClient.networkInterface(g.networkInterface()), recognised, group, feedback);
            c.feedbackOption(numbers.feedbackDivider());
        } catch (GroupObservationClient.Withdraw e) {
            if (feedback != null) {
                feedback.close();
            }
            joined.decrementAndGet();
            relays.remove(key, relay);
            relay.end();
            answer.answer(exchange, ResponseCode.BAD_REQUEST, "the ticket request's phantom is unusable: " + e.getMessage(),
                    ProxyMetrics.Outcome.BAD_REQUEST);
            return;
        } catch (java.io.IOException | RuntimeException e) {
            if (feedback != null) {
                feedback.close();
            }
            joined.decrementAndGet();
            relays.remove(key, relay);
            relay.end();
            LOG.info("cannot listen for a ticket request's group observation: {}", e.getMessage());
            answer.answer(exchange, ResponseCode.BAD_GATEWAY, "cannot listen to the group", ProxyMetrics.Outcome.BAD_GATEWAY);
            return;
        }
        AtomicBoolean once = new AtomicBoolean();
        relay.registration(null); // nothing to cancel at the server: the proxy stops listening (digest 6.3)
        relay.groupJoined();
        relay.onEnd(() -> {
            if (once.compareAndSet(false, true)) {
                c.close();
                if (feedback != null) {
                    feedback.close();
                }
                group.stopWatch();
                joined.decrementAndGet();
            }
        });
        if (relay.isClosed()) {
            c.close();
        }
        metrics.outcome(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED);
        group.watch(DEFAULT_MAX_AGE_S + Forwarder.SILENCE_MARGIN_S);
        if (exchange.getRequest().isConfirmable()) {
            exchange.sendAccept(); // MNP-05: a new group observation has no latest notification yet, an empty ACK
        }
    }

    /** Runs just before a new ticket client is attached to an existing group observation: a notification may come (for tests). */
    volatile Runnable beforeWait = () -> { };

    /** Puts a group observation's relay in place (for tests). */
    void put(ResponseCache.Key key, ObserveRelay relay) {
        relays.put(key, relay);
    }

    /** Group observations with ticket clients (for tests). */
    int count() {
        return relays.size();
    }

    /** Ends every ticket relay (the proxy stops). */
    void close() {
        for (ObserveRelay r : relays.values()) {
            r.cancelUpstream();
        }
        relays.clear();
    }

    /** One group observation's listener: the order checks, then the fan-out. */
    private final class Group implements GroupObservationClient.Listener {
        private final ObserveRelay relay;
        private final ResponseCache.Key key;
        private final AtomicReference<ScheduledFuture<?>> silence = new AtomicReference<>();
        private final Order order = new Order();

        Group(ObserveRelay relay, ResponseCache.Key key) {
            this.relay = relay;
            this.key = key;
        }

        @Override
        public void notification(Response n, boolean fromLastNotif) {
            if (!order.advances(n)) {
                metrics.groupNotificationDropped();
                return;
            }
            metrics.groupNotification();
            Response copy = new Response(n.getCode()); // a parsed message is sealed: a copy takes another Token
            copy.setOptions(n.getOptions());
            // MNP-07: answered by the proxy itself when visible (the listener's FeedbackAnswer), never passed on
            copy.getOptions().clearOtherOption(numbers.feedbackDivider());
            copy.setPayload(n.getPayload());
            copy.setType(CoAP.Type.NON);
            copy.setSourceContext(n.getSourceContext());
            watch((n.getOptions().hasMaxAge() ? n.getOptions().getMaxAge() : DEFAULT_MAX_AGE_S) + Forwarder.SILENCE_MARGIN_S);
            java.util.List<Exchange> waiting = relay.notification(copy);
            // the established relations first: a waiting exchange attached before changed() would get this one twice
            relay.changed();
            for (Exchange e : waiting) {
                metrics.outcome(ProxyMetrics.Outcome.FORWARDED);
                e.execute(() -> attach.accept(e, relay));
            }
        }

        @Override
        public void ended(String why) {
            Response end = new Response(ResponseCode.SERVICE_UNAVAILABLE); // the server's cancellation
            finish(end);
        }

        void finish(Response end) {
            relays.remove(key, relay);
            for (Exchange e : relay.end()) {
                Response r = new Response(end.getCode());
                r.setPayload(end.getPayload());
                e.sendResponse(r);
            }
            relay.notification(end);
            relay.changed(); // the error ends every relation (RFC 7641 3.2)
        }

        void watch(long seconds) {
            ScheduledFuture<?> old = silence.getAndSet(timer.schedule(() -> {
                Response end = new Response(ResponseCode.GATEWAY_TIMEOUT);
                end.setPayload("the group observation went silent");
                finish(end);
            }, seconds, TimeUnit.SECONDS));
            if (old != null) {
                old.cancel(false);
            }
        }

        void stopWatch() {
            ScheduledFuture<?> f = silence.get();
            if (f != null) {
                f.cancel(false);
            }
        }
    }

    /** The order check of one group observation's notifications, before fan-out. */
    static final class Order {
        /** Kid contexts whose last Partial IV is kept (a rekey starts a new one; older ones are forgotten first). */
        static final int KID_CONTEXTS = 8;
        private long lastObserve = -1;
        /**
         * The last Partial IV under each kid context (hex; "" for none): a rekey gives a new kid
         * context, under which the server's sequence numbers start again (Group OSCORE 2.6).
         */
        private final java.util.LinkedHashMap<String, byte[]> lastPiv = new java.util.LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(java.util.Map.Entry<String, byte[]> eldest) {
                return size() > KID_CONTEXTS;
            }
        };

        /**
         * Observe advances (RFC 7641 3.4 serial arithmetic, without its 128 s escape: the server
         * sends at least one notification per Max-Age), and so does a Partial IV, under its kid
         * context, when there is an OSCORE option; a Group OSCORE notification without a Partial
         * IV is not taken either.
         */
        synchronized boolean advances(Response n) {
            long v = n.getOptions().getObserve();
            if (lastObserve >= 0 && !(lastObserve < v && v - lastObserve < (1 << 23) || lastObserve > v && lastObserve - v > (1 << 23))) {
                return false;
            }
            byte[] piv = null;
            String context = null;
            if (n.getOptions().hasOscore()) {
                OscoreOptionValue o;
                try {
                    o = OscoreOptionValue.decode(n.getOptions().getOscore(), true);
                } catch (OscoreException.DecodeFailure e) {
                    return false;
                }
                piv = o.partialIv();
                context = o.kidContext() == null ? "" : dev.coterie.keystore.Hex.encode(o.kidContext());
                byte[] last = lastPiv.get(context);
                if (piv == null || piv.length == 0 || last != null && compare(piv, last) <= 0) {
                    return false;
                }
            }
            lastObserve = v;
            if (piv != null) {
                lastPiv.put(context, piv);
            }
            return true;
        }
    }

    /** Unsigned big-endian comparison of two Partial IVs. */
    static int compare(byte[] a, byte[] b) {
        int i = 0;
        int j = 0;
        while (i < a.length - 1 && a[i] == 0) {
            i++;
        }
        while (j < b.length - 1 && b[j] == 0) {
            j++;
        }
        if (a.length - i != b.length - j) {
            return Integer.compare(a.length - i, b.length - j);
        }
        for (; i < a.length; i++, j++) {
            int c = Integer.compare(a[i] & 0xff, b[j] & 0xff);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }
}
