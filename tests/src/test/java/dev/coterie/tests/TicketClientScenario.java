package dev.coterie.tests;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.TicketRequest;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): ticket requests from
 * the command line client and the TicketRelay paths {@link TicketProxyScenario} leaves out
 * (multicast-notifications-proxy Section 4, MNP-02 … MNP-05).
 *
 * <p>The proxy next to the server has {@code group_observations} with another Content-Format
 * number for application/informative-response+cbor (65001) than the server's (65000): it does
 * not take the server's informative response as one and relays it to the client as it is. That
 * stands in for the Group OSCORE variant, where the proxy cannot read the protected informative
 * response and relays it (Section 4.1; the protected variant itself is not done). The client,
 * {@code coterie client --no-oscore --proxy ... --observe --ticket}, then sends the proxy a
 * ticket request, and the proxy, which handles ticket requests with its own number, listens.
 *
 * <p>Then: the last ticket client's deregistration releases the proxy's listener; the server's
 * multicast 5.03 ends every ticket client's relation; a NON ticket request; a two-proxy chain.
 * Prints "CHECK ok NAME" per check and "SCENARIO OK".
 */
public final class TicketClientScenario {
    static final InetSocketAddress PROXY = TicketProxyScenario.PROXY;
    /** A proxy with next_proxy = {@link #PROXY}, for the chain. */
    static final InetSocketAddress FIRST_PROXY = new InetSocketAddress("127.0.0.1", 5622);
    private static final ScenarioChecks CHECKS = new ScenarioChecks();

    private TicketClientScenario() {
    }

    public static void main(String[] args) {
        CHECKS.exit(TicketClientScenario::run);
    }

    private static void check(boolean ok, String name, Object detail) {
        CHECKS.check(ok, name, detail);
    }

