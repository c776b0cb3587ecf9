package dev.coterie.tests;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.FeedbackAnswer;
import dev.coterie.oscore.FeedbackCounting;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Feedback-Divider rough counting (observe-multicast-notifications Section 8, digest 6.5,
 * OMN-09), inside a private network namespace ({@link PrivateNetwork#IPV4}), in three parts:
 * the server's count on an injected clock, with the notifications taken off the group by a
 * sniffer and the confirmations sent as raw datagrams; the client's answer to a raw server that
 * sends the notifications itself and receives the answer, with an injected draw; and both end to
 * end, eight observers and a deterministic draw. Prints "CHECK ok NAME" per check and
 * "SCENARIO OK" when all passed.
 */
public final class FeedbackDividerScenario {
    static final int FD = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number();
    static final int NO_RESPONSE = 258;
    private static final ScenarioChecks CHECKS = new ScenarioChecks();
    private static final UdpDataParser PARSER = new UdpDataParser(false, ExtensionOptionRegistry.defaults().californiumRegistry());
    private static final java.util.concurrent.atomic.AtomicInteger MID = new java.util.concurrent.atomic.AtomicInteger(100);

    private FeedbackDividerScenario() {
    }

    public static void main(String[] args) {
        CHECKS.exit(() -> {
            serverSide();
            clientSide();
            endToEnd();
            commandLine();
        });
    }

    static void check(boolean ok, String name, Object detail) {
        CHECKS.check(ok, name, detail);
    }

    static final class Alarm extends dev.coterie.oscore.GroupObservedResource {
        volatile int state;

        Alarm(String name, InetSocketAddress group) {
            super(name, group, InformativeResponse.DEFAULT_CONTENT_FORMAT);
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN).setMaxAge(600);
            r.setPayload("state " + state);
            return r;
        }
    }

    /** A draw whose nextLong(bound) answers are scripted, recording every bound it was asked for. */
    static final class ScriptedDraw implements RandomGenerator {
        final ConcurrentLinkedQueue<Long> answers = new ConcurrentLinkedQueue<>();
        final List<Long> bounds = new CopyOnWriteArrayList<>();
        final long otherwise;

        ScriptedDraw(long otherwise, long... script) {
            this.otherwise = otherwise;
            for (long a : script) {
                answers.add(a);
            }
        }

        @Override
        public long nextLong(long bound) {
            bounds.add(bound);
            Long a = answers.poll();
            return Math.min(a != null ? a : otherwise, bound - 1);
        }

        @Override
        public long nextLong() {
            throw new UnsupportedOperationException("only nextLong(bound) is scripted");
        }
    }

    private static byte[] option(Message m, int number) {
        for (Option o : m.getOptions().asSortedList()) {
            if (o.getNumber() == number) {
                return o.getValue();
            }
        }
        return null;
    }

    private static Message receive(DatagramSocket s, int timeoutMs) throws Exception {
        byte[] buf = new byte[2048];
        DatagramPacket d = new DatagramPacket(buf, buf.length);
        s.setSoTimeout(timeoutMs);
        try {
            s.receive(d);
        } catch (SocketTimeoutException e) {
            return null;
        }
        Message m = PARSER.parseMessage(Arrays.copyOf(buf, d.getLength()));
        m.setSourceContext(new org.eclipse.californium.elements.AddressEndpointContext((InetSocketAddress) d.getSocketAddress()));
        return m;
    }

    private static void sendRaw(DatagramSocket s, Message m, InetSocketAddress to) throws Exception {
        m.setMID(MID.incrementAndGet() & 0xffff);
        if (m.getToken() == null) {
            m.setToken(Token.fromProvider(new byte[] {(byte) MID.get(), 1}));
        }
        byte[] b = new UdpDataSerializer().getByteArray(m);
        s.send(new DatagramPacket(b, b.length, to));
    }

    /** A raw request to /NAME at {@code server}: answered within 2 s with the first response, or null. */
    private static Response raw(DatagramSocket s, InetSocketAddress server, CoAP.Code code, CoAP.Type type, String name,
                                Integer observe, byte[] fd, boolean noResponse) throws Exception {
        Request r = new Request(code, type);
        r.getOptions().addUriPath(name);
        if (observe != null) {
            r.getOptions().setObserve(observe);
        }
        if (fd != null) {
            r.getOptions().addOption(new Option(FD, fd));
        }
        if (noResponse) {
            r.getOptions().setNoResponse(26);
        }
        sendRaw(s, r, server);
        return noResponse ? null : awaitResponse(s, 2000);
    }

    private static Response awaitResponse(DatagramSocket s, int ms) throws Exception {
        long end = System.nanoTime() + ms * 1_000_000L;
        while (System.nanoTime() < end) {
            Message m = receive(s, Math.max(1, (int) ((end - System.nanoTime()) / 1_000_000)));
            if (m == null) {
                return null;
            }
            if (m instanceof Response resp) {
                if (resp.getType() == CoAP.Type.CON) {
                    Message ack = new org.eclipse.californium.core.coap.EmptyMessage(CoAP.Type.ACK);
                    ack.setMID(resp.getMID());
                    ack.setToken(Token.EMPTY);
                    byte[] b = new UdpDataSerializer().getByteArray(ack);
                    s.send(new DatagramPacket(b, b.length, resp.getSourceContext().getPeerAddress()));
                }
                return resp;
            }
        }
        return null;
    }

    /** The next notification the sniffer takes off the group (a Response), or null within 3 s. */
    private static Response sniff(MulticastSocket sniffer) throws Exception {
        Message m = receive(sniffer, 3000);
        return m instanceof Response r ? r : null;
    }

    private static Configuration cfg() {
        return dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration();
    }

    /** Part 1: the server's count, on an injected clock. */
    private static void serverSide() throws Exception {
        InetSocketAddress group = new InetSocketAddress("224.0.1.191", 5683);
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", 5830);
        CoapServer server = new CoapServer(cfg());
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(at).setConfiguration(cfg()).build();
        server.addEndpoint(sep);
        Alarm alarm = new Alarm("alarm", group);
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), at);
        AtomicLong clock = new AtomicLong(1_000_000);
        // M = 2, D = 4, MAX_CONFIRMATION_WAIT 452 s on the injected clock, at most 4 confirmations counted per window
        FeedbackCounting counting = alarm.counting(FeedbackCounting.Config.defaults(2).withMaxConfirmations(4), clock::get);
        check(counting.config().dampener() == 4 && counting.config().confirmationWaitMs() == 452_000
                && counting.config().option() == 18, "OMN_09 defaults: D = 4, MAX_CONFIRMATION_WAIT 452 s, option 18",
                counting.config());
        MulticastSocket sniffer = new MulticastSocket(group);
        sniffer.joinGroup(group, GroupObservationClient.networkInterface("lo"));
        DatagramSocket c = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        try {
            for (int i = 0; i < 8; i++) {
                Response ir = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, null, false);
                check(ir != null && ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE, "setup registration " + i, ir);
            }
            check(alarm.observers() == 8, "OMN_09 setup: eight observers counted", alarm.observers());

            // control: with no count asked for, a notification carries no Feedback-Divider
            alarm.state = 1;
            alarm.changed();
            Response plain = sniff(sniffer);
            check(plain != null && option(plain, FD) == null && plain.getPayloadString().equals("state 1"),
                    "OMN_09 control: no count asked for, no Feedback-Divider in the notification", plain);
            // a confirmation with no window open is not counted, and is not a new observer either
            raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[0], true);
            check(ScenarioWait.until(() -> counting.late() == 1, 3000) && alarm.observers() == 8,
                    "OMN_09 a confirmation with no window open: not counted, not a new observer", counting.late());

            check(counting.start() && !counting.start(), "OMN_09 start() asks for one count at a time", "");
            alarm.state = 2;
            alarm.changed();
            Response fdn = sniff(sniffer);
            // N = 8, M = 2: Q = ceil(log2(4)) = 2, the option 18 with the one byte 0x02
            byte[] fdv = fdn == null ? null : option(fdn, FD);
            check(fdn != null && fdv != null && Arrays.equals(fdv, new byte[] {2}) && fdn.getType() == CoAP.Type.NON
                    && fdn.getCode() == CoAP.ResponseCode.CONTENT && Arrays.equals(fdn.getTokenBytes(), alarm.token()),
                    "OMN_09 the next successful notification carries Feedback-Divider Q = max(ceil(log2(N / M)), 0) = 2 "
                    + "(N 8, M 2): option 18, value 0x02", fdn == null ? null : Hex.encode(new UdpDataSerializer().getByteArray(fdn)));
            check(counting.collecting() && !counting.requested(), "OMN_09 the window opened when it was sent", "");
            // a new client during the window: counted as usual (COUNT'), and its last_notif (the notification that
            // carried Q) asks for nothing
            Response ninth = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, null, false);
            InformativeResponse nir = InformativeResponse.decode(ninth.getPayload());
            Response lastNotif = TransportIndependent.response(nir.lastNotif(), ExtensionOptionRegistry.defaults()
                    .californiumRegistry(), "last_notif");
            check(alarm.observers() == 9 && "state 2".equals(lastNotif.getPayloadString()) && option(lastNotif, FD) == null,
                    "OMN_09 a new observer during the window is "
                    + "counted (COUNT' = 9); last_notif carries no Feedback-Divider", alarm.observers());

            alarm.state = 3;
            alarm.changed();
            Response after = sniff(sniffer);
            check(after != null && option(after, FD) == null && after.getPayloadString().equals("state 3"),
                    "OMN_09 only that one notification carries it: the next one has no Feedback-Divider", after);

            // confirmations: NON GET, Observe 0, an empty Feedback-Divider, No-Response 26; just inside the window
            clock.addAndGet(452_000 - 1);
            for (int i = 0; i < 3; i++) {
                raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[0], true);
            }
            // a one-byte zero is also the value 0 (RFC 7252 3.2: leading zeros)
            raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[] {0}, true);
            check(ScenarioWait.until(() -> counting.confirmations() == 4, 3000) && alarm.observers() == 9,
                    "OMN_09 four confirmations within the window counted (empty value and 0x00), none a new observer",
                    counting.confirmations() + " / " + alarm.observers());
            check(awaitResponse(c, 500) == null, "OMN_09 No-Response 26: the confirmations get no response", "");
            // the limit: a fifth one in the window is dropped (at most 4 per window, configured)
            raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[0], true);
            check(ScenarioWait.until(() -> counting.dropped() == 1, 3000) && counting.confirmations() == 4,
                    "OMN_09 limit: beyond max confirmations per window (4) a confirmation is dropped and counted as such",
                    counting.dropped());

            // malformed or other requests: not confirmations, state of the count unchanged
            Response v1 = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[] {1}, false);
            check(v1 != null && v1.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && counting.confirmations() == 4
                    && alarm.observers() == 10, "OMN_09 a Feedback-Divider of value 1 is no confirmation: an ordinary "
                    + "registration (informative response, counted), R unchanged", v1 + " " + alarm.observers());
            Response v2 = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[] {0, 0}, false);
            check(v2 != null && v2.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && counting.confirmations() == 4
                    && alarm.observers() == 11, "OMN_09 a two-byte Feedback-Divider (outside 0-1 bytes, RFC 7252 5.4.3: an "
                    + "ignored elective option) is no confirmation: an ordinary registration, R unchanged", v2);
            Response post = raw(c, at, CoAP.Code.POST, CoAP.Type.NON, "alarm", 0, new byte[0], false);
            check(post != null && post.getCode() == CoAP.ResponseCode.METHOD_NOT_ALLOWED && counting.confirmations() == 4
                    && alarm.observers() == 11, "OMN_09 a POST with an empty Feedback-Divider: 4.05, not counted", post);
            Response get = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", null, new byte[0], false);
            check(get != null && get.getCode() == CoAP.ResponseCode.CONTENT && !get.getOptions().hasObserve()
                    && counting.confirmations() == 4 && alarm.observers() == 11,
                    "OMN_09 a GET without Observe with an empty Feedback-Divider: the representation, not counted", get);
            Response dereg = raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 1, new byte[0], false);
            check(dereg != null && dereg.getCode() == CoAP.ResponseCode.CONTENT && counting.confirmations() == 4
                    && alarm.observers() == 11, "OMN_09 a deregistration (Observe 1) with an empty Feedback-Divider: "
                    + "the representation, not counted", dereg);

            // one after the window: not counted (the control, one just before, was)
            clock.addAndGet(1);
            raw(c, at, CoAP.Code.GET, CoAP.Type.NON, "alarm", 0, new byte[0], true);
            check(ScenarioWait.until(() -> counting.late() == 2, 3000) && counting.confirmations() == 4,
                    "OMN_09 a confirmation at MAX_CONFIRMATION_WAIT after the notification is not counted; control: "
                    + "one just before was", counting.late());

            // the update: E = R 2^Q = 16, COUNT' = 11, N = 8: 11 + (16 - 8) / 4 = 13
            FeedbackCounting.Result res = counting.finish();
            check(res != null && res.q() == 2 && res.n() == 8 && res.confirmations() == 4 && res.estimate() == 16
                    && res.countBefore() == 11 && res.count() == 13 && alarm.observers() == 13 && !counting.collecting(),
                    "OMN_09 COUNT' + (E - N) / D: 11 + (4 * 2^2 - 8) / 4 = 13 becomes the observer counter", res);
            check(counting.finish() == null, "OMN_09 one update per window", "");
        } finally {
            c.close();
            sniffer.close();
            alarm.close();
            server.destroy();
        }
    }

    /** Part 2: the client's answer, to a raw server, with an injected draw and no Leisure. */
    private static void clientSide() throws Exception {
        InetSocketAddress group = new InetSocketAddress("224.0.1.192", 5683);
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", 5831);
        DatagramSocket srv = new DatagramSocket(at);
        byte[] token = Hex.decode("7b7b7b7b");
        Request phantom = new Request(CoAP.Code.GET);
        phantom.getOptions().setObserve(0).addUriPath("alarm").addUriQuery("floor=2");
        Request reg = Request.newGet();
        reg.setURI("coap://127.0.0.1:" + at.getPort() + "/alarm?floor=2");
        reg.setObserve();
        // last_notif asks for a count with Q = 0: a client must ignore it (Section 8.2)
        Response last = new Response(CoAP.ResponseCode.CONTENT);
        last.getOptions().setObserve(10).setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        last.getOptions().addOption(new Option(FD, new byte[0]));
        last.setPayload("state 0");
        Response ir = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        ir.getOptions().setContentFormat(InformativeResponse.DEFAULT_CONTENT_FORMAT).setMaxAge(0);
        ir.setPayload(InformativeResponse.of(TpInfo.udp(at, group, token), TransportIndependent.encode(phantom),
                TransportIndependent.encode(last)).encode());
        List<Response> got = new CopyOnWriteArrayList<>();
        // the draw: 5 for the first notification asking for a count (no answer), then 0 (answer)
        ScriptedDraw draw = new ScriptedDraw(7, 5, 0);
        FeedbackAnswer answer = new FeedbackAnswer(reg, FD, 0, new java.util.SplittableRandom(1), null);
        GroupObservationClient client = GroupObservationClient.join(ir, reg, InformativeResponse.DEFAULT_CONTENT_FORMAT,
                GroupObservationClient.networkInterface("lo"), ExtensionOptionRegistry.defaults().californiumRegistry(),
                new GroupObservationClient.Listener() {
                    @Override
                    public void notification(Response n, boolean fromLastNotif) {
                        got.add(n);
                    }

                    @Override
                    public void ended(String why) {
                    }
                }, answer);
        client.feedbackDraw(draw);
        try {
            check(got.size() == 1 && draw.bounds.isEmpty() && receive(srv, 500) == null,
                    "OMN_09 a Feedback-Divider in last_notif is ignored: no draw, nothing sent", draw.bounds);
            // a notification with a two-byte Feedback-Divider: not a 0-1 byte uint, ignored (no draw)
            notify(srv, group, token, 11, new byte[] {0, 3});
            check(ScenarioWait.until(() -> got.size() == 2, 3000) && draw.bounds.isEmpty(),
                    "OMN_09 a notification with a two-byte Feedback-Divider: delivered, the option ignored (no draw)",
                    draw.bounds);
            // Q = 3, the draw says 5 of [0, 8): nothing is sent
            notify(srv, group, token, 12, new byte[] {3});
            check(ScenarioWait.until(() -> got.size() == 3, 3000) && draw.bounds.equals(List.of(8L)),
                    "OMN_09 Q = 3: one draw of I from [0, 2^3)", draw.bounds);
            Message none = receive(srv, 700);
            check(none == null && answer.sent() == 0, "OMN_09 the draw gave I = 5, not 0: the client sends nothing", none);
            // Q = 3 again, the draw says 0: exactly one answer
            notify(srv, group, token, 13, new byte[] {3});
            Message m = receive(srv, 3000);
            byte[] wire = m == null ? null : new UdpDataSerializer().getByteArray(m);
            boolean shape = m instanceof Request q && q.getType() == CoAP.Type.NON && q.getCode() == CoAP.Code.GET
                    && q.getOptions().hasObserve() && q.getOptions().getObserve() == 0
                    && Arrays.equals(option(q, 6), new byte[0]) && Arrays.equals(option(q, NO_RESPONSE), new byte[] {26})
                    && Arrays.equals(option(q, FD), new byte[0]) && q.getOptions().getUriPath().equals(List.of("alarm"))
                    && q.getOptions().getUriQuery().equals(List.of("floor=2")) && !q.getOptions().hasOscore();
            check(shape && draw.bounds.equals(List.of(8L, 8L)),
                    "OMN_09 the draw gave I = 0: one NON GET, Observe 0 (empty), Uri-Path alarm, Uri-Query floor=2, "
                    + "Feedback-Divider empty (option 18, length 0), No-Response 0x1a, to the server's unicast address",
                    m + " " + (wire == null ? null : Hex.encode(wire)));
            // the bytes of the options after the Token: Observe 6 empty (0x60), Uri-Path (delta 5, "alarm"), Uri-Query
            // (delta 4, "floor=2"), Feedback-Divider (delta 3, length 0: 0x30), No-Response (delta 240: 0xd1 0xe3, 0x1a)
            String hex = wire == null ? "" : Hex.encode(wire);
            int tkl = wire == null ? 0 : wire[0] & 0x0f;
            check(wire != null && (wire[0] & 0xf0) == 0x50 && wire[1] == 0x01
                    && hex.substring(8 + 2 * tkl).equals("60" + "55616c61726d" + "47666c6f6f723d32" + "30" + "d1e31a"),
                    "OMN_09 the answer's bytes: NON (0x5_), GET (0x01), options 60 55'alarm' 47'floor=2' 30 d1e31a, no payload",
                    hex);
            check(receive(srv, 700) == null && answer.sent() == 1, "OMN_09 exactly one answer", answer.sent());
            FeedbackAnswer refused = null;
            Request protectedReg = Request.newGet();
            protectedReg.setURI("coap://127.0.0.1:" + at.getPort() + "/alarm");
            protectedReg.getOptions().setOscore(new byte[0]);
            try {
                refused = new FeedbackAnswer(protectedReg, FD, 0, new java.util.SplittableRandom(1), null);
            } catch (IllegalArgumentException e) {
                // expected: never plaintext for a protected observation
            }
            check(refused == null, "OMN_09 fail closed: no unprotected answer for an OSCORE-protected registration", refused);
        } finally {
            answer.close();
            client.close();
            srv.close();
        }
    }

    private static void notify(DatagramSocket srv, InetSocketAddress group, byte[] token, int observe, byte[] fd) throws Exception {
        Response n = new Response(CoAP.ResponseCode.CONTENT);
        n.setType(CoAP.Type.NON);
        n.setToken(Token.fromProvider(token));
        n.getOptions().setObserve(observe).setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        n.getOptions().addOption(new Option(FD, fd));
        n.setPayload("state " + observe);
        sendRaw(srv, n, group);
    }

    /** Part 3: eight observers, a deterministic draw, the server's new estimate. */
    private static void endToEnd() throws Exception {
        InetSocketAddress group = new InetSocketAddress("224.0.1.193", 5683);
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", 5832);
        CoapServer server = new CoapServer(cfg());
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(at).setConfiguration(cfg()).build();
        server.addEndpoint(sep);
        Alarm alarm = new Alarm("count", group);
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), at);
        // M = 2, a window of 60 s (ended by finish() once every answer arrived), D = 4
        FeedbackCounting counting = alarm.counting(FeedbackCounting.Config.defaults(2).withWaitMs(60_000));
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg()).build();
        cep.start();
        int n = 8;
        List<GroupObservationClient> clients = new ArrayList<>();
        List<FeedbackAnswer> answers = new ArrayList<>();
        List<ScriptedDraw> draws = new ArrayList<>();
        List<List<Response>> got = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                Request reg = Request.newGet();
                reg.setURI("coap://127.0.0.1:" + at.getPort() + "/count");
                reg.setObserve();
                reg.send(cep);
                Response ir = reg.waitForResponse(5000);
                List<Response> mine = new CopyOnWriteArrayList<>();
                got.add(mine);
                // clients 0, 1 and 2 draw I = 0, the others I = 1: a deterministic R = 3
                ScriptedDraw d = new ScriptedDraw(i < 3 ? 0 : 1);
                draws.add(d);
                FeedbackAnswer a = new FeedbackAnswer(reg, FD, 200, new java.util.SplittableRandom(i), null);
                answers.add(a);
                GroupObservationClient c = GroupObservationClient.join(ir, reg, InformativeResponse.DEFAULT_CONTENT_FORMAT,
                        GroupObservationClient.networkInterface("lo"), ExtensionOptionRegistry.defaults().californiumRegistry(),
                        new GroupObservationClient.Listener() {
                            @Override
                            public void notification(Response r, boolean fromLastNotif) {
                                mine.add(r);
                            }

                            @Override
                            public void ended(String why) {
                            }
                        }, a);
                c.feedbackDraw(d);
                clients.add(c);
            }
            check(alarm.observers() == n, "OMN_09 end to end: eight observers", alarm.observers());
            counting.start();
            alarm.state = 1;
            alarm.changed();
            boolean all = ScenarioWait.until(() -> got.stream().allMatch(l -> l.size() == 2), 5000);
            boolean everyDrawQ2 = draws.stream().allMatch(d -> d.bounds.equals(List.of(4L)));
            check(all && everyDrawQ2, "OMN_09 end to end: every observer got the notification with Q = 2 and drew once "
                    + "from [0, 4)", draws.stream().map(d -> d.bounds).toList());
            boolean arrived = ScenarioWait.until(() -> counting.confirmations() == 3, 10_000)
                    && ScenarioWait.until(() -> answers.stream().mapToLong(FeedbackAnswer::sent).sum() >= 3, 5000);
            long sent = answers.stream().mapToLong(FeedbackAnswer::sent).sum();
            boolean who = answers.get(0).sent() == 1 && answers.get(1).sent() == 1 && answers.get(2).sent() == 1;
            check(arrived && sent == 3 && who && alarm.observers() == n,
                    "OMN_09 end to end: the three observers whose draw gave 0 answered once each, the server counted R = 3, "
                    + "no new observer", "R " + counting.confirmations() + ", sent " + sent);
            FeedbackCounting.Result res = counting.finish();
            // E = 3 * 4 = 12, N = COUNT' = 8: 8 + (12 - 8) / 4 = 9; bounds for R in [0, 8]: [6, 14]
            check(res != null && res.estimate() == 12 && res.count() == 9 && alarm.observers() == 9,
                    "OMN_09 end to end: the new estimate 8 + (3 * 2^2 - 8) / 4 = 9", res);
        } finally {
            for (FeedbackAnswer a : answers) {
                a.close();
            }
            for (GroupObservationClient c : clients) {
                c.close();
            }
            cep.destroy();
            alarm.close();
            server.destroy();
        }
    }

    /** Part 4: {@code coterie client --observe} answers a Feedback-Divider (Q = 0: always) and says so. */
    private static void commandLine() throws Exception {
        InetSocketAddress group = new InetSocketAddress("224.0.1.194", 5683);
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", 5833);
        CoapServer server = new CoapServer(cfg());
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(at).setConfiguration(cfg()).build();
        server.addEndpoint(sep);
        Alarm alarm = new Alarm("cli", group);
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), at);
        FeedbackCounting counting = alarm.counting(FeedbackCounting.Config.defaults(1000).withWaitMs(120_000));
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        java.util.concurrent.atomic.AtomicBoolean changing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread changer = new Thread(() -> {
            boolean asked = false;
            while (changing.get()) {
                try {
                    // slowly until the answer arrived (it waits up to the 5 s Leisure), then quickly to the end
                    Thread.sleep(counting.confirmations() == 0 ? 1000 : 50);
                } catch (InterruptedException e) {
                    return;
                }
                if (!asked && alarm.observers() == 1) {
                    asked = counting.start();
                }
                alarm.state++;
                alarm.changed();
            }
        });
        int status;
        try (java.io.PrintStream capture = new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8)) {
            System.setOut(capture);
            changer.start();
            status = new picocli.CommandLine(new dev.coterie.app.Coterie()).execute("client", "--no-oscore", "--observe",
                    "--notifications", "30", "--timeout", "60", "coap://127.0.0.1:" + at.getPort() + "/cli");
        } finally {
            changing.set(false);
            System.setOut(stdout);
        }
        changer.join();
        String cli = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        System.out.println(cli);
        check(status == 0 && cli.contains("(Feedback-Divider: answered the server's count with a NON GET, Observe 0, "
                + "No-Response 26, an empty Feedback-Divider, to /127.0.0.1:5833)") && counting.confirmations() == 1
                && alarm.observers() == 1, "OMN_09 coterie client --observe answers a Feedback-Divider (Q = 0) once and "
                + "prints it; the server counted it, no new observer", status + " R " + counting.confirmations());
        alarm.close();
        server.destroy();
    }

    /** Bounded waits: no timing is asserted, the wait only bounds the run. */
    static final class ScenarioWait {
        static boolean until(java.util.function.BooleanSupplier cond, long ms) throws InterruptedException {
            return GroupObservationScenario.await(cond, ms);
        }
    }
}
