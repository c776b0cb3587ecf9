package dev.coterie.app;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * The demo's proxy scene, all on loopback: a temperature sensor in a Group OSCORE group read by
 * two members with the same deterministic request through a proxy that holds no group key (the
 * second read is a cache hit), a request protected on the client-to-proxy hop, and a client the
 * access list denies.
 */
final class DemoProxyScene {
    private static final byte[] GID = Hex.decode("5e05");
    private static final byte[] DET = Hex.decode("dc");
    private static final List<byte[]> IDS = List.of(Hex.decode("01"), Hex.decode("02"), Hex.decode("03"));
    private final PrintStream out;
    private final CryptoProvider provider;
    private final Path state;

    DemoProxyScene(PrintStream out, CryptoProvider provider, Path state) {
        this.out = out;
        this.provider = provider;
        this.state = state;
    }

    int run() throws Exception {
        out.println("Part 2: the proxy (loopback)\n");
        List<PrivateKey> keys = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        for (int i = 0; i < IDS.size(); i++) {
            PrivateKey k = provider.generate(PrivateKey.Type.ED25519);
            keys.add(k);
            creds.add(Credential.ccs("member-" + i, k));
        }
        Credential gm = Credential.ccs("gm", provider.generate(PrivateKey.Type.ED25519));
        AtomicInteger reads = new AtomicInteger();
        CoapServer sensor = new CoapServer(Endpoints.configuration());
        CoapEndpoint sensorEp = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverGroups(new GroupContextDb().add(member(1, keys, creds, gm)))
                .deterministicRequests(r -> r.getOptions().getUriPathString().equals("temperature")).build();
        sensor.addEndpoint(sensorEp);
        sensor.add(new CoapResource("temperature") {
            @Override
            public void handleGET(CoapExchange exchange) {
                reads.incrementAndGet();
                Response r = new Response(ResponseCode.CONTENT);
                r.getOptions().setMaxAge(30);
                r.setPayload("21.5 C");
                exchange.respond(r);
            }
        });
        sensor.start();
        CoapServer plain = new CoapServer(Endpoints.configuration());
        plain.addEndpoint(new CoapEndpoint.Builder().setConfiguration(Endpoints.configuration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build());
        ScheduledExecutorService ticker = DemoResources.install(plain, 60_000);
        plain.start();
        int sensorPort = sensorEp.getAddress().getPort();
        int plainPort = plain.getEndpoints().get(0).getAddress().getPort();
        SecretBytes hopSecret = SecretBytes.fromHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        OscoreContext proxyHop = OscoreContext.builder().provider(provider).name("proxy-controller").masterSecret(hopSecret)
                .senderId(new byte[] {0x0b}).recipientId(new byte[] {0x0c})
                .stateStore(SecurityStateStore.open(state.resolve("proxy-hop"), 100)).build();
        OscoreContext clientHop = OscoreContext.builder().provider(provider).name("controller-proxy").masterSecret(hopSecret)
                .senderId(new byte[] {0x0c}).recipientId(new byte[] {0x0b})
                .stateStore(SecurityStateStore.open(state.resolve("controller-hop"), 100)).build();
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\naccess:\n"
                + "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + sensorPort + "'}]}\n"
                + "  - {client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + plainPort + "'}]}\n";
        ProxyConfig cfg = ProxyConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml), "demo", null);
        int failures = 0;
        ProxyServer proxy = new ProxyServer(cfg, List.of(proxyHop), Map.of()).start();
        InetSocketAddress at = proxy.listenAddresses().get(0);
        try {
            out.println("proxy on " + at + "; sensor (Group OSCORE, group " + Hex.encode(GID) + ") on 127.0.0.1:" + sensorPort
                    + "; plain origin on 127.0.0.1:" + plainPort);
            out.println("access: unauthenticated -> the sensor; hop client kid 0c -> the plain origin\n");
            for (int m : new int[] {0, 2}) {
                out.println("== member " + Hex.encode(IDS.get(m)) + ": deterministic GET /temperature through the proxy");
                Response r = deterministicRead(member(m, keys, creds, gm), sensorPort, at);
                OscorePeer peer = r == null ? null : OscorePeer.of(r);
                out.println("            " + (r == null ? "no answer" : r.getCode() + " \"" + r.getPayloadString() + "\", verified: "
                        + (peer == null ? "no" : peer.mode().label() + " from kid " + Hex.encode(peer.kid()))));
                if (r == null || r.getCode() != ResponseCode.CONTENT || peer == null) {
                    failures++;
                }
            }
            out.println("            the sensor answered " + reads.get() + " time(s); proxy cache hits "
                    + (long) proxy.metrics().cacheHits() + ", OSCORE layers the proxy removed "
                    + (long) proxy.metrics().layersRemoved() + " (it holds no group key)");
            if (reads.get() != 1 || proxy.metrics().cacheHits() != 1.0) {
                failures++;
            }
            out.println();
            out.println("== controller (hop context kid 0c): GET /hello protected for the proxy");
            Response hop = hopRead(clientHop, plainPort, at);
            out.println("            " + (hop == null ? "no answer" : hop.getCode() + " \"" + hop.getPayloadString()
                    + "\", the answer verified under the hop layer: " + (OscorePeer.of(hop) != null)));
            if (hop == null || hop.getCode() != ResponseCode.CONTENT || OscorePeer.of(hop) == null) {
                failures++;
            }
            out.println();
            out.println("== an unauthenticated client asks for the plain origin, which only kid 0c may reach");
            Request denied = Request.newGet();
            denied.getOptions().setProxyUri("coap://127.0.0.1:" + plainPort + "/hello");
            Response d = send(plainClient(), denied, at);
            out.println("            " + (d == null ? "no answer" : d.getCode() + " \"" + d.getPayloadString() + "\""));
            if (d == null || d.getCode() != ResponseCode.UNAUTHORIZED) {
                failures++;
            }
        } finally {
            proxy.close();
            sensor.destroy();
            ticker.shutdownNow();
            plain.destroy();
            clientHop.close();
        }
        out.println();
        return failures;
    }

    private GroupContext member(int i, List<PrivateKey> keys, List<Credential> creds, Credential gm) throws Exception {
        GroupContext.Builder b = GroupContext.builder().provider(provider).name("sensors").algorithms(GroupAlgorithms.defaults())
                .gid(GID).masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(gm).sender(IDS.get(i), keys.get(i), creds.get(i))
                .deterministicClient(DET, HashAlgorithm.SHA_256)
                .stateStore(SecurityStateStore.open(state.resolve("member-" + i + "-" + System.nanoTime()), 100));
        for (int j = 0; j < IDS.size(); j++) {
            if (j != i) {
                b.member(IDS.get(j), creds.get(j));
            }
        }
        return b.build();
    }

    private Response deterministicRead(GroupContext member, int sensorPort, InetSocketAddress proxy) throws Exception {
        ClientContextBinding binding = new ClientContextBinding();
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).clientBinding(binding).build();
        try {
            RequestProtector det = member.deterministic(IDS.get(1), null, ExtensionOptionRegistry.defaults(), true, 0);
            Request r = Request.newGet();
            r.getOptions().setProxyUri("coap://127.0.0.1:" + sensorPort + "/temperature");
            binding.bind(r, det);
            return send(ep, r, proxy);
        } finally {
            member.close();
        }
    }

    private Response hopRead(OscoreContext hop, int plainPort, InetSocketAddress proxy) throws Exception {
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .clientBinding(new ClientContextBinding().endpointDefault(RequestProtector.forProxy(hop.protector()))).build();
        Request r = Request.newGet();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + plainPort + "/hello");
        return send(ep, r, proxy);
    }

    private static CoapEndpoint plainClient() {
        return new CoapEndpoint.Builder().setConfiguration(Endpoints.configuration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
    }

    private static Response send(CoapEndpoint ep, Request r, InetSocketAddress to) throws Exception {
        try {
            ep.start();
            r.setDestinationContext(new AddressEndpointContext(to));
            ep.sendRequest(r);
            return r.waitForResponse(5000);
        } finally {
            ep.destroy();
        }
    }
}
