package dev.coterie.tests;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.TicketRequest;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): ticket requests at the
 * proxy next to the server (multicast-notifications-proxy Section 4.2, digest 7.3 step 3,
 * MNP-02, MNP-04, MNP-05). The test registers with the group-observed /alarm of
 * {@link GroupObservationScenario} directly, takes ph_req and the exact tp_info bytes of the
 * informative response, and eleven ticket clients (ten before the first notification, one after) send {@link TicketRequest#build} requests
 * (CON, Observe 0) to a Coterie proxy with {@code group_observations}. Prints "CHECK ok NAME"
 * per check and "SCENARIO OK".
 */
public final class TicketProxyScenario {
    static final InetSocketAddress PROXY = new InetSocketAddress("127.0.0.1", 5620);
    /** Ticket clients that register before the first notification. */
    static final int WAITING = 10;
    private static final URI ORIGINAL = URI.create("coap://127.0.0.1:5810/alarm");
    private static final SecureRandom RANDOM = new SecureRandom();

    private TicketProxyScenario() {
    }

    private static final List<String> FAILURES = new CopyOnWriteArrayList<>();

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.out.println(FAILURES.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED: " + FAILURES);
        System.exit(FAILURES.isEmpty() ? 0 : 1);
    }

    private static void check(boolean ok, String name, Object detail) {
        if (!ok) {
            FAILURES.add(name);
        }
        System.out.println((ok ? "CHECK ok   " : "CHECK FAIL ") + name + (ok ? "" : ": " + detail));
    }

    /** One ticket client: the empty ACKs and responses on its ticket request, in order of arrival. */
    static final class TicketClient extends MessageObserverAdapter {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Response> got = new CopyOnWriteArrayList<>();
        final Request request;

        TicketClient(byte[] phReq, byte[] tpInfo, OptionRegistry registry) {
            this(phReq, tpInfo, registry, "alarm");
        }

        /** For the resource {@code path} of the scenario's server. */
        TicketClient(byte[] phReq, byte[] tpInfo, OptionRegistry registry, String path) {
            byte[] t = new byte[8];
            RANDOM.nextBytes(t);
            request = TicketRequest.build(phReq, tpInfo, ORIGINAL.resolve("/" + path), Token.fromProvider(t), 47, registry);
            request.setDestinationContext(new AddressEndpointContext(PROXY));
            request.addMessageObserver(this);
        }

        @Override
        public synchronized void onResponse(Response response) {
            if (got.isEmpty() || got.get(got.size() - 1) != response) {
                got.add(response);
                events.add(response.getCode() + " " + response.getPayloadString());
            }
        }

        synchronized void emptyAck() {
            events.add("empty ACK");
        }

        List<String> payloads() {
            List<String> out = new ArrayList<>();
            for (Response r : got) {
                out.add(r.getPayloadString());
            }
            return out;
        }

        /** Own Token, 2.05 with Observe, increasing Observe numbers, on every response. */
        boolean wellFormed() {
            int last = -1;
            for (Response r : got) {
                if (r.getCode() != CoAP.ResponseCode.CONTENT || !r.getOptions().hasObserve() || r.getOptions().getObserve() <= last
                        || !r.getToken().equals(request.getToken())) {
                    return false;
                }
                last = r.getOptions().getObserve();
            }
            return true;
        }
    }

    private static byte[] option(org.eclipse.californium.core.coap.Message m, int number) {
        for (org.eclipse.californium.core.coap.Option o : m.getOptions().asSortedList()) {
            if (o.getNumber() == number) {
                return o.getValue();
            }
        }
        return null;
    }

    /** A notification with Token T sent from the server's socket to the group, as the server would send it. */
    private static void fromServer(CoapEndpoint sep, GroupObservationScenario.Alarm alarm, int observe, byte[] oscore,
                                   String payload) {
        Response n = new Response(CoAP.ResponseCode.CONTENT);
        n.setType(CoAP.Type.NON);
        n.setToken(Token.fromProvider(alarm.token()));
        n.setMID(RANDOM.nextInt(1 << 16));
        n.getOptions().setObserve(observe).setContentFormat(org.eclipse.californium.core.coap.MediaTypeRegistry.TEXT_PLAIN);
        if (oscore != null) {
            n.getOptions().setOscore(oscore);
        }
        n.setPayload(payload);
        byte[] b = new UdpDataSerializer().getByteArray(n);
        sep.getConnector().send(RawData.outbound(b, new AddressEndpointContext(GroupObservationScenario.GROUP), null, false));
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
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), GroupObservationScenario.SERVER);
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg).build();
        List<TicketClient> clients = new CopyOnWriteArrayList<>();
        cep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveEmptyMessage(EmptyMessage m) {
                if (m.getType() == CoAP.Type.ACK) {
                    for (TicketClient c : clients) {
                        if (c.request.getMID() == m.getMID()) {
                            c.emptyAck();
                        }
                    }
                }
            }
        });
        // Californium hands the notifications after the first to the endpoint's notification listeners
        cep.addNotificationListener((req, resp) -> {
            for (TicketClient c : clients) {
                if (c.request.getToken().equals(req.getToken())) {
                    c.onResponse(resp);
                }
            }
        });
        cep.start();
        GroupObservationClient direct = null;
        try (ProxyServer proxy = GroupObservationProxyScenario.proxy(PROXY.getHostString() + ":" + PROXY.getPort(),
                "group_observations: {interface: lo, max_observers: 1000, feedback_leisure_ms: 100}")) {
            // the client's own registration with the server: the informative response gives ph_req and tp_info
            Request reg = Request.newGet();
            reg.setURI(ORIGINAL.toString());
            reg.setObserve();
            reg.send(cep);
            Response ir = reg.waitForResponse(5000);
            boolean informative = ir != null && ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE
                    && ir.getOptions().getContentFormat() == InformativeResponse.DEFAULT_CONTENT_FORMAT;
            check(informative && alarm.observers() == 1, "MNP_05 setup: the direct registration got the informative response",
                    ir);
            if (!informative) {
                return;
            }
            byte[] phReq = InformativeResponse.decode(ir.getPayload()).phReq();
            byte[] tpInfo = TicketRequest.tpInfoBytes(ir.getPayload());
            // the test listens to the group itself too: the server's own Observe numbers, for the replay below
            GroupObservationScenario.Observer self = new GroupObservationScenario.Observer();
            direct = GroupObservationClient.join(ir, reg, InformativeResponse.DEFAULT_CONTENT_FORMAT, GroupObservationClient.networkInterface("lo"),
                    registry, self, null);
            int requestsBefore = atServer.get();

            TicketClient first = new TicketClient(phReq, tpInfo, registry);
            clients.add(first);
            cep.sendRequest(first.request);
            boolean acked = GroupObservationScenario.await(() -> !first.events.isEmpty(), 5000);
            TicketClient second = new TicketClient(phReq, tpInfo, registry);
            clients.add(second);
            cep.sendRequest(second.request);
            acked &= GroupObservationScenario.await(() -> !second.events.isEmpty(), 5000);
            check(acked && first.events.equals(List.of("empty ACK")) && second.events.equals(List.of("empty ACK")),
                    "MNP_05 with no notification received yet, a CON ticket request gets an empty ACK (first and second client)",
                    first.events + " / " + second.events);
            check(proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                    "MNP_04 two ticket clients, one group observation joined by the proxy",
                    proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED));

            // more clients waiting for the first notification: each is attached when it arrives, and gets it once
            for (int i = 0; i < WAITING - 2; i++) {
                TicketClient c = new TicketClient(phReq, tpInfo, registry);
                clients.add(c);
                cep.sendRequest(c.request);
            }
            boolean allAcked = GroupObservationScenario.await(() -> clients.stream().allMatch(c -> !c.events.isEmpty()), 5000);
            check(allAcked && clients.stream().allMatch(c -> c.events.equals(List.of("empty ACK")))
                    && proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                    "MNP_05 every ticket client before the first notification gets an empty ACK; still one group observation",
                    clients.get(clients.size() - 1).events);
            List<TicketClient> waiting = List.copyOf(clients);

            double inBefore = proxy.metrics().groupNotificationCount();
            alarm.state = 1;
            alarm.changed();
            boolean both = GroupObservationScenario.await(() -> waiting.stream().allMatch(c -> c.payloads().contains("state 1")),
                    10_000);
            check(both && waiting.stream().allMatch(TicketClient::wellFormed)
                    && waiting.stream().map(c -> c.request.getToken()).distinct().count() == WAITING,
                    "MNP_04 the change reaches every ticket client: 2.05, Observe, its own Token, payload 'state 1'",
                    first.got + " / " + second.got);

            // a client that joins after a notification: its first answer is that latest notification
            TicketClient late = new TicketClient(phReq, tpInfo, registry);
            clients.add(late);
            cep.sendRequest(late.request);
            boolean lateGot = GroupObservationScenario.await(() -> !late.got.isEmpty(), 5000);
            check(lateGot && late.events.get(0).equals("2.05 state 1") && late.wellFormed(),
                    "MNP_05 a ticket client joining after a notification gets the latest notification first, with its own Token",
                    late.events);

            alarm.state = 2;
            alarm.changed();
            boolean all = GroupObservationScenario.await(() -> clients.stream().allMatch(c -> c.payloads().contains("state 2")),
                    10_000);
            boolean identical = true;
            for (TicketClient c : clients) {
                Response r = c.got.get(c.got.size() - 1);
                identical &= c.payloads().equals(List.of("state 1", "state 2")) // each notification once, none twice
                        && java.util.Arrays.equals(r.getPayload(), first.got.get(first.got.size() - 1).getPayload())
                        && r.getOptions().getContentFormat() == org.eclipse.californium.core.coap.MediaTypeRegistry.TEXT_PLAIN
                        && c.wellFormed();
            }
            String dup = clients.stream().filter(c -> c.got.size() != 2).map(c -> c.got.toString()).findFirst().orElse("");
            check(all && identical, "MNP_04 the next change reaches every ticket client once: identical payload, own Token, "
                    + "increasing Observe", dup + " / " + late.events);
            check(proxy.metrics().groupNotificationCount() - inBefore == 2,
                    "MNP_04 one listener: each multicast notification taken in once at the proxy for every ticket client",
                    proxy.metrics().groupNotificationCount() - inBefore);
            check(atServer.get() == requestsBefore && alarm.observers() == 1,
                    "MNP_02 nothing reaches the server for the ticket requests (its requests and observer counter unchanged)",
                    (atServer.get() - requestsBefore) + " requests / " + alarm.observers() + " observers");
            check(proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                    "MNP_04 all ticket clients, one group observation joined by the proxy",
                    proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED));

            // MNP-07: the server asks for a count (M 1000, N 1: Q = 0, so the proxy's draw always answers); the proxy
            // answers it itself, once, and relays the notification to every ticket client without the option
            int fd = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number();
            List<Request> withFd = new CopyOnWriteArrayList<>();
            sep.addInterceptor(new MessageInterceptorAdapter() {
                @Override
                public void receiveRequest(Request request) {
                    if (option(request, fd) != null) {
                        withFd.add(request);
                    }
                }
            });
            dev.coterie.oscore.FeedbackCounting counting = alarm.counting(
                    dev.coterie.oscore.FeedbackCounting.Config.defaults(1000).withWaitMs(60_000));
            counting.start();
            alarm.state = 3;
            alarm.changed();
            boolean fdAll = GroupObservationScenario.await(() -> clients.stream().allMatch(c -> c.payloads().contains("state 3")),
                    10_000);
            boolean seenFd = GroupObservationScenario.await(() -> self.notifications.size() >= 4, 5000);
            Response atGroup = seenFd ? self.notifications.get(self.notifications.size() - 1) : null;
            check(atGroup != null && "state 3".equals(atGroup.getPayloadString())
                    && java.util.Arrays.equals(option(atGroup, fd), new byte[0]),
                    "MNP_07 control: the server's multicast notification carried Feedback-Divider Q = 0 (option 18, empty)",
                    atGroup);
            boolean stripped = true;
            for (TicketClient c : clients) {
                Response r = c.got.get(c.got.size() - 1);
                stripped &= "state 3".equals(r.getPayloadString()) && option(r, fd) == null && c.wellFormed();
            }
            check(fdAll && stripped, "MNP_07 the proxy relays that notification to every ticket client without "
                    + "Feedback-Divider (own Token, increasing Observe)", first.got);
            boolean answered = GroupObservationScenario.await(() -> counting.confirmations() == 1, 10_000);
            Request conf = withFd.isEmpty() ? null : withFd.get(0);
            String confHex = conf == null ? "" : dev.coterie.keystore.Hex.encode(new UdpDataSerializer().getByteArray(conf));
            int tkl = conf == null ? 0 : conf.getToken().length();
            check(answered && withFd.size() == 1 && conf.getType() == CoAP.Type.NON && conf.getCode() == CoAP.Code.GET
                    && confHex.startsWith("5" + Integer.toHexString(tkl) + "01")
                    && confHex.substring(8 + 2 * tkl).equals("60" + "55616c61726d" + "70" + "d1e31a")
                    && alarm.observers() == 1,
                    "MNP_07 the proxy answered the Feedback-Divider itself: one NON GET, options 60 55'alarm' 70 d1e31a "
                    + "(Observe 0, Uri-Path, empty Feedback-Divider, No-Response 26), counted at the server as one confirmation",
                    withFd.size() + " " + confHex);
            dev.coterie.oscore.FeedbackCounting.Result res = counting.finish();
            check(res != null && res.q() == 0 && res.confirmations() == 1 && res.count() == 1,
                    "MNP_07 the server's new estimate counts the proxy as one client: 1 + (1 - 1) / 4 = 1", res);

            // a replayed notification from the server's own socket (the latest Observe again): never relayed; the proxy's
            // group listener drops it before TicketRelay (RFC 7641 3.4 in GroupObservationClient)
            boolean seen = GroupObservationScenario.await(() -> self.notifications.size() >= 4, 5000);
            Response lastAtServer = seen ? self.notifications.get(self.notifications.size() - 1) : null;
            if (lastAtServer == null || !"state 3".equals(lastAtServer.getPayloadString())) {
                check(false, "MNP_04 setup: the test saw the server's notifications", self.got);
                return;
            }
            int observe = lastAtServer.getOptions().getObserve();
            GroupObservationClient listening = direct;
            long selfDropped = listening.dropped();
            fromServer(sep, alarm, observe, null, "state replayed");
            boolean reached = GroupObservationScenario.await(() -> listening.dropped() > selfDropped, 5000);
            // protected-looking notifications (an OSCORE option with a Partial IV): TicketRelay's own order check
            double droppedBefore = proxy.metrics().groupNotificationDroppedCount();
            fromServer(sep, alarm, observe + 1, new byte[] {0x01, 0x10}, "piv 10");
            boolean control = GroupObservationScenario.await(() -> clients.stream().allMatch(c -> c.payloads().contains("piv 10")),
                    10_000);
            fromServer(sep, alarm, observe + 2, new byte[] {0x01, 0x10}, "piv 10 replayed");
            boolean dropped = GroupObservationScenario.await(() -> proxy.metrics().groupNotificationDroppedCount() > droppedBefore,
                    5000);
            fromServer(sep, alarm, observe + 3, new byte[] {0x01, 0x11}, "piv 11");
            boolean next = GroupObservationScenario.await(() -> clients.stream().allMatch(c -> c.payloads().contains("piv 11")),
                    10_000);
            boolean noReplay = clients.stream().noneMatch(c -> c.payloads().contains("state replayed")
                    || c.payloads().contains("piv 10 replayed"));
            check(reached && control && noReplay,
                    "MNP_04 a replayed notification (the latest Observe again, from the server's address) is not relayed; "
                    + "control: an advancing one from the same socket is", first.events);
            check(dropped && proxy.metrics().groupNotificationDroppedCount() - droppedBefore == 1 && noReplay,
                    "MNP_04 a notification whose Partial IV does not advance is dropped and counted in "
                    + "coterie.proxy.group.notifications.dropped", proxy.metrics().groupNotificationDroppedCount() - droppedBefore
                    + " / " + first.events);
            check(next && noReplay && clients.stream().allMatch(TicketClient::wellFormed),
                    "MNP_04 control: the next advancing notification is relayed to every ticket client", first.events);
            for (TicketClient c : clients) {
                c.request.cancel();
            }
        } finally {
            if (direct != null) {
                direct.close();
            }
            cep.destroy();
            alarm.close();
            server.destroy();
        }
    }
}
