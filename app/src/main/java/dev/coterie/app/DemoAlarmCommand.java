package dev.coterie.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import picocli.CommandLine.Command;

/**
 * The building's fire alarm as a group observation (observe-multicast-notifications,
 * multicast-notifications-proxy, unprotected variant), inside a private network namespace (the
 * demo's part 5): a server's /fire-alarm notifies the group 224.0.1.190:5683; the border proxy
 * next to it joins that group observation once for eight observers that cannot listen to
 * multicast; every change is one datagram from the server and eight unicast notifications from
 * the proxy. Prints the flow and a summary of notifications sent against delivered.
 */
@Command(name = "demo-alarm", hidden = true, description = "The fire alarm of the demo (inside a private namespace).")
public final class DemoAlarmCommand implements Callable<Integer> {
    private static final int OBSERVERS = 8;
    private final PrintStream out = System.out;

    static final class Alarm extends GroupObservedResource {
        volatile String state = "quiet";

        Alarm(InetSocketAddress group) {
            super("fire-alarm", group, InformativeResponse.DEFAULT_CONTENT_FORMAT);
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN).setMaxAge(60);
            r.setPayload(state);
            return r;
        }
    }

    @Override
    public Integer call() throws Exception {
        InetSocketAddress group = new InetSocketAddress(InetAddress.getByName("224.0.1.190"), 5683);
        dev.coterie.oscore.MulticastGuard.check(group.getAddress()); // refuses outside a private namespace
        InetSocketAddress srv = new InetSocketAddress("127.0.0.1", 5820);
        Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
        CoapServer server = new CoapServer(cfg);
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(srv).setConfiguration(cfg).build();
        server.addEndpoint(sep);
        Alarm alarm = new Alarm(group);
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), srv);
        String yaml = String.join("\n", "listen: ['127.0.0.1:5600']", "forward_proxy: true",
                "access:", "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:5820'}]}",
                "group_observations: {interface: lo}", "");
        ProxyConfig pc = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "demo-alarm", null);
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg).build();
        cep.start();
        Map<Token, List<Response>> got = new ConcurrentHashMap<>();
        // Californium gives the first answer to the request and the later notifications to the endpoint's listeners
        cep.addNotificationListener((req, resp) -> add(got.get(req.getToken()), resp));
        int failures = 0;
        out.println("The fire alarm coap://127.0.0.1:5820/fire-alarm (gp-obs) notifies the group 224.0.1.190:5683;");
        out.println("the border proxy 127.0.0.1:5600 is next to it (group_observations on); " + OBSERVERS
                + " panels observe it through the proxy\n");
        try (ProxyServer proxy = new ProxyServer(pc, List.of(), Map.of()).start()) {
            out.println("== 19. Eight panels register through the proxy; the proxy registers once and takes the informative response");
            out.println("   Panels              Proxy                      Alarm 127.0.0.1:5820           Group 224.0.1.190:5683");
            out.println("      |-- GET Observe 0 ->|                          |                               |");
            out.println("      |   Proxy-Uri ...    |-- GET /fire-alarm ------>|                               |");
            out.println("      |                    |   Observe 0 (once)       |  (phantom request, Token T)   |");
            out.println("      |                    |<-- 5.03 informative -----|                               |");
            out.println("      |                    |    tp_info, ph_req,      |                               |");
            out.println("      |                    |    last_notif            |                               |");
            out.println("      |                    |   (joins the group)      |                               |");
            out.println("      |<-- 2.05 last_notif |                          |                               |");
            List<Request> regs = new ArrayList<>();
            for (int i = 0; i < OBSERVERS; i++) {
                Request r = Request.newGet();
                r.setURI("coap://127.0.0.1:5600");
                r.getOptions().setProxyUri("coap://127.0.0.1:5820/fire-alarm");
                r.setObserve();
                List<Response> l = new java.util.concurrent.CopyOnWriteArrayList<>();
                r.addMessageObserver(new org.eclipse.californium.core.coap.MessageObserverAdapter() {
                    @Override
                    public void onReadyToSend() {
                        got.put(r.getToken(), l);
                    }

                    @Override
                    public void onResponse(Response resp) {
                        add(l, resp);
                    }
                });
                cep.sendRequest(r);
                regs.add(r);
            }
            boolean first = await(() -> got.values().stream().allMatch(l -> !l.isEmpty()) && got.size() == OBSERVERS, 10_000);
            out.println("            => " + (first ? "every panel has \"quiet\", the server counts " + alarm.observers()
                    + " observer (the proxy), Token T " + Hex.encode(alarm.token()) : "not every panel answered (unexpected)") + "\n");
            failures += first && alarm.observers() == 1 ? 0 : 1;

            out.println("== 20. The alarm goes off, then clears: one multicast datagram per change, fanned out by the proxy");
            out.println("   Panels              Proxy                      Alarm                          Group");
            out.println("      |                    |                          |== NON 2.05 \"FIRE\", Token T ==>|");
            out.println("      |                    |<=========================================================|");
            out.println("      |<-- 2.05 \"FIRE\" x8 |  (each panel's own Token and Observe)                    |");
            long sent = alarm.multicastSent();
            alarm.state = "FIRE";
            alarm.changed();
            boolean fire = await(() -> got.values().stream().allMatch(l -> payloads(l).contains("FIRE")), 10_000);
            alarm.state = "quiet";
            alarm.changed();
            boolean clear = await(() -> got.values().stream().allMatch(l -> payloads(l).equals(List.of("quiet", "FIRE", "quiet"))),
                    10_000);
            long multicast = alarm.multicastSent() - sent;
            out.println("            => " + (fire && clear ? "every panel got \"FIRE\" and then \"quiet\"" : "not every panel got both "
                    + "(unexpected)") + "\n");
            failures += fire && clear && multicast == 2 ? 0 : 1;
            out.println("Alarm summary: " + multicast + " notifications sent by the server (multicast), "
                    + (long) proxy.metrics().groupNotificationCount() + " received by the proxy, "
                    + got.values().stream().mapToInt(List::size).sum()
                    + " delivered to " + OBSERVERS + " panels (the first from last_notif), 1 registration at the server, "
                    + failures + " unexpected result(s)");
            for (Request r : regs) {
                r.cancel();
            }
        } finally {
            cep.destroy();
            alarm.close();
            server.destroy();
        }
        return failures == 0 ? 0 : 1;
    }

    private static synchronized void add(List<Response> l, Response r) {
        if (l != null && r.getOptions().hasObserve() && (l.isEmpty() || l.get(l.size() - 1) != r)) {
            l.add(r);
        }
    }

    private static List<String> payloads(List<Response> l) {
        List<String> out = new ArrayList<>();
        for (Response r : l) {
            out.add(r.getPayloadString());
        }
        return out;
    }

    private static boolean await(java.util.function.BooleanSupplier cond, long ms) throws InterruptedException {
        long end = System.nanoTime() + ms * 1_000_000;
        while (!cond.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        return cond.getAsBoolean();
    }
}
