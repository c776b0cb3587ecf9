package dev.coterie.tests;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.NoResponseOption;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): one server with a
 * group-observed resource /alarm notifying 224.0.1.189:5683 from 127.0.0.1:5810, and five
 * observers that register, get the informative response, listen to the group themselves and
 * receive every notification (observe-multicast-notifications, OMN-01 ... OMN-08, unprotected
 * variant). Prints "CHECK ok NAME" per check and "SCENARIO OK" when all passed.
 */
public final class GroupObservationScenario {
    static final InetSocketAddress GROUP = new InetSocketAddress(ip("224.0.1.189"), 5683);
    static final InetSocketAddress SERVER = new InetSocketAddress(ip("127.0.0.1"), 5810);
    private static final List<String> failures = new ArrayList<>();

    private GroupObservationScenario() {
    }

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    static final class Alarm extends GroupObservedResource {
        volatile int state;
        volatile long maxAge = 60;

        Alarm() {
            this("alarm");
        }

        Alarm(String name) {
            super(name, GROUP, InformativeResponse.DEFAULT_CONTENT_FORMAT);
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN).setMaxAge(maxAge);
            r.setPayload("state " + state);
            return r;
        }
    }

    /** One observer: what it received, in order. */
    static final class Observer implements GroupObservationClient.Listener {
        final List<String> got = new CopyOnWriteArrayList<>();
        final List<Response> notifications = new CopyOnWriteArrayList<>();
        final CountDownLatch end = new CountDownLatch(1);
        volatile String ended;
        GroupObservationClient client;
        Response informative;

        @Override
        public void notification(Response n, boolean fromLastNotif) {
            got.add((fromLastNotif ? "last_notif " : "") + n.getPayloadString());
            notifications.add(n);
        }

        @Override
        public void ended(String why) {
            ended = why;
            end.countDown();
        }
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.out.println(failures.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED: " + failures);
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    static void check(boolean ok, String name, Object detail) {
        if (ok) {
            System.out.println("CHECK ok   " + name);
        } else {
            System.out.println("CHECK FAIL " + name + ": " + detail);
            failures.add(name);
        }
    }

    private static Request registration(boolean observe) {
        Request r = Request.newGet();
        r.setURI("coap://127.0.0.1:" + SERVER.getPort() + "/alarm");
        if (observe) {
            r.setObserve();
        }
        return r;
    }

    /** Waits until {@code cond} holds, at most {@code ms}; no timing is asserted, the wait only bounds the run. */
    static boolean await(java.util.function.BooleanSupplier cond, long ms) throws InterruptedException {
        long end = System.nanoTime() + ms * 1_000_000;
        while (!cond.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        return cond.getAsBoolean();
    }

    private static void run() throws Exception {
        Configuration cfg = dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration();
        CoapServer server = new CoapServer(cfg);
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(SERVER).setConfiguration(cfg).build();
        server.addEndpoint(sep);
        Alarm alarm = new Alarm();
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), SERVER);
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg).build();
        cep.start();
        try {
            // control: a GET without Observe is answered as usual
            Request plain = registration(false);
            plain.send(cep);
            Response pr = plain.waitForResponse(5000);
            check(pr != null && pr.getCode() == CoAP.ResponseCode.CONTENT && "state 0".equals(pr.getPayloadString())
                    && !pr.getOptions().hasObserve(), "OMN_01 control: a GET without Observe gets the representation", pr);
            check(server.getRoot().getChild("alarm").getAttributes().containsAttribute("gp-obs"),
                    "OMN_14 the resource carries gp-obs", server.getRoot().getChild("alarm").getAttributes());

            NetworkIntf nif = new NetworkIntf();
            List<Observer> observers = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Observer o = new Observer();
                Request reg = registration(true);
                reg.send(cep);
                o.informative = reg.waitForResponse(5000);
                if (o.informative == null) {
                    check(false, "OMN_01 informative response " + i, "none");
                    continue;
                }
                o.client = GroupObservationClient.join(o.informative, reg, InformativeResponse.DEFAULT_CONTENT_FORMAT, nif.get(),
                        ExtensionOptionRegistry.defaults().californiumRegistry(), o, null);
                observers.add(o);
            }
            check(observers.size() == 5, "OMN_01 five registrations answered", observers.size());
            Response ir = observers.get(0).informative;
            check(ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && ir.getType() == CoAP.Type.CON
                    && !ir.getOptions().hasObserve()
                    && ir.getOptions().getContentFormat() == InformativeResponse.DEFAULT_CONTENT_FORMAT
                    && ir.getOptions().hasMaxAge() && ir.getOptions().getMaxAge() == 0,
                    "OMN_01 informative response: 5.03, CON (a separate response), no Observe, its Content-Format, Max-Age 0",
                    ir);
            String hex = Hex.encode(ir.getPayload());
            check(hex.startsWith("a3" + "00" + "83" + "822082447f0000011916b2" + "822081" + "44e00001bd" + "48"),
                    "OMN_02 tp_info [[-1, [h'7f000001', 5810]], [-1, [h'e00001bd']], h'<8-byte Token>'] (default port left out)",
                    hex);
            byte[] token = observers.get(0).client.tpInfo().token();
            boolean sameToken = true;
            for (Observer o : observers) {
                sameToken &= java.util.Arrays.equals(token, o.client.tpInfo().token());
            }
            check(sameToken && java.util.Arrays.equals(token, alarm.token()),
                    "OMN_01 every registration was absorbed into one group observation (one Token T)", Hex.encode(token));
            check(alarm.observers() == 5, "OMN_01 the observer counter counts five", alarm.observers());
            boolean baseline = true;
            for (Observer o : observers) {
                baseline &= o.got.equals(List.of("last_notif state 0"));
            }
            check(baseline, "OMN_08 last_notif processed as each observer's first notification", observers.get(0).got);
            // a registration with another query is not absorbed: it cannot change what the others joined
            Request other = registration(true);
            other.getOptions().addUriQuery("junk=1");
            other.send(cep);
            Response or = other.waitForResponse(5000);
            check(or != null && or.getCode() == CoAP.ResponseCode.CONTENT && alarm.observers() == 5,
                    "OMN_01 a registration that differs from the phantom (another Uri-Query) is answered as usual, not absorbed",
                    or + " / " + alarm.observers());
            other.cancel();
            InformativeResponse decoded = InformativeResponse.decode(ir.getPayload());
            check(decoded.phReq() != null && decoded.phReq()[0] == 0x01 && Hex.encode(decoded.phReq()).equals("01" + "60"
                    + "55616c61726d"), "OMN_03 ph_req is GET | Observe 0 | Uri-Path \"alarm\"", Hex.encode(decoded.phReq()));

            // two changes: one datagram each, every observer gets both
            long before = alarm.multicastSent();
            alarm.state = 1;
            alarm.changed();
            alarm.state = 2;
            alarm.changed();
            boolean all = await(() -> observers.stream().allMatch(o -> o.got.size() >= 3), 5000);
            boolean inOrder = true;
            for (Observer o : observers) {
                inOrder &= o.got.equals(List.of("last_notif state 0", "state 1", "state 2"));
            }
            check(all && inOrder, "OMN_04 every observer received both notifications, in order", observers.get(0).got);
            check(alarm.multicastSent() - before == 2, "OMN_04 one datagram per change for five observers",
                    alarm.multicastSent() - before);
            Response n = observers.get(0).notifications.get(1);
            check(n.getType() == CoAP.Type.NON && n.getOptions().hasObserve()
                    && java.util.Arrays.equals(n.getTokenBytes(), token)
                    && n.getSourceContext().getPeerAddress().equals(SERVER),
                    "OMN_04 a notification is NON, with Observe and Token T, from the informative response's source", n);

            // a forged notification: Token T from another socket is dropped; the genuine ones above are the control
            long dropped = observers.get(0).client.dropped();
            try (DatagramSocket forger = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                Response f = new Response(CoAP.ResponseCode.CONTENT);
                f.setType(CoAP.Type.NON);
                f.setToken(Token.fromProvider(token));
                f.setMID(7);
                f.getOptions().setObserve(0xffffff);
                f.setPayload("state forged");
                byte[] b = new UdpDataSerializer().getByteArray(f);
                forger.send(new DatagramPacket(b, b.length, GROUP));
            }
            boolean seen = await(() -> observers.get(0).client.dropped() > dropped, 3000);
            check(seen && observers.stream().noneMatch(o -> o.got.contains("state forged")),
                    "OMN_04 a notification with Token T from another source is dropped", observers.get(0).got);

            // OMN-05: the stored notification expires, a fresh one goes out without a change
            alarm.maxAge = 1;
            alarm.state = 3;
            alarm.changed();
            long afterChange = alarm.multicastSent();
            boolean refreshed = await(() -> alarm.multicastSent() > afterChange
                    && observers.stream().allMatch(o -> o.got.size() >= 5), 6000);
            check(refreshed && observers.get(0).got.get(3).equals("state 3") && observers.get(0).got.get(4).equals("state 3"),
                    "OMN_05 the latest notification outlived its Max-Age: sent again, fresh (a newer Observe)",
                    observers.get(0).got);
            alarm.maxAge = 60;
            alarm.changed();

            // the command line client follows the switch from unicast to multicast notifications and says so
            java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
            java.io.PrintStream stdout = System.out;
            java.util.concurrent.atomic.AtomicBoolean changing = new java.util.concurrent.atomic.AtomicBoolean(true);
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
            try (java.io.PrintStream capture = new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8)) {
                System.setOut(capture);
                changer.start();
                status = new picocli.CommandLine(new dev.coterie.app.Coterie()).execute("client", "--no-oscore", "--observe",
                        "--notifications", "3", "--timeout", "20", "coap://127.0.0.1:" + SERVER.getPort() + "/alarm");
            } finally {
                changing.set(false);
                System.setOut(stdout);
            }
            changer.join();
            String cli = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
            System.out.println(cli);
            check(status == 0 && cli.contains("5.03 informative response: a group observation; switching from unicast to "
                    + "multicast notifications, sent by /127.0.0.1:5810 to /224.0.1.189:5683 with Token " + Hex.encode(token))
                    && cli.contains("(the latest notification, from the informative response's last_notif)")
                    && cli.contains("notification 3"), "OMN_04 coterie client --observe follows the switch to multicast "
                    + "notifications and prints it", status + "\n" + cli);

            // a registration with No-Response 16 is counted but gets no informative response
            Request quiet = registration(true);
            quiet.getOptions().setNoResponse(new NoResponseOption(NoResponseOption.SUPPRESS_SERVER_ERROR));
            quiet.send(cep);
            Response none = quiet.waitForResponse(3000); // past ACK_TIMEOUT: a retransmission would have been answered
            check(none == null && quiet.isAcknowledged() && alarm.observers() == 7,
                    "OMN_01 No-Response 16: counted (seven with the command line client's), acknowledged, no informative response",
                    none + " / " + alarm.observers());
            quiet.cancel();

            // OMN-06: the server cancels; every observer sees the 5.03 with Token T
            long beforeCancel = alarm.multicastSent();
            alarm.cancel();
            boolean ended = true;
            for (Observer o : observers) {
                ended &= o.end.await(5, TimeUnit.SECONDS) && o.ended.contains("5.03");
            }
            check(ended && alarm.multicastSent() - beforeCancel == 1 && alarm.token() == null,
                    "OMN_06 the server's cancellation: one multicast 5.03 with Token T, every observer ended, T freed",
                    observers.get(0).ended);
            for (Observer o : observers) {
                o.client.close();
            }
        } finally {
            cep.destroy();
            alarm.close();
            server.destroy();
        }
    }

    /** The loopback interface, the namespace's only one. */
    static final class NetworkIntf {
        java.net.NetworkInterface get() throws java.net.SocketException {
            return GroupObservationClient.networkInterface("lo");
        }
    }
}