    /** The command line client, stdout captured, while the alarm changes every 400 ms. */
    private static String[] cli(GroupObservationScenario.Alarm alarm, String... args) throws InterruptedException {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        AtomicBoolean changing = new AtomicBoolean(true);
        Thread changer = new Thread(() -> {
            while (changing.get()) {
                try {
                    Thread.sleep(400);
                } catch (InterruptedException e) {
                    return;
                }
                alarm.state++;
                alarm.changed();
            }
        });
        int status;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            changer.start();
            status = new picocli.CommandLine(new dev.coterie.app.Coterie()).execute(args);
        } finally {
            changing.set(false);
            System.setOut(stdout);
        }
        changer.join();
        String out = captured.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        return new String[] {String.valueOf(status), out};
    }

    /** The Observe value and payload of each "notification K:" the client printed, in order. */
    static List<String[]> notifications(String out) {
        List<String[]> r = new ArrayList<>();
        Matcher m = Pattern.compile("UNPROTECTED notification (\\d+):\\nUNPROTECTED 2\\.05 CONTENT\\n((?:  .*\\n)*)(.*)\\n")
                .matcher(out);
        while (m.find()) {
            Matcher o = Pattern.compile("  Observe: (\\d+)").matcher(m.group(2));
            r.add(new String[] {m.group(1), o.find() ? o.group(1) : "-", m.group(3)});
        }
        return r;
    }

    private static Response register(CoapEndpoint cep, String path) {
        Request reg = Request.newGet();
        reg.setURI("coap://127.0.0.1:" + GroupObservationScenario.SERVER.getPort() + "/" + path);
        reg.setObserve();
        reg.send(cep);
        try {
            return reg.waitForResponse(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static boolean isInformative(Response ir) {
        return ir != null && ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE
                && ir.getOptions().getContentFormat() == InformativeResponse.DEFAULT_CONTENT_FORMAT;
    }

    private static void run() throws Exception {
        Configuration cfg = dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration();
        OptionRegistry registry = ExtensionOptionRegistry.defaults().californiumRegistry();
        CoapServer server = new CoapServer(cfg);
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(GroupObservationScenario.SERVER).setConfiguration(cfg)
                .build();
        AtomicInteger atServer = new AtomicInteger();
        sep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atServer.incrementAndGet();
            }
        });
        server.addEndpoint(sep);
        GroupObservationScenario.Alarm alarm = new GroupObservationScenario.Alarm();
        GroupObservationScenario.Alarm second = new GroupObservationScenario.Alarm("alarm2");
        server.add(alarm);
        server.add(second);
        server.start();
        alarm.sendFrom(sep.getConnector(), GroupObservationScenario.SERVER);
        second.sendFrom(sep.getConnector(), GroupObservationScenario.SERVER);
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg).build();
        List<TicketProxyScenario.TicketClient> clients = new CopyOnWriteArrayList<>();
        cep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveEmptyMessage(EmptyMessage m) {
                if (m.getType() == CoAP.Type.ACK) {
                    for (TicketProxyScenario.TicketClient c : clients) {
                        if (c.request.getMID() == m.getMID()) {
                            c.emptyAck();
                        }
                    }
                }
            }
        });
        cep.addNotificationListener((req, resp) -> {
            for (TicketProxyScenario.TicketClient c : clients) {
                if (c.request.getToken().equals(req.getToken())) {
                    c.onResponse(resp);
                }
            }
        });
        cep.start();
        try (ProxyServer proxy = GroupObservationProxyScenario.proxy(PROXY.getHostString() + ":" + PROXY.getPort(),
                "group_observations: {interface: lo, max_observers: 1000, content_format: 65001}")) {
            cliTicket(alarm, proxy, atServer);

            // the server's tp_info and ph_req, for the byte comparison and for the ticket clients below
            Response ir = register(cep, "alarm");
            check(isInformative(ir), "MNP_05 setup: a direct registration got the informative response", ir);
            if (!isInformative(ir)) {
                return;
            }
            byte[] tpInfo = TicketRequest.tpInfoBytes(ir.getPayload());
            byte[] phReq = InformativeResponse.decode(ir.getPayload()).phReq();
            String ticketLine = lastCliOut.lines().filter(l -> l.contains("Token=" + cliTicketToken) && l.contains(" GET "))
                    .findFirst().orElse("");
            check(ticketLine.toLowerCase(java.util.Locale.ROOT).contains(("Listen-To-Multicast-Responses: 0x"
                    + Hex.encode(tpInfo)).toLowerCase(java.util.Locale.ROOT)),
                    "MNP_03 the command line client's ticket request carries the informative response's exact tp_info bytes",
                    ticketLine + " / " + Hex.encode(tpInfo));

            cancellation(alarm, proxy, cep, clients, phReq, tpInfo, registry);
            nonTicket(second, proxy, cep, clients, registry);
            chain(alarm, atServer, proxy, cep, clients, registry);
        } finally {
            cep.destroy();
            alarm.close();
            second.close();
            server.destroy();
        }
    }

    private static volatile String lastCliOut = "";
    private static volatile String cliTicketToken = "";

    /** Part 1: coterie client --proxy --observe --ticket. */
    private static void cliTicket(GroupObservationScenario.Alarm alarm, ProxyServer proxy, AtomicInteger atServer)
            throws InterruptedException {
        int requestsBefore = atServer.get();
        String[] r = cli(alarm, "client", "--no-oscore", "--proxy", "coap://" + PROXY.getHostString() + ":" + PROXY.getPort(),
                "--observe", "--ticket", "--notifications", "3", "--timeout", "20", "--trace",
                "coap://127.0.0.1:" + GroupObservationScenario.SERVER.getPort() + "/alarm");
        int status = Integer.parseInt(r[0]);
        String out = r[1];
        lastCliOut = out;
        Matcher sw = Pattern.compile("UNPROTECTED 5\\.03 informative response, relayed by the proxy: a group observation; this "
                + "client does not listen to multicast \\(--ticket\\): switching to ticket notifications via the proxy /"
                + "127\\.0\\.0\\.1:" + PROXY.getPort() + " \\(ticket request GET Observe 0, Token ([0-9A-Fa-f]+), "
                + "Listen-To-Multicast-Responses: (\\d+) bytes of tp_info\\)").matcher(out);
        boolean switched = sw.find();
        String token = switched ? sw.group(1) : "?";
        cliTicketToken = token;
        check(status == 0 && switched, "MNP_03 coterie client --proxy --observe --ticket: the informative response relayed by "
                + "the proxy, the switch to ticket notifications via the proxy printed", status + "\n" + out);
        // the trace: the ticket request went to the proxy with the option and the proxy options, the notifications came back
        // with the ticket's Token
        String req = out.lines().filter(l -> l.startsWith("UNPROTECTED C ---> S  CON") && l.contains("Token=" + token)
                && l.contains(" GET ")).findFirst().orElse("");
        check(switched && req.contains("Observe: 0") && req.contains("Uri-Host: \"127.0.0.1\"") && req.contains("Uri-Port: 5810")
                && req.contains("Uri-Path: \"alarm\"") && req.contains("Proxy-Scheme: \"coap\"") && req.contains("Listen-To-Multicast-Responses")
                && !req.contains("Proxy-Uri"), "MNP_03 the ticket request in the trace: GET Observe 0, Uri-Host/Uri-Port/Uri-Path "
                + "of the phantom, Proxy-Scheme, Listen-To-Multicast-Responses, no Proxy-Uri", req);
        List<String[]> n = notifications(out);
        boolean increasing = n.size() == 3;
        long lastObserve = -1;
        int lastState = -1;
        for (String[] e : n) {
            long o = e[1].equals("-") ? -1 : Long.parseLong(e[1]);
            int st = e[2].startsWith("state ") ? Integer.parseInt(e[2].substring(6)) : -1;
            increasing &= o > lastObserve && st > lastState;
            lastObserve = o;
            lastState = st;
        }
        long fromProxy = out.lines().filter(l -> l.startsWith("UNPROTECTED C <--- S") && l.contains("Token=" + token)
                && l.contains("2.05 CONTENT") && l.contains("Observe: ")).count();
        check(status == 0 && increasing && fromProxy >= 3, "MNP_04 the command line ticket client gets three notifications from "
                + "the proxy with the ticket's Token, Observe and state increasing",
                n.stream().map(java.util.Arrays::toString).toList() + " / " + fromProxy);
        check(out.contains("deregistering: GET with Observe 1 and the same Token " + token), "MNP_05 the client deregisters the "
                + "ticket (Observe 1, the ticket's Token) at the proxy", out);
        check(atServer.get() - requestsBefore == 1 && alarm.observers() == 1,
                "MNP_02 one request reached the server (the proxied registration); the ticket request and its deregistration "
                + "did not", (atServer.get() - requestsBefore) + " requests / " + alarm.observers() + " observers");
        check(proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                "MNP_04 the proxy listened once, for the ticket", proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED));
        boolean released;
        try {
            released = GroupObservationScenario.await(() -> proxy.ticketGroupObservations() == 0
                    && proxy.metrics().observers().get() == 0, 5000);
        } catch (InterruptedException e) {
            throw e;
        }
        check(released, "MNP_04 the last ticket client's deregistration releases the proxy's listener and relation state",
                proxy.ticketGroupObservations() + " group observations / " + proxy.metrics().observers().get() + " observers");
    }

    /** Part 2(c): the server's multicast 5.03 ends every ticket client's relation; the proxy keeps nothing. */
    private static void cancellation(GroupObservationScenario.Alarm alarm, ProxyServer proxy, CoapEndpoint cep,
                                     List<TicketProxyScenario.TicketClient> clients, byte[] phReq, byte[] tpInfo,
                                     OptionRegistry registry) throws InterruptedException {
        List<TicketProxyScenario.TicketClient> mine = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            TicketProxyScenario.TicketClient c = new TicketProxyScenario.TicketClient(phReq, tpInfo, registry);
            clients.add(c);
            mine.add(c);
            cep.sendRequest(c.request);
        }
        // the proxy listens before the change (a new group observation: an empty ACK each)
        boolean acked = GroupObservationScenario.await(() -> mine.stream().allMatch(c -> c.events.equals(List.of("empty ACK"))),
                5000);
        alarm.state++;
        alarm.changed();
        boolean relations = acked && GroupObservationScenario.await(() -> mine.stream().allMatch(c -> !c.got.isEmpty())
                && proxy.ticketGroupObservations() == 1 && proxy.metrics().observers().get() == 3, 10_000);
        check(relations && mine.stream().allMatch(TicketProxyScenario.TicketClient::wellFormed),
                "MNP_04 control: three ticket clients hold relations at the proxy (2.05 with Observe, own Token)",
                proxy.ticketGroupObservations() + " / " + proxy.metrics().observers().get() + " / " + mine.get(0).events);
        alarm.cancel();
        boolean ended = GroupObservationScenario.await(() -> mine.stream().allMatch(c -> {
            Response l = c.got.isEmpty() ? null : c.got.get(c.got.size() - 1);
            return l != null && l.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE;
        }), 10_000);
        boolean shape = ended;
        for (TicketProxyScenario.TicketClient c : mine) {
            Response l = c.got.get(c.got.size() - 1);
            shape &= !l.getOptions().hasObserve() && l.getToken().equals(c.request.getToken());
        }
        check(shape, "MNP_04 the server's multicast 5.03 reaches every ticket client: 5.03, its own Token, no Observe (the "
                + "relation ends, RFC 7641 3.2)", mine.get(0).events);
        boolean released = GroupObservationScenario.await(() -> proxy.ticketGroupObservations() == 0
                && proxy.metrics().observers().get() == 0, 5000);
        check(released, "MNP_04 after the cancellation the proxy holds no listener and no relation",
                proxy.ticketGroupObservations() + " group observations / " + proxy.metrics().observers().get() + " observers");
        int before = mine.stream().mapToInt(c -> c.got.size()).sum();
        alarm.state++;
        alarm.changed(); // no group observation any more: nothing may reach the ended relations
        Thread.sleep(1000);
        check(mine.stream().mapToInt(c -> c.got.size()).sum() == before,
                "MNP_04 nothing reaches a ticket client after its relation ended", mine.get(0).events);
    }

    /** Part 2(b): a NON ticket request. No empty ACK (there is nothing to acknowledge), the first notification when it comes. */
    private static void nonTicket(GroupObservationScenario.Alarm second, ProxyServer proxy, CoapEndpoint cep,
                                  List<TicketProxyScenario.TicketClient> clients, OptionRegistry registry) throws Exception {
        Response ir = register(cep, "alarm2");
        if (!isInformative(ir)) {
            check(false, "MNP_05 setup: the informative response of /alarm2", ir);
            return;
        }
        byte[] tp = TicketRequest.tpInfoBytes(ir.getPayload());
        byte[] ph = InformativeResponse.decode(ir.getPayload()).phReq();
        TicketProxyScenario.TicketClient con = new TicketProxyScenario.TicketClient(ph, tp, registry, "alarm2");
        TicketProxyScenario.TicketClient non = new TicketProxyScenario.TicketClient(ph, tp, registry, "alarm2");
        non.request.setType(CoAP.Type.NON);
        clients.add(con);
        clients.add(non);
        cep.sendRequest(non.request);
        cep.sendRequest(con.request);
        boolean acked = GroupObservationScenario.await(() -> !con.events.isEmpty(), 5000);
        Thread.sleep(500); // the NON one was sent first: an answer to it would be here by now
        check(acked && con.events.equals(List.of("empty ACK")) && non.events.isEmpty() && proxy.ticketGroupObservations() == 1,
                "MNP_05 NON ticket request before any notification: no answer (nothing to acknowledge); control: the CON one "
                + "at the same time gets its empty ACK", con.events + " / " + non.events);
        second.state = 1;
        second.changed();
        boolean both = GroupObservationScenario.await(() -> con.payloads().contains("state 1") && non.payloads().contains("state 1"),
                10_000);
        check(both && non.wellFormed() && con.wellFormed() && non.got.get(0).getType() == CoAP.Type.NON,
                "MNP_05 the NON ticket client gets the first notification as a NON 2.05 with Observe and its own Token",
                non.events + " / " + (non.got.isEmpty() ? "-" : non.got.get(0).getType()));
        TicketProxyScenario.TicketClient late = new TicketProxyScenario.TicketClient(ph, tp, registry, "alarm2");
        late.request.setType(CoAP.Type.NON);
        clients.add(late);
        cep.sendRequest(late.request);
        boolean lateGot = GroupObservationScenario.await(() -> !late.got.isEmpty(), 5000);
        check(lateGot && late.events.get(0).equals("2.05 state 1") && late.wellFormed(),
                "MNP_05 a NON ticket request after a notification is answered with the latest notification", late.events);
        for (TicketProxyScenario.TicketClient c : List.of(con, non, late)) {
            c.request.cancel();
        }
    }

    /** Part 2(d): a proxy with next_proxy forwards the ticket request on; the last proxy does not forward it to the server. */
    private static void chain(GroupObservationScenario.Alarm alarm, AtomicInteger atServer, ProxyServer last, CoapEndpoint cep,
                              List<TicketProxyScenario.TicketClient> clients, OptionRegistry registry) throws Exception {
        // a fresh group observation of /alarm (the first one was cancelled): its ph_req and tp_info
        Response ir = register(cep, "alarm");
        if (!isInformative(ir)) {
            check(false, "MNP_02 setup: a new group observation of /alarm", ir);
            return;
        }
        byte[] tp = TicketRequest.tpInfoBytes(ir.getPayload());
        byte[] ph = InformativeResponse.decode(ir.getPayload()).phReq();
        int requestsBefore = atServer.get();
        double joinedBefore = last.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED);
        try (ProxyServer first = GroupObservationProxyScenario.proxy(FIRST_PROXY.getHostString() + ":" + FIRST_PROXY.getPort(),
                "next_proxy: {address: '" + PROXY.getHostString() + ":" + PROXY.getPort() + "'}")) {
            TicketProxyScenario.TicketClient c = new TicketProxyScenario.TicketClient(ph, tp, registry);
            c.request.setDestinationContext(new AddressEndpointContext(FIRST_PROXY));
            clients.add(c);
            cep.sendRequest(c.request);
            // the /alarm2 observation of the NON part is still held (its clients only forgot it): one more than before
            int groupsBefore = last.ticketGroupObservations();
            boolean listening = GroupObservationScenario.await(() -> last.ticketGroupObservations() == groupsBefore + 1
                    && last.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) - joinedBefore == 1, 5000);
            check(listening && first.ticketGroupObservations() == 0
                    && first.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 0
                    && last.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) - joinedBefore == 1,
                    "MNP_02 a proxy with next_proxy forwards the ticket request on: the last proxy listens, the first does not",
                    first.ticketGroupObservations() + " / " + last.ticketGroupObservations() + " / " + c.events);
            check(atServer.get() == requestsBefore, "MNP_02 through the chain nothing reaches the server for the ticket request",
                    atServer.get() - requestsBefore);
            alarm.state = 100;
            alarm.changed();
            boolean got = GroupObservationScenario.await(() -> c.payloads().contains("state 100"), 10_000);
            check(got && c.wellFormed(), "MNP_04 through the chain the ticket client gets the notification with its own Token",
                    c.events);
            c.request.cancel();
        }
    }
}
