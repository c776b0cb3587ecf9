package dev.coterie.app;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.MulticastGuard;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.SecurityTrace;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.observe.NotificationListener;

/**
 * One run of {@code coterie client} on an endpoint: a unicast request, a request to a group,
 * or an observation (unicast or of a group), and how each is printed. The security is the
 * endpoint's; this class only knows whether it is there ({@code unprotected} prints
 * "UNPROTECTED" on every request and response line, so plaintext is never mistaken for OSCORE).
 */
final class ClientRun {
    /** What the command line asked for, checked already. */
    record Settings(boolean multicast, boolean observe, int notifications, int expect, long timeoutSeconds, boolean trace,
                    ExtensionOptionRegistry registry, String groupInterface, int informativeFormat, java.net.URI ticket) {
        Settings(boolean multicast, boolean observe, int notifications, int expect, long timeoutSeconds, boolean trace,
                 ExtensionOptionRegistry registry) {
            this(multicast, observe, notifications, expect, timeoutSeconds, trace, registry, null,
                    dev.coterie.oscore.InformativeResponse.DEFAULT_CONTENT_FORMAT, null);
        }
    }

    private final Settings s;
    private final boolean unprotected;
    /** Whether responses come from group members: then every one is printed with its sender. */
    private final boolean members;
    private final boolean deterministic;
    private final PrintStream out = System.out;
    private final PrintStream err = System.err;
    /** Outer Max-Age of the last verified response of each member (deterministic requests only; a proxy caches by it). */
    private final Map<String, Long> outerMaxAge = new ConcurrentHashMap<>();

    private ClientRun(Settings s, boolean unprotected, boolean members, boolean deterministic) {
        this.s = s;
        this.unprotected = unprotected;
        this.members = members;
        this.deterministic = deterministic;
    }

    /** With --bundle: the member's context, which verifies a group observation protected with Group OSCORE (OMN-10). */
    private dev.coterie.oscore.GroupObservationSecurity groupObservations;

    ClientRun groupObservations(dev.coterie.oscore.GroupObservationSecurity g) {
        this.groupObservations = g;
        return this;
    }

    static ClientRun unprotected(Settings s) {
        return new ClientRun(s, true, false, false);
    }

    /** @param modeLabel the request's mode ({@link ProtectionMode#label()}) */
    static ClientRun protectedBy(Settings s, String modeLabel, boolean group) {
        return new ClientRun(s, false, group, modeLabel.equals(ProtectionMode.DETERMINISTIC.label()));
    }

    /** The OSCORE layer's trace: the flow trace if asked for, plus the Request-Hash and outer Max-Age of deterministic requests. */
    SecurityTrace securityTrace() {
        FlowTrace flow = s.trace() ? new FlowTrace(out, "C", "S") : null;
        int requestHash = s.registry().byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        return (event, plain, wire, info) -> {
            if (flow != null) {
                flow.onMessage(event, plain, wire, info);
            }
            if (!deterministic) {
                return;
            }
            if (event == SecurityTrace.Event.REQUEST_PROTECTED && info.mode() == ProtectionMode.DETERMINISTIC) {
                for (Option o : wire.getOptions().getOthers()) {
                    if (o.getNumber() == requestHash) {
                        line("deterministic request, Request-Hash " + Hex.encode(o.getValue()) + blockOf(plain));
                    }
                }
            } else if (event == SecurityTrace.Event.RESPONSE_VERIFIED && wire.getOptions().hasMaxAge()) {
                outerMaxAge.put(memberKey((Response) plain), wire.getOptions().getMaxAge());
            }
        };
    }

    private static String blockOf(Message plain) {
        return plain.getOptions().hasBlock2() ? " (Block2 " + plain.getOptions().getBlock2().getNum() + ")" : "";
    }

    /**
     * Runs on a plain Californium endpoint: no OSCORE layer at all, by the user's explicit choice.
     * No protection pipeline checks the destination here, so the multicast guard is applied here.
     */
    int run(Request request, InetSocketAddress local) throws InterruptedException {
        try {
            MulticastGuard.checkDestination(request.getDestinationContext().getPeerAddress());
        } catch (IllegalStateException | IllegalArgumentException e) {
            err.println("coterie client: request not sent: " + e.getMessage());
            return 2;
        }
        return run(request, () -> unprotectedEndpoint(new CoapEndpoint.Builder().setInetSocketAddress(local)));
    }

