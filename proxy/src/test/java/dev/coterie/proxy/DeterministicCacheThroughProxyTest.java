package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestProtector;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A sensor read by two group members with the same deterministic request through a proxy that
 * holds no group key: the second read is a cache hit, and both members verify the cached
 * group-mode response (DET-10, OCP-10). A different deterministic request is a miss.
 */
class DeterministicCacheThroughProxyTest {
    private static final byte[] GID = Hex.decode("b1f05c");
    private static final byte[] DET = Hex.decode("dc");
    private static final List<byte[]> IDS = List.of(Hex.decode("01"), Hex.decode("02"), Hex.decode("03"));
    private final List<PrivateKey> keys = new ArrayList<>();
    private final List<Credential> creds = new ArrayList<>();
    private final AtomicInteger reads = new AtomicInteger();
    private Credential gm;
    private CoapServer sensor;
    private int port;

    private GroupContext member(int i) throws Exception {
        GroupContext.Builder b = GroupContext.builder().name("sensors").algorithms(GroupAlgorithms.defaults()).gid(GID)
                .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(gm).sender(IDS.get(i), keys.get(i), creds.get(i))
                .deterministicClient(DET, HashAlgorithm.SHA_256).stateStore(SecurityStateStore.inMemory());
        for (int j = 0; j < IDS.size(); j++) {
            if (j != i) {
                b.member(IDS.get(j), creds.get(j));
            }
        }
        return b.build();
    }

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < IDS.size(); i++) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
            keys.add(k);
            creds.add(Credential.ccs("member-" + i, k));
        }
        gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519));
        sensor = new CoapServer(dev.coterie.oscore.OscoreEndpointBuilder.defaultConfiguration());
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverGroups(new GroupContextDb().add(member(1)))
                .deterministicRequests(r -> r.getOptions().getUriPath().get(0).equals("temperature")
                        || r.getOptions().getUriPath().get(0).equals("humidity"))
                .build();
        sensor.addEndpoint(ep);
        for (String name : List.of("temperature", "humidity")) {
            sensor.add(new CoapResource(name) {
                @Override
                public void handleGET(CoapExchange exchange) {
                    int n = reads.incrementAndGet();
                    Response r = new Response(ResponseCode.CONTENT);
                    r.getOptions().setMaxAge(30);
                    r.setPayload(name + " reading " + n);
                    exchange.respond(r);
                }
            });
        }
        sensor.start();
        port = ep.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        sensor.destroy();
    }

    private Response read(GroupContext client, String path, InetSocketAddress proxy) throws Exception {
        ClientContextBinding binding = new ClientContextBinding();
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).clientBinding(binding).build();
        ep.start();
        try {
            RequestProtector det = client.deterministic(IDS.get(1), null, ExtensionOptionRegistry.defaults(), true, 0);
            Request r = Request.newGet();
            r.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/" + path);
            r.setDestinationContext(new AddressEndpointContext(proxy));
            binding.bind(r, det);
            ep.sendRequest(r);
            return r.waitForResponse(5000);
        } finally {
            ep.destroy();
        }
    }

    @Test
    void DET_10_OCP_10_twoMembersSameDeterministicRequest_secondIsACacheHit_bothVerify() throws Exception {
        String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + port + "'}]}]\n";
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            Response first = read(member(0), "temperature", f.proxyAddress);
            assertNotNull(first);
            assertEquals(ResponseCode.CONTENT, first.getCode());
            assertEquals("temperature reading 1", first.getPayloadString());
            Response second = read(member(2), "temperature", f.proxyAddress);
            assertNotNull(second);
            assertEquals("temperature reading 1", second.getPayloadString(), "served from the proxy's cache");
            OscorePeer peer = OscorePeer.of(second);
            assertEquals(ProtectionMode.GROUP, peer.mode(), "the second member verified the cached group-mode response");
            assertArrayEquals(IDS.get(1), peer.kid());
            assertEquals(1, reads.get(), "the sensor answered once");
            assertEquals(1.0, f.proxy.metrics().cacheHits());

            Response other = read(member(2), "humidity", f.proxyAddress);
            assertEquals("humidity reading 2", other.getPayloadString(), "another deterministic request: a miss");
            assertEquals(2, reads.get());
            assertEquals(0.0, f.proxy.metrics().layersRemoved(), "the proxy removed no layer: it has no group key");
        }
    }

    /**
     * OCP-10 with a hop layer: member 02 reads directly (the proxy stores the response), member 03
     * sends the same deterministic request inside a hop layer for the proxy. The proxy removes
     * the hop layer, finds the stored response by the inner request, and returns it under the
     * hop layer; member 03 verifies both layers.
     */
    @Test
    void OCP_10_theLookupUsesTheRequestAfterTheHopLayerIsRemoved() throws Exception {
        byte[] hopSecret = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        dev.coterie.oscore.OscoreContext proxySide = dev.coterie.oscore.OscoreContext.builder().name("proxy-hop")
                .masterSecret(SecretBytes.copyOf(hopSecret)).senderId(new byte[] {0x0b}).recipientId(new byte[] {0x0c})
                .stateStore(SecurityStateStore.inMemory()).build();
        dev.coterie.oscore.OscoreContext clientSide = dev.coterie.oscore.OscoreContext.builder().name("client-hop")
                .masterSecret(SecretBytes.copyOf(hopSecret)).senderId(new byte[] {0x0c}).recipientId(new byte[] {0x0b})
                .stateStore(SecurityStateStore.inMemory()).build();
        String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\naccess:\n"
                + "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + port + "'}]}\n"
                + "  - {client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + port + "'}]}\n";
        try (ProxyFixture f = new ProxyFixture(cfg, List.of(proxySide), java.util.Map.of())) {
            assertEquals("temperature reading 1", read(member(1 - 1), "temperature", f.proxyAddress).getPayloadString());
            dev.coterie.oscore.ProtectionPipeline nested = new dev.coterie.oscore.ProtectionPipeline(
                    ExtensionOptionRegistry.defaults(), dev.coterie.oscore.InnerObserve.EMPTY, true);
            GroupContext m3 = member(2);
            RequestProtector det = m3.deterministic(IDS.get(1), null, ExtensionOptionRegistry.defaults(), true, 0);
            Request plain = Request.newGet();
            plain.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/temperature");
            dev.coterie.oscore.ProtectionPipeline.ProtectedRequest inner = nested.protectRequest(plain, det);
            dev.coterie.oscore.ProtectionPipeline.ProtectedRequest outer = nested.protectRequest(inner.wire(),
                    RequestProtector.forProxy(clientSide.protector()));
            Response r = f.send(outer.wire());
            assertNotNull(r);
            Response underHop = nested.unprotectResponse(r, outer.identifiers()).plain();
            Response reading = nested.unprotectResponse(underHop, inner.identifiers()).plain();
            assertEquals("temperature reading 1", reading.getPayloadString(), "the stored response, found after the hop layer");
            assertEquals(1, reads.get(), "the sensor answered once");
            assertEquals(1.0, f.proxy.metrics().cacheHits());
            assertEquals(1.0, f.proxy.metrics().layersRemoved(), "the hop layer, and only it");
        }
    }
}
