package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.DemoResources;
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
import dev.coterie.oscore.SecurityTrace;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deterministic requests between a Coterie client and server over loopback UDP, with the
 * resources of {@code coterie server}: opt-in per resource, block-wise with every block request
 * deterministic, outer Max-Age for caches, and /whoami showing what the server saw.
 */
class DeterministicRequestsOverUdpTest {
    private static final byte[] GID = Hex.decode("b1f05c");
    private static final byte[] DET = Hex.decode("dc");
    private static final List<byte[]> IDS = List.of(Hex.decode("01"), Hex.decode("02"));
    private final List<PrivateKey> keys = new ArrayList<>();
    private final List<Credential> creds = new ArrayList<>();
    private Credential gm;
    private CoapServer server;
    private ScheduledExecutorService ticker;
    private CoapEndpoint client;
    private GroupContext member;
    private final ClientContextBinding binding = new ClientContextBinding();
    private final List<String> clientTrace = new CopyOnWriteArrayList<>();
    private final List<Message> wires = new CopyOnWriteArrayList<>();
    private String base;

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < 2; i++) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
            keys.add(k);
            creds.add(Credential.ccs("member-" + i, k));
        }
        gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519));
        server = new CoapServer(TestConfig.standard());
        CoapServer s = server;
        server.addEndpoint(new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(TestConfig.standard())
                .serverGroups(new GroupContextDb().add(member(1))).deterministicRequests(r -> DemoResources.acceptsDeterministic(s, r))
                .build());
        ticker = DemoResources.install(server, 60_000);
        server.start();
        base = "coap://127.0.0.1:" + server.getEndpoints().get(0).getAddress().getPort() + "/";
        member = member(0);
        SecurityTrace trace = (event, plain, wire, info) -> {
            clientTrace.add(event + " " + info.mode());
            if (event == SecurityTrace.Event.REQUEST_PROTECTED || event == SecurityTrace.Event.RESPONSE_VERIFIED) {
                wires.add(wire);
            }
        };
        client = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(TestConfig.standard())
                .clientBinding(binding).trace(trace).build();
        client.start();
    }

    @AfterEach
    void stop() {
        client.destroy();
        ticker.shutdownNow();
        server.destroy();
    }

    private GroupContext member(int i) throws Exception {
        GroupContext.Builder b = GroupContext.builder().name("sensors").algorithms(GroupAlgorithms.defaults()).gid(GID)
                .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(gm).sender(IDS.get(i), keys.get(i), creds.get(i)).member(IDS.get(1 - i), creds.get(1 - i))
                .deterministicClient(DET, HashAlgorithm.SHA_256).stateStore(SecurityStateStore.inMemory());
        return b.build();
    }

    private CoapResponse get(String path, RequestProtector view) throws Exception {
        org.eclipse.californium.core.coap.Request r = org.eclipse.californium.core.coap.Request.newGet();
        r.setURI(base + path);
        binding.bind(r, view);
        CoapClient c = new CoapClient().setEndpoint(client).setTimeout(5000L);
        try {
            return c.advanced(r);
        } finally {
            c.shutdown();
        }
    }

    private RequestProtector det() {
        return member.deterministic(IDS.get(1), null, ExtensionOptionRegistry.defaults(), true, 0);
    }

    @Test
    void DET_07_aSensorReadingComesBackInGroupModeWithAnOuterMaxAgeForCaches() throws Exception {
        CoapResponse r = get("temperature", det());
        assertNotNull(r);
        assertEquals(ResponseCode.CONTENT, r.getCode());
        assertTrue(r.getResponseText().matches("2\\d\\.\\d"), r.getResponseText());
        OscorePeer peer = OscorePeer.of(r.advanced());
        assertEquals(ProtectionMode.GROUP, peer.mode(), "the response is in group mode");
        assertArrayEquals(IDS.get(1), peer.kid());
        Message onWire = wires.get(wires.size() - 1);
        assertEquals(30L, onWire.getOptions().getMaxAge(), "outer Max-Age = the resource's 30 s");
        assertTrue(clientTrace.contains("REQUEST_PROTECTED DETERMINISTIC"), clientTrace.toString());
    }

    /** DET-06 and opt-in: /echo does not accept deterministic requests: a protected 4.01 says so. */
    @Test
    void DET_06_aResourceThatDidNotOptInAnswersAProtected401() throws Exception {
        CoapResponse refused = get("echo", det());
        assertNotNull(refused);
        assertEquals(ResponseCode.UNAUTHORIZED, refused.getCode());
        assertEquals("The resource does not accept deterministic requests", refused.getResponseText());
        assertNotNull(OscorePeer.of(refused.advanced()), "the 4.01 is protected and verified");
        assertFalse(OscorePeer.isUnprotected(refused.advanced()));
        CoapResponse ok = get("hello", det());
        assertEquals(ResponseCode.CONTENT, ok.getCode(), "positive control: /hello opted in");
        assertEquals("Hello World!", ok.getResponseText());
    }

    /** Block-wise: /large (2 KiB) arrives block by block; every block request is a deterministic request of its own. */
    @Test
    void DET_01_aLargeResponseIsFetchedBlockByBlockWithADeterministicRequestForEachBlock() throws Exception {
        CoapResponse r = get("large", det());
        assertNotNull(r);
        assertArrayEquals(DemoResources.LARGE, r.getPayload());
        int hash = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        Set<String> hashes = new HashSet<>();
        int requests = 0;
        for (Message m : wires) {
            if (m instanceof org.eclipse.californium.core.coap.Request) {
                requests++;
                Option h = m.getOptions().getOtherOption(hash);
                assertNotNull(h, "every block request carries Request-Hash");
                hashes.add(Hex.encode(h.getValue()));
            }
        }
        assertTrue(requests >= 4, "2 KiB in 512-byte blocks: " + requests + " requests");
        assertEquals(requests, hashes.size(), "each block request has its own hash");
        assertEquals(OscorePeer.of(r.advanced()).mode(), ProtectionMode.GROUP, "the reassembled response keeps its sender");
    }

    /** /whoami shows what the server saw: pairwise mode with the client's kid, or the Deterministic Client. */
    @Test
    void whoamiShowsTheModeKidAndKidContextTheServerSaw() throws Exception {
        CoapResponse pairwise = get("whoami", member.pairwise(IDS.get(1)));
        assertEquals("mode: pairwise mode\ncontext: sensors\nkid: 01\nkid context: b1f05c\n", pairwise.getResponseText());
        CoapResponse deterministic = get("whoami", det());
        assertEquals("mode: deterministic request\ncontext: sensors\nkid: dc\nkid context: b1f05c\n",
                deterministic.getResponseText());
    }

    /** Issue 6 defect 9: an unprotected error response reached the application looking like a verified one. */
    @Test
    void OSC_20_anUnprotectedErrorResponseReachesTheApplicationMarkedSo() throws Exception {
        GroupContext stranger = GroupContext.builder().name("sensors").algorithms(GroupAlgorithms.defaults()).gid(Hex.decode("b1f0ff"))
                .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(gm).sender(IDS.get(0), keys.get(0), creds.get(0)).member(IDS.get(1), creds.get(1))
                .stateStore(SecurityStateStore.inMemory()).build();
        CoapResponse error = get("hello", stranger.pairwise(IDS.get(1)));
        assertNotNull(error);
        assertEquals(ResponseCode.UNAUTHORIZED, error.getCode());
        assertEquals("Security context not found", error.getResponseText());
        assertTrue(OscorePeer.isUnprotected(error.advanced()), "marked unprotected");
        assertNull(OscorePeer.of(error.advanced()), "no verified sender");
        CoapResponse verified = get("hello", member.pairwise(IDS.get(1)));
        assertFalse(OscorePeer.isUnprotected(verified.advanced()), "positive control: a verified response is not marked");
        assertEquals(ProtectionMode.PAIRWISE, OscorePeer.of(verified.advanced()).mode());
    }
}