    /** A plain endpoint from {@code b} (its address or connector set): this run's options and trace. */
    CoapEndpoint unprotectedEndpoint(CoapEndpoint.Builder b) {
        return unprotectedEndpoint(b, Endpoints.configuration());
    }

    /** The same with {@code cfg} (a TCP connector's, so its settings, no BERT among them, reach the stack). */
    CoapEndpoint unprotectedEndpoint(CoapEndpoint.Builder b, org.eclipse.californium.elements.config.Configuration cfg) {
        CoapEndpoint ep = b.setConfiguration(cfg).setOptionRegistry(s.registry().californiumRegistry()).build();
        if (s.trace()) {
            ep.addInterceptor(new UnprotectedTrace());
        }
        return ep;
    }

    int run(Request request, ClientCommand.EndpointFactory factory) throws InterruptedException {
        CoapEndpoint ep;
        try {
            ep = factory.build();
        } catch (IOException e) {
            err.println("coterie client: request not sent: " + e.getMessage());
            return 2;
        }
        try {
            try {
                ep.start();
            } catch (IOException e) {
                err.println("coterie client: request not sent: cannot bind " + ep.getAddress() + ": " + e.getMessage());
                return 2;
            }
            if (unprotected) {
                line("UNPROTECTED request " + request.getCode() + " " + request.getURI());
            }
            if (s.observe()) {
                return new Observation(ep, request).run();
            }
            return s.multicast() ? toGroup(ep, request) : unicast(ep, request);
        } finally {
            ep.destroy();
        }
    }

    /* ------------------------------------------------------------------ one unicast request */

    private int unicast(CoapEndpoint ep, Request request) throws InterruptedException {
        Outcome o = new Outcome();
        request.addMessageObserver(o);
        ep.sendRequest(request);
        if (!o.done.await(s.timeoutSeconds(), TimeUnit.SECONDS)) {
            request.cancel();
            err.println("coterie client: no response within " + s.timeoutSeconds() + " s");
            return 2;
        }
        if (o.failure != null) {
            err.println("coterie client: " + o.failure);
            return 2;
        }
        print(o.response, null, "");
        return o.response.isSuccess() ? 0 : 1;
    }

    /** The end of one exchange: its response, or why there is none. */
    private static class Outcome extends MessageObserverAdapter {
        final CountDownLatch done = new CountDownLatch(1);
        volatile Response response;
        volatile String failure;

        @Override
        public void onResponse(Response r) {
            response = r;
            done.countDown();
        }

        @Override
        public void onSendError(Throwable e) {
            fail("request not sent: " + e.getMessage());
        }

        @Override
        public void onReject() {
            fail("the server rejected the request (RST)");
        }

        @Override
        public void onTimeout() {
            fail("no response: the request timed out");
        }

        void fail(String why) {
            if (failure == null) {
                failure = why;
            }
            done.countDown();
        }
    }

    /* ------------------------------------------------------------------ one request to a group */

    private int toGroup(CoapEndpoint ep, Request request) throws InterruptedException {
        Object lock = new Object();
        Set<String> answered = new HashSet<>();
        int[] responses = {0};
        boolean[] errors = {false};
        boolean[] closed = {false};
        CountDownLatch enough = new CountDownLatch(1);
        Outcome sent = new Outcome() {
            @Override
            public void onResponse(Response r) {
                synchronized (lock) {
                    if (closed[0]) {
                        return; // --expect was met: later answers are not part of this run's output
                    }
                    print(r, null, "");
                    if (r.getOptions().hasBlock2() && r.getOptions().getBlock2().isM()) {
                        // Californium does not reassemble answers to a multicast request; the rest is for a unicast request
                        line(tag() + "(block " + r.getOptions().getBlock2().getNum() + " only: answers to a group request are "
                                + "not reassembled; ask this member alone with --member " + memberKey(r) + ")");
                    }
                    responses[0]++;
                    answered.add(memberKey(r));
                    errors[0] |= !r.isSuccess();
                    if (s.expect() > 0 && answered.size() >= s.expect()) {
                        closed[0] = true;
                        enough.countDown();
                    }
                }
            }

            @Override
            void fail(String why) {
                super.fail(why);
                enough.countDown();
            }
        };
        request.addMessageObserver(sent);
        ep.sendRequest(request);
        enough.await(s.timeoutSeconds(), TimeUnit.SECONDS);
        synchronized (lock) {
            closed[0] = true;
        }
        request.cancel();
        if (sent.failure != null) {
            err.println("coterie client: " + sent.failure);
            return 2;
        }
        synchronized (lock) {
            if (responses[0] == 0) {
                err.println("coterie client: no response within " + s.timeoutSeconds() + " s");
                return 2;
            }
            line(responses[0] + " response(s)");
            if (s.expect() > 0 && answered.size() < s.expect()) {
                err.println("coterie client: " + answered.size() + " of " + s.expect() + " expected members answered within "
                        + s.timeoutSeconds() + " s");
                return 2;
            }
            return errors[0] ? 1 : 0;
        }
    }

