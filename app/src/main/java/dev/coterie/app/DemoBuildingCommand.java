package dev.coterie.app;

import dev.coterie.app.group.GroupManager;
import dev.coterie.app.group.MemberBundle;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.SecurityTrace;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import picocli.CommandLine.Command;

/**
 * The building of ARCHITECTURE.md's main job, inside a private network namespace (the demo
 * starts it there): a lighting group and a sensor group, each a Group OSCORE group on its own
 * multicast address, behind a Coterie border proxy that shares an OSCORE hop context with each
 * client and holds no group key. A wall switch switches every lamp with one request through the
 * proxy; two readers read every sensor with the same deterministic group request, the second
 * served from the proxy's cache alone; a client that is not on the list is denied. Prints the
 * exchanges as message-flow figures (groupcomm-proxy Section 10 style) and a summary.
 */
@Command(name = "demo-building", hidden = true, description = "The building of the demo (inside a private namespace).")
final class DemoBuildingCommand implements Callable<Integer> {
    private static final String PROXY = "127.0.0.1:5600";
    private static final String HTTP = "127.0.0.1:8080";
    private final PrintStream out = System.out;
    private final CryptoProvider provider = CryptoProviders.defaultProvider();

    @Override
    public Integer call() throws Exception {
        InetAddress lightsGroup = InetAddress.getByName("224.0.1.187");
        InetAddress sensorsGroup = InetAddress.getByName("224.0.1.188");
        dev.coterie.oscore.MulticastGuard.check(lightsGroup); // refuses outside a private namespace
        Path dir = Files.createTempDirectory("coterie-demo-building");
        GroupManager lights = GroupManager.create(dir, "lights", GroupAlgorithms.defaults(), Hex.decode("b1"), 1, provider);
        Path wallSwitch = lights.addMember("client", "wall-switch", null);
        List<Path> lamps = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            lamps.add(lights.addMember("server", "lamp-" + i, null));
        }
        GroupManager sensors = GroupManager.create(dir, "sensors", GroupAlgorithms.defaults(), Hex.decode("b2"), 1, 2,
                Hex.decode("dc"), null, null, provider);
        Path readerA = sensors.addMember("client", "reader-a", null);
        Path readerB = sensors.addMember("client", "reader-b", null);
        Path panel = sensors.addMember("client", "hall-panel", null);
        List<Path> sensorBundles = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            sensorBundles.add(sensors.addMember("server", "sensor-" + i, null));
        }
        out.println("The building: group 'lights' (wall switch 01, lamps 02 03 04) on 224.0.1.187:5683,");
        out.println("  group 'sensors' (readers 01 02, hall panel 03, sensors 04 05 06, Deterministic Client dc) on 224.0.1.188:5683,");
        out.println("  the border proxy on " + PROXY + ": an OSCORE hop context with each reader and the switch, no group key,");
        out.println("  its HTTP front end on " + HTTP + " (RFC 8075) for the hall panel, a web client without CoAP,");
        out.println("  access: the switch -> lights; the readers and anyone else (what the sensors answer is end-to-end");
        out.println("  protected, readable only with the group's keys) -> sensors\n");

        AtomicInteger verified = new AtomicInteger();
        AtomicInteger signatures = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        SecurityTrace serverTrace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REQUEST_VERIFIED) {
                verified.incrementAndGet();
                if (info.mode() == ProtectionMode.GROUP) {
                    signatures.incrementAndGet();
                }
            } else if (event == SecurityTrace.Event.REJECTED) {
                rejected.incrementAndGet();
            }
        };
        Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
        cfg.set(CoapConfig.LEISURE, 200, TimeUnit.MILLISECONDS);
        List<CoapServer> servers = new ArrayList<>();
        List<GroupContext> opened = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            servers.add(server(lamps.get(i), 5702 + i, lightsGroup, cfg, serverTrace, new DemoResources.LightResource(), opened));
            servers.add(server(sensorBundles.get(i), 5712 + i, sensorsGroup, cfg, serverTrace,
                    new DemoResources.TemperatureResource(), opened));
        }
        Path state = dir.resolve("hop-state");
        List<OscoreContext> proxySide = new ArrayList<>();
        List<OscoreContext> clientSide = new ArrayList<>();
        String[] secrets = {"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf", "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf", "c0c1c2c3c4c5c6c7c8c9cacbcccdcecf"};
        for (int i = 0; i < 3; i++) {
            byte[] kid = {(byte) (0x0c + i)};
            proxySide.add(hop("proxy-" + i, secrets[i], new byte[] {0x0b}, kid, state.resolve("p" + i)));
            clientSide.add(hop("client-" + i, secrets[i], kid, new byte[] {0x0b}, state.resolve("c" + i)));
        }
        String yaml = String.join("\n",
                "listen: ['" + PROXY + "']",
                "forward_proxy: true",
                "groups:",
                "  - {name: lights, host: lights.building.example, address: 224.0.1.187,",
                "     members: ['127.0.0.1:5702', '127.0.0.1:5703', '127.0.0.1:5704']}",
                "  - {name: sensors, host: sensors.building.example, address: 224.0.1.188,",
                "     members: ['127.0.0.1:5712', '127.0.0.1:5713', '127.0.0.1:5714']}",
                "access:",
                "  - {client: {kid: '0c'}, allow: [{group: lights}]}",
                "  - {client: {kid: '0d'}, allow: [{group: sensors}]}",
                "  - {client: {kid: '0e'}, allow: [{group: sensors}]}",
                "  - {client: unauthenticated, allow: [{group: sensors}]}",
                "http: {listen: '" + HTTP + "', unauthenticated: allow}",
                "");
        ProxyConfig pc = ProxyConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml), "demo-building", null);
        Thread.sleep(300);
        int failures = 0;
        ExtensionOptionRegistry registry = ExtensionOptionRegistry.defaults();
        try (ProxyServer proxy = new ProxyServer(pc, proxySide, Map.of()).start()) {
            GroupContext sw = open(wallSwitch, opened);
            figure("14. The wall switch turns every lamp on: one request to the proxy, one multicast, three answers",
                    "Switch", "PUT coap://lights.building.example/light \"on\"", "Multicast-Timeout: 2",
                    "OSCORE hop 0c { Group OSCORE, group mode }", "224.0.1.187");
            failures += expect(3, run(registry, request(Code.PUT, "coap://lights.building.example/light", "on"),
                    List.of(sw.groupMode(), RequestProtector.forProxy(clientSide.get(0).protector())), 2));

            GroupContext a = open(readerA, opened);
            figure("15. Reader A reads every sensor with a deterministic group request (the proxy may cache the answers)",
                    "Reader A", "GET coap://sensors.building.example/temperature", "Multicast-Timeout: 2",
                    "OSCORE hop 0d { deterministic request of dc }", "224.0.1.188");
            double multicastBefore = proxy.metrics().count(ProxyMetrics.Outcome.GROUP_FORWARDED);
            failures += expect(3, run(registry, request(Code.GET, "coap://sensors.building.example/temperature", null),
                    List.of(deterministic(a), RequestProtector.forProxy(clientSide.get(1).protector())), 2));

            GroupContext b = open(readerB, opened);
            double hitsBefore = proxy.metrics().cacheHits();
            figure("16. Reader B sends the same deterministic request: every sensor's answer comes from the proxy's cache",
                    "Reader B", "GET coap://sensors.building.example/temperature", "Multicast-Timeout: 2",
                    "OSCORE hop 0e { the same deterministic request }", "(nothing sent)");
            failures += expect(3, run(registry, request(Code.GET, "coap://sensors.building.example/temperature", null),
                    List.of(deterministic(b), RequestProtector.forProxy(clientSide.get(2).protector())), 2));
            boolean fromCache = proxy.metrics().cacheHits() == hitsBefore + 1
                    && proxy.metrics().count(ProxyMetrics.Outcome.GROUP_FORWARDED) == multicastBefore + 1;
            out.println("            => " + (fromCache ? "served from the cache alone: no multicast for reader B"
                    : "not served from the cache (unexpected)") + "\n");
            failures += fromCache ? 0 : 1;

            figure("17. A device that is not on the list for the lights tries to switch them, in plaintext", "Intruder",
                    "PUT coap://lights.building.example/light \"off\"", "Multicast-Timeout: 2", "no hop layer",
                    "(nothing sent)");
            int denied = run(registry, request(Code.PUT, "coap://lights.building.example/light", "off"), List.of(), 2);
            boolean deniedOk = denied == 1 && proxy.metrics().count(ProxyMetrics.Outcome.DENIED) >= 1;
            out.println("            => " + (deniedOk ? "denied: 4.01 from the proxy, nothing multicast" : "not denied (unexpected)")
                    + "\n");
            failures += deniedOk ? 0 : 1;

            GroupContext hall = open(panel, opened);
            figure("18. The hall panel reads every sensor over HTTP: Group OSCORE end to end (RFC 8613 Section 11)",
                    "Panel", "POST http://" + HTTP + "/hc/coap://sensors...", "Multicast-Timeout: 2",
                    "OSCORE field { Group OSCORE, group mode }", "224.0.1.188");
            int read = new DemoHttpRead(registry, out).run(HTTP, "coap://sensors.building.example/temperature", hall.groupMode(),
                    2);
            out.println("            => " + (read == 3 ? "3 parts of one multipart/mixed answer, each verified end to end"
                    : read + " verified part(s) (unexpected)") + "\n");
            failures += read == 3 ? 0 : 1;

            ProxyMetrics m = proxy.metrics();
            out.println("Building summary: " + (long) (m.count(ProxyMetrics.Outcome.GROUP_FORWARDED)
                    + m.count(ProxyMetrics.Outcome.CACHE_HIT) + m.count(ProxyMetrics.Outcome.DENIED))
                    + " group requests at the proxy (" + (long) m.httpAnswers("2xx") + " over HTTP), " + (long) m.count(ProxyMetrics.Outcome.GROUP_FORWARDED) + " multicast, "
                    + (long) m.cacheHits() + " served from its cache, " + (long) m.groupRelayedCount() + " responses relayed "
                    + "with Reply-From, " + (long) m.layersRemoved() + " hop layers removed, " + signatures.get()
                    + " group-mode signatures and " + (verified.get() - signatures.get()) + " deterministic requests verified "
                    + "by the servers, " + (long) m.count(ProxyMetrics.Outcome.DENIED) + " request(s) denied, " + rejected.get()
                    + " rejected at servers, " + failures + " unexpected result(s)");
        } finally {
            for (CoapServer s : servers) {
                s.destroy();
            }
            for (GroupContext g : opened) {
                g.close();
            }
            for (OscoreContext c : clientSide) {
                c.close();
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private CoapServer server(Path bundle, int port, InetAddress group, Configuration cfg, SecurityTrace trace,
                              org.eclipse.californium.core.CoapResource resource, List<GroupContext> opened) throws Exception {
        GroupContext ctx = MemberBundle.load(bundle, provider, null);
        opened.add(ctx);
        CoapServer s = new CoapServer(cfg);
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", port)).configuration(cfg)
                .serverGroups(new GroupContextDb().add(ctx)).join(group).trace(trace)
                .deterministicRequests(r -> DemoResources.acceptsDeterministic(s, r)).build();
        s.addEndpoint(ep);
        s.add(resource);
        s.start();
        return s;
    }

    private GroupContext open(Path bundle, List<GroupContext> opened) throws Exception {
        GroupContext g = MemberBundle.load(bundle, provider, null);
        opened.add(g);
        return g;
    }

    private OscoreContext hop(String name, String secret, byte[] sender, byte[] recipient, Path state) throws Exception {
        return OscoreContext.builder().provider(provider).name(name).masterSecret(SecretBytes.fromHex(secret))
                .senderId(sender).recipientId(recipient).stateStore(SecurityStateStore.open(state, 100)).build();
    }

    private static RequestProtector deterministic(GroupContext reader) {
        return reader.deterministic(null, null, ExtensionOptionRegistry.defaults(), true, 0);
    }

    private static Request request(Code code, String target, String payload) throws Exception {
        Request r = new Request(code, Type.CON);
        r.getOptions().setProxyUri(target);
        if (payload != null) {
            r.setPayload(payload);
        }
        String[] hp = PROXY.split(":");
        r.setDestinationContext(new AddressEndpointContext(new InetSocketAddress(InetAddress.getByName(hp[0]),
                Integer.parseInt(hp[1]))));
        return r;
    }

    private int run(ExtensionOptionRegistry registry, Request r, List<RequestProtector> layers, long tPrime) throws Exception {
        r.getOptions().addOption(new org.eclipse.californium.core.coap.Option(
                registry.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number(), tPrime));
        RequestProtector hop = layers.isEmpty() ? null : layers.get(layers.size() - 1);
        return new ProxiedGroupRun(registry, false, true).run(r, layers, hop, new InetSocketAddress("127.0.0.1", 0), tPrime,
                null);
    }

    /** The run's status, as a failure count: 0 when it ended well (responses came, none an error). */
    private static int expect(int responses, int status) {
        return status == 0 ? 0 : 1;
    }

    /** The head of a message-flow figure: who sends what to the proxy, and what the proxy sends on. */
    private void figure(String title, String client, String request, String option, String protection, String group) {
        out.println("== " + title);
        out.println(String.format("   %-10s                                   %-10s                     %s", client, "Proxy",
                "Servers " + group));
        for (String l : new String[] {request, option, protection}) {
            out.println(String.format("      |  %-47s|                                |", l));
        }
        out.println("      |------------------------------------------------>|                                |");
        if (!group.startsWith("(")) {
            out.println("      |                                                 |-- the same request, NON ------>|");
            out.println("      |                                                 |   multicast, new Token, no     |");
            out.println("      |                                                 |   Multicast-Timeout            |");
        }
    }
}