    /* ------------------------------------------------------------------ observation */

    /**
     * An observation (RFC 7641), of one server or of a group (groupcomm-bis, GCB-09): the
     * registration, N notifications (of each member, for a group), then one deregistration, a
     * GET with Observe 1 and the same Token (RFC 7641 Section 3.6), to the server or to the
     * group. Once the deregistration starts nothing more counts as a notification; its answer is
     * printed as what it is.
     */
    private final class Observation {
        private final CoapEndpoint ep;
        private final Request registration;
        private final Object lock = new Object();
        private final Map<String, Integer> counts = new LinkedHashMap<>();
        private final Set<String> ended = new HashSet<>();
        private final CountDownLatch complete = new CountDownLatch(1);
        private boolean deregistering;
        private boolean error;
        private volatile String failure;

        Observation(CoapEndpoint ep, Request registration) {
            this.ep = ep;
            this.registration = registration;
        }

        int run() throws InterruptedException {
            registration.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onResponse(Response r) {
                    receive(r);
                }

                @Override
                public void onSendError(Throwable e) {
                    fail("request not sent: " + e.getMessage());
                }

                @Override
                public void onReject() {
                    fail("the server rejected the registration (RST)");
                }

                @Override
                public void onTimeout() {
                    fail("no response: the registration timed out");
                }
            });
            // the first response reaches the request; Californium hands later notifications to listeners
            NotificationListener listener = (request, response) -> {
                Request t = ticketRequest;
                if (response.getToken() != null && (response.getToken().equals(registration.getToken())
                        || t != null && response.getToken().equals(t.getToken()))) {
                    receive(response);
                }
            };
            ep.addNotificationListener(listener);
            ep.sendRequest(registration);
            complete.await(s.timeoutSeconds(), TimeUnit.SECONDS);
            boolean answeredAtAll;
            Set<String> holding = new HashSet<>();
            synchronized (lock) {
                deregistering = true;
                answeredAtAll = !counts.isEmpty() || !ended.isEmpty();
                for (Map.Entry<String, Integer> e : counts.entrySet()) {
                    if (!ended.contains(e.getKey())) {
                        holding.add(e.getKey());
                    }
                }
            }
            if (failure != null) {
                err.println("coterie client: " + failure);
                ep.removeNotificationListener(listener);
                return 2;
            }
            if (groupObservation != null) {
                groupObservation.close(); // a group observation is left by forgetting it: nothing to send (digest 6.3)
                if (feedback != null) {
                    feedback.close();
                }
                holding.clear();
            }
            Request observed = ticketRequest != null ? ticketRequest : registration;
            CoapEndpoint via = ticketEp != null ? ticketEp : ep;
            if (!holding.isEmpty()) {
                deregister(holding, observed, via);
            }
            ep.removeNotificationListener(listener);
            if (ticketEp != null) {
                ticketEp.destroy();
            } else if (observed.getToken() != null) {
                try {
                    ep.cancelObservation(observed.getToken());
                } catch (IllegalArgumentException e) {
                    // the ticket's own Token (chosen here, not by Californium) may fall in its client-local scope, which
                    // cancelObservation refuses; the deregistration went out and the listener is gone
                }
            }
            synchronized (lock) {
                if (!answeredAtAll) {
                    err.println("coterie client: no notification within " + s.timeoutSeconds() + " s");
                    return 2;
                }
                if (error) {
                    return 1;
                }
                int enough = (int) counts.values().stream().filter(n -> n >= s.notifications()).count();
                if (!s.multicast()) {
                    int got = counts.values().stream().mapToInt(Integer::intValue).sum();
                    if (got < s.notifications()) {
                        err.println("coterie client: " + got + " of " + s.notifications() + " notifications within "
                                + s.timeoutSeconds() + " s");
                        return 2;
                    }
                    return 0;
                }
                int wanted = s.expect() > 0 ? s.expect() : counts.size();
                if (enough < wanted || counts.size() < s.expect()) {
                    err.println("coterie client: " + enough + " of " + (s.expect() > 0 ? s.expect() + " expected" : counts.size()
                            + " answering") + " members sent " + s.notifications() + " notifications within " + s.timeoutSeconds()
                            + " s");
                    return 2;
                }
                return 0;
            }
        }

        private void fail(String why) {
            synchronized (lock) {
                if (!counts.isEmpty() || !ended.isEmpty()) {
                    return; // the exchange's end (a NON lifetime, say) after answers came is no failure of the observation
                }
            }
            if (failure == null) {
                failure = why;
            }
            complete.countDown();
        }

        private void receive(Response r) {
            synchronized (lock) {
                String who = memberKey(r);
                if (deregistering) {
                    if (s.trace()) {
                        line(tag() + "(" + (r.isNotification() ? "a notification" : "a response") + from(r)
                                + " after the deregistration started: not counted)");
                    }
                    return;
                }
                if (ended.contains(who)) {
                    return;
                }
                if (!s.multicast() && groupObservation == null && ticketRequest == null && !r.isNotification()
                        && r.getCode() == org.eclipse.californium.core.coap.CoAP.ResponseCode.SERVICE_UNAVAILABLE
                        && r.getOptions().getContentFormat() == s.informativeFormat()
                        && (s.ticket() != null ? switchToTicket(r) : switchToGroup(r))) {
                    return;
                }
                if (r.isNotification()) {
                    int n = counts.getOrDefault(who, 0);
                    if (n >= s.notifications()) {
                        return; // this member gave its N already (a group); the others may still be due
                    }
                    counts.put(who, n + 1);
                    print(r, "notification " + (n + 1) + from(r), "");
                    error |= !r.isSuccess();
                } else {
                    // a final response: the server ended the observation, or never registered it (RFC 7641 3.2, 4.2)
                    ended.add(who);
                    counts.putIfAbsent(who, 0);
                    print(r, (counts.get(who) == 0 ? "no observation: the answer has no Observe" : "observation ended by the server")
                            + from(r), "");
                    error |= !r.isSuccess();
                }
                if (finished()) {
                    deregistering = true;
                    complete.countDown();
                }
            }
        }

        private dev.coterie.oscore.GroupObservationClient groupObservation;
        private dev.coterie.oscore.FeedbackAnswer feedback;

        /**
         * The answer to a Feedback-Divider (observe-multicast-notifications 8.2, OMN-09): with
         * probability 2^-Q, after a random part of the Leisure (5 s), a NON GET with Observe 0,
         * No-Response 26 and an empty Feedback-Divider to where the registration went, printed.
         * None for a protected registration or informative response: never a plaintext answer.
         */
        private dev.coterie.oscore.FeedbackAnswer feedbackAnswer(Response informative) {
            if (dev.coterie.oscore.OscorePeer.of(informative) != null || registration.getOptions().hasOscore()
                    || registration.getDestinationContext() == null) {
                return null;
            }
            java.util.function.Consumer<Request> udp = dev.coterie.oscore.FeedbackAnswer.udp(new java.security.SecureRandom());
            return new dev.coterie.oscore.FeedbackAnswer(registration,
                    s.registry().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number(),
                    dev.coterie.oscore.FeedbackAnswer.DEFAULT_LEISURE_MS, new java.security.SecureRandom(), q -> {
                        udp.accept(q);
                        line(tag() + "(Feedback-Divider: answered the server's count with a NON GET, Observe 0, "
                                + "No-Response 26, an empty Feedback-Divider, to " + q.getDestinationContext().getPeerAddress() + ")");
                    });
        }

        /**
         * An informative response (observe-multicast-notifications 4.2): the server took this
         * registration into a group observation. The client checks it, listens to the group and
         * takes the notifications from there, last_notif first; the switch is printed. False when
         * it cannot be used (the client withdraws: the 5.03 is then the observation's end).
         */
        private boolean switchToGroup(Response r) {
            try {
                java.net.NetworkInterface nif = dev.coterie.oscore.GroupObservationClient.networkInterface(s.groupInterface());
                dev.coterie.oscore.GroupObservationClient.Parsed parsed = dev.coterie.oscore.GroupObservationClient.check(r,
                        registration, s.informativeFormat(), s.registry().californiumRegistry(), groupObservations);
                dev.coterie.oscore.TpInfo tp = parsed.tp();
                line(tag() + "5.03 informative response" + from(r) + ": a group observation; switching from unicast to "
                        + "multicast notifications, sent by " + tp.server() + " to " + tp.client() + " with Token "
                        + Hex.encode(tp.token()) + " (listening on " + (nif == null ? "the system's multicast interface" : nif.getName()) + ")");
                if (parsed.binding() != null) {
                    line(tag() + "Group OSCORE: the phantom request verified (group mode, kid " + Hex.encode(parsed.binding().kid())
                            + ", Partial IV " + Hex.encode(parsed.binding().partialIv()) + ", kid context "
                            + Hex.encode(parsed.binding().kidContext()) + "); every notification is verified against it");
                }
                groupObservation = dev.coterie.oscore.GroupObservationClient.join(r, registration, s.informativeFormat(), nif,
                        s.registry().californiumRegistry(), new dev.coterie.oscore.GroupObservationClient.Listener() {
                            @Override
                            public void notification(Response n, boolean fromLastNotif) {
                                if (fromLastNotif) {
                                    line(tag() + "(the latest notification, from the informative response's last_notif)");
                                }
                                receive(n);
                            }

                            @Override
                            public void ended(String why) {
                                Response end = new Response(org.eclipse.californium.core.coap.CoAP.ResponseCode.SERVICE_UNAVAILABLE);
                                end.setSourceContext(r.getSourceContext());
                                line(tag() + "(" + why + ")");
                                receive(end);
                            }

                            @Override
                            public void unverified(String why) {
                                line(tag() + "(a multicast notification that did not verify, dropped: " + why
                                        + (why != null && why.contains("unknown Gid") ? "; if the group was rekeyed, this run "
                                        + "cannot follow the new epoch (GRP-21): run the client again with the new member bundle"
                                        : "") + ")");
                            }
                        }, feedback = feedbackAnswer(r), groupObservations);
                return true;
            } catch (dev.coterie.oscore.GroupObservationClient.Withdraw | IOException | RuntimeException e) {
                if (feedback != null) {
                    feedback.close();
                    feedback = null;
                }
                line(tag() + "(an informative response that cannot be used, withdrawn: " + e.getMessage() + ")");
                return false;
            }
        }

        private volatile Request ticketRequest;

        /**
         * --ticket: an informative response relayed by the proxy, and this client does not listen
         * to multicast (multicast-notifications-proxy Section 4). The informative response is
         * checked as for listening (digest 6.4), then the ticket request is built from its ph_req
         * and the exact tp_info bytes ({@link dev.coterie.oscore.TicketRequest}) and sent to the
         * proxy with a Token of its own; the notifications then come from the proxy with that
         * Token. False when it cannot be used (withdrawn: the 5.03 is the observation's end).
         */
        private boolean switchToTicket(Response r) {
            try {
                // the registration went to the proxy with Proxy-Uri: the phantom is checked against the URI it named
                Request named = new Request(registration.getCode());
                named.setURI(s.ticket());
                named.setObserve();
                if (registration.getOptions().hasAccept()) {
                    named.getOptions().setAccept(registration.getOptions().getAccept());
                }
                // with --bundle (MNP-03, Group OSCORE variant): the phantom verified first (no replay check, no
                // delivery), and every relayed notification is verified against it below
                dev.coterie.oscore.GroupObservationClient.Parsed parsed = dev.coterie.oscore.GroupObservationClient.check(r,
                        named, s.informativeFormat(), s.registry().californiumRegistry(), groupObservations);
                byte[] phReq = dev.coterie.oscore.InformativeResponse.decode(r.getPayload()).phReq();
                if (phReq == null) {
                    throw new IllegalArgumentException("no ph_req: nothing to build the ticket request from");
                }
                byte[] tpInfo = dev.coterie.oscore.TicketRequest.tpInfoBytes(r.getPayload());
                byte[] t = new byte[8];
                new java.security.SecureRandom().nextBytes(t);
                Request ticket = dev.coterie.oscore.TicketRequest.build(phReq, tpInfo, s.ticket(), Token.fromProvider(t),
                        s.registry().byName(ExtensionOptionRegistry.LISTEN_TO_MULTICAST_RESPONSES).number(),
                        s.registry().californiumRegistry());
                ticket.setDestinationContext(registration.getDestinationContext());
                InetSocketAddress proxy = registration.getDestinationContext().getPeerAddress();
                line(tag() + "5.03 informative response" + from(r) + ", relayed by the proxy: a group observation; this "
                        + "client does not listen to multicast (--ticket): switching to ticket notifications via the proxy "
                        + proxy + " (ticket request " + ticket.getCode() + " Observe 0, Token " + ticket.getTokenString()
                        + ", Listen-To-Multicast-Responses: " + tpInfo.length + " bytes of tp_info)");
                if (parsed.binding() != null) {
                    ticketBinding = parsed.binding();
                    line(tag() + "Group OSCORE: the phantom request verified (group mode, kid " + Hex.encode(parsed.binding().kid())
                            + ", Partial IV " + Hex.encode(parsed.binding().partialIv()) + ", kid context "
                            + Hex.encode(parsed.binding().kidContext()) + "); the ticket request is that protected phantom, sent "
                            + "as it is, and every notification the proxy relays is verified against it");
                    // the ticket's outer message is the protected phantom: not protected again, so not sent through the
                    // OSCORE layer, but from a plain socket of its own; nothing unverified is delivered from it
                    ticketEp = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress(0))
                            .setConfiguration(Endpoints.configuration()).setOptionRegistry(s.registry().californiumRegistry())
                            .build();
                    if (s.trace()) {
                        ticketEp.addInterceptor(new UnprotectedTrace("TICKET "));
                    }
                    ticketEp.addNotificationListener((req, n) -> {
                        if (n.getToken() != null && n.getToken().equals(ticket.getToken())) {
                            receiveTicket(n);
                        }
                    });
                    ticketEp.start();
                }
                ticket.addMessageObserver(new MessageObserverAdapter() {
                    @Override
                    public void onResponse(Response n) {
                        receiveTicket(n);
                    }

                    @Override
                    public void onAcknowledgement() {
                        if (s.trace()) {
                            line(tag() + "(the proxy acknowledged the ticket request: no notification yet)");
                        }
                    }

                    @Override
                    public void onTimeout() {
                        line(tag() + "(the ticket request timed out)");
                        Response end = new Response(org.eclipse.californium.core.coap.CoAP.ResponseCode.GATEWAY_TIMEOUT);
                        end.setSourceContext(r.getSourceContext());
                        receive(end);
                    }
                });
                ticketRequest = ticket;
                (ticketEp != null ? ticketEp : ep).sendRequest(ticket);
                return true;
            } catch (dev.coterie.oscore.GroupObservationClient.Withdraw | IOException | RuntimeException e) {
                if (ticketEp != null) {
                    ticketEp.destroy();
                    ticketEp = null;
                    ticketBinding = null;
                }
                line(tag() + "(an informative response that cannot be used for a ticket request, withdrawn: " + e.getMessage()
                        + ")");
                return false;
            }
        }

        /** The protected phantom's binding when the ticket is the Group OSCORE variant (MNP-03), else null. */
        private volatile dev.coterie.oscore.RequestIdentifiers ticketBinding;
        /** The plain endpoint the protected ticket request goes out from, or null. */
        private volatile CoapEndpoint ticketEp;

        /**
         * An answer to the ticket request. Group OSCORE variant: a group-mode response to the
         * phantom from the phantom's server, in the order of its Partial IVs; what does not verify
         * (the proxy's own plaintext, a forgery, a replay) is dropped and said, never delivered.
         */
        private void receiveTicket(Response n) {
            dev.coterie.oscore.RequestIdentifiers b = ticketBinding;
            if (b == null) {
                receive(n);
                return;
            }
            Response plain;
            try {
                plain = groupObservations.pipeline().unprotectResponse(n, b).plain();
            } catch (dev.coterie.oscore.OscoreException e) {
                line(tag() + "(a notification relayed by the proxy that did not verify, dropped: " + e.getMessage() + ")");
                return;
            }
            receive(plain);
        }

        /** Unicast: N notifications or the end; a group: --expect members each gave N or ended (without --expect: --timeout). */
        private boolean finished() {
            int done = 0;
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                if (e.getValue() >= s.notifications() || ended.contains(e.getKey())) {
                    done++;
                }
            }
            if (!s.multicast()) {
                return done > 0;
            }
            return s.expect() > 0 && done >= s.expect();
        }

        /** Observe 1 with the same Token, to where the registration went (the group, or the one server). */
        private void deregister(Set<String> holding, Request registration, CoapEndpoint via) throws InterruptedException {
            Request cancel = new Request(registration.getCode(), registration.isMulticast() ? Type.NON : registration.getType());
            cancel.setDestinationContext(registration.getDestinationContext());
            cancel.setOptions(new OptionSet(registration.getOptions()));
            cancel.setObserveCancel();
            if (registration.getPayload() != null && registration.getPayloadSize() > 0) {
                cancel.setPayload(registration.getPayload());
            }
            cancel.setToken(registration.getToken());
            Set<String> answered = new HashSet<>();
            CountDownLatch done = new CountDownLatch(1);
            cancel.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onResponse(Response r) {
                    synchronized (lock) {
                        if (r.isNotification() || !answered.add(memberKey(r))) {
                            return; // a notification overtaking the deregistration, or a repeated answer
                        }
                        if (via != ep) {
                            answered.addAll(holding); // the protected ticket's deregistration: the proxy answers it itself
                        }
                        // on the code's own line, so that it never reads as one more notification
                        print(r, "", "deregistration answered" + from(r) + ": ");
                        if (answered.containsAll(holding)) {
                            done.countDown();
                        }
                    }
                }

                @Override
                public void onSendError(Throwable e) {
                    line(tag() + "deregistration not sent: " + e.getMessage());
                    done.countDown();
                }

                @Override
                public void onTimeout() {
                    done.countDown();
                }
            });
            line(tag() + "deregistering: " + registration.getCode() + " with Observe 1 and the same Token "
                    + registration.getTokenString() + (registration.isMulticast()
                    ? " to the group " + registration.getDestinationContext().getPeerAddress()
                    + " (RFC 7641 3.6, GCB-09): every member holding the observation answers"
                    : " (RFC 7641 3.6)"));
            via.sendRequest(cancel);
            boolean all = done.await(s.timeoutSeconds(), TimeUnit.SECONDS);
            synchronized (lock) {
                if (!all || !answered.containsAll(holding)) {
                    Set<String> silent = new HashSet<>(holding);
                    silent.removeAll(answered);
                    line(tag() + "deregistration: no answer" + (registration.isMulticast() ? " from " + silent : "") + " within "
                            + s.timeoutSeconds() + " s (a later notification would be answered with RST)");
                }
            }
            cancel.cancel();
        }
    }

    /* ------------------------------------------------------------------ printing */

    private String tag() {
        return unprotected ? "UNPROTECTED " : "";
    }

    /** The responder: a member's kid for a group, else its address (an OSCORE server has one peer). */
    private static String memberKey(Response r) {
        OscorePeer p = OscorePeer.of(r);
        if (p != null && p.kid() != null) {
            return p.kid().length == 0 ? "''" : Hex.encode(p.kid());
        }
        return String.valueOf(r.getSourceContext() == null ? null : r.getSourceContext().getPeerAddress());
    }

    /**
     * Who answered, as a phrase after "notification N" and the like: " from ADDR member KID
     * (MODE)" for a group member; " (unprotected OSCORE error response)" for that, whoever sent it;
     * nothing for the one peer of an OSCORE context or a plaintext exchange.
     */
    private String from(Response r) {
        OscorePeer p = OscorePeer.of(r);
        String address = " from " + (r.getSourceContext() == null ? "?" : r.getSourceContext().getPeerAddress());
        if (p != null && OscorePeer.isFromIntermediary(r)) {
            return address + " (the proxy's own answer, verified in its hop layer " + p.context() + ")";
        }
        if (p != null) {
            return members ? address + " member " + memberKey(r) + " (" + p.mode().label() + ")" : "";
        }
        if (OscorePeer.isUnprotected(r)) {
            return (members ? address : "") + " unprotected OSCORE error response";
        }
        return unprotected ? "" : address + " (not verified)";
    }

    /**
     * Prints one response: a header line ({@code head}; null for the default: "from ADDR member
     * KID (MODE):" for a group member, "unprotected OSCORE error response:" for that), the outer
     * Max-Age of a deterministic request's response, then code, inner options and payload.
     * {@code codePrefix} goes before the code on its line.
     */
    private void print(Response r, String head, String codePrefix) {
        StringBuilder sb = new StringBuilder();
        if (head == null) {
            String from = from(r).trim();
            if (!from.isEmpty()) {
                sb.append(tag()).append(from).append(":\n");
            }
        } else if (!head.isEmpty()) {
            sb.append(tag()).append(head).append(":\n");
        }
        if (deterministic && OscorePeer.of(r) != null) {
            Long maxAge = outerMaxAge.get(memberKey(r));
            sb.append("outer Max-Age: ").append(maxAge == null ? "(none)" : maxAge.toString()).append('\n');
        }
        sb.append(tag()).append(codePrefix).append(r.getCode()).append(' ').append(r.getCode().name());
        for (Option o : r.getOptions().asSortedList()) {
            sb.append("\n  ").append(o.getDefinition().getName()).append(": ").append(o.toValueString());
        }
        byte[] p = r.getPayload();
        if (p != null && p.length > 0) {
            sb.append('\n').append(payload(p));
        }
        line(sb.toString());
    }

    /** UTF-8 text as it is; anything else as hex, so binary payloads (CBOR, ...) print usefully. */
    static String payload(byte[] p) {
        try {
            String t = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(p)).toString();
            if (t.chars().allMatch(c -> c >= 0x20 || c == '\n' || c == '\r' || c == '\t')) {
                return t;
            }
        } catch (CharacterCodingException e) {
            // not text: hex below
        }
        return "payload (" + p.length + " bytes, hex): " + Hex.encode(p);
    }

    private void line(String text) {
        synchronized (out) {
            out.println(text);
        }
    }

    /** --trace without OSCORE: every message as it goes or comes, each line marked UNPROTECTED. */
    private final class UnprotectedTrace extends MessageInterceptorAdapter {
        /** What each line starts with: "UNPROTECTED ", or "TICKET " on the socket of a protected ticket request. */
        private final String prefix;

        UnprotectedTrace() {
            this("UNPROTECTED ");
        }

        UnprotectedTrace(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public void sendRequest(Request request) {
            show("C ---> S", request, request.getCode().name());
        }

        @Override
        public void receiveResponse(Response response) {
            show("C <--- S", response, response.getCode() + " " + response.getCode().name());
        }

        @Override
        public void sendEmptyMessage(EmptyMessage m) {
            show("C ---> S", m, "(empty)");
        }

        @Override
        public void receiveEmptyMessage(EmptyMessage m) {
            show("C <--- S", m, "(empty)");
        }

        private void show(String arrow, Message m, String code) {
            StringBuilder sb = new StringBuilder(prefix).append(arrow).append("  ").append(m.getType()).append(" MID=")
                    .append(m.hasMID() ? m.getMID() : "-").append(" Token=").append(m.getToken() == null ? "-" : m.getTokenString())
                    .append("  ").append(code);
            for (Option o : m.getOptions().asSortedList()) {
                sb.append(" | ").append(o.getDefinition().getName()).append(": ").append(o.toValueString());
            }
            if (m.getPayloadSize() > 0) {
                sb.append("\n").append(prefix).append("            payload: ").append(payload(m.getPayload()).replace("\n", "\\n"));
            }
            line(sb.toString());
        }
    }
}
