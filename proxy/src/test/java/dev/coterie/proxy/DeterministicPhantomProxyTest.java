package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.DeterministicPhantoms;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;

/**
 * The deterministic-phantom variant through the proxy (multicast-notifications-proxy Appendix C,
 * digest 7.4, MNP-06): the client sends the deterministic phantom as its registration without
 * Listen-To-Multicast-Responses; the proxy forwards it as any request, with the same code,
 * options and ciphertext (nothing a server's byte comparison would miss, OMN-13); an unprotected
 * informative response whose ph_req is not that request is malformed: the proxy does not take
 * part in the group observation and answers the client 5.02. The origin is a raw UDP socket of
 * the test, so that the informative response is exactly the test's.
 */
class DeterministicPhantomProxyTest {
    private static final ExtensionOptionRegistry EXT = ExtensionOptionRegistry.defaults();
    private static final InetSocketAddress GRP = new InetSocketAddress("224.0.1.189", 5683);
    private static final byte[] T = Hex.decode("7b7b7b7b");

    /** A member of a group with a Deterministic Client (dc) and a server a1. */
    private static GroupContext member() throws Exception {
        PrivateKey own = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
        PrivateKey server = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
        return GroupContext.builder().name("sensors").algorithms(GroupAlgorithms.defaults()).gid(Hex.decode("b1f05c"))
                .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519)))
                .sender(Hex.decode("c1"), own, Credential.ccs("c1", own)).member(Hex.decode("a1"), Credential.ccs("a1", server))
                .deterministicClient(Hex.decode("dc"), HashAlgorithm.SHA_256).stateStore(SecurityStateStore.inMemory()).build();
    }

    /** An origin that answers the first request with an unprotected informative response; what it received is kept. */
    private static final class Origin implements AutoCloseable {
        final DatagramSocket socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        final BlockingQueue<byte[]> received = new LinkedBlockingQueue<>();
        final Thread thread;

        /** @param phReq from the transport-independent bytes received, the ph_req to answer with (null: none) */
        Origin(UnaryOperator<byte[]> phReq) throws Exception {
            socket.setSoTimeout(10_000);
            thread = new Thread(() -> {
                byte[] buf = new byte[2048];
                try {
                    DatagramPacket d = new DatagramPacket(buf, buf.length);
                    socket.receive(d);
                    byte[] bytes = java.util.Arrays.copyOf(buf, d.getLength());
                    Request req = (Request) new UdpDataParser(false, EXT.californiumRegistry()).parseMessage(bytes);
                    byte[] ti = DeterministicPhantoms.wireBytes(req);
                    received.add(ti);
                    Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
                    r.setType(CoAP.Type.ACK); // piggybacked
                    r.setMID(req.getMID());
                    r.setToken(req.getToken());
                    r.getOptions().setContentFormat(InformativeResponse.DEFAULT_CONTENT_FORMAT).setMaxAge(0);
                    r.setPayload(InformativeResponse.of(TpInfo.udp(address(), GRP, T), phReq.apply(ti), null).encode());
                    byte[] out = new UdpDataSerializer().getByteArray(r);
                    socket.send(new DatagramPacket(out, out.length, d.getSocketAddress()));
                } catch (Exception e) {
                    // the test fails on what it did not receive
                }
            }, "origin");
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return new InetSocketAddress("127.0.0.1", socket.getLocalPort());
        }

        @Override
        public void close() {
            socket.close();
        }
    }

    private static String config(int originPort) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + originPort + "'}]}]\n"
                + "group_observations: {interface: lo}\n";
    }

    /** The deterministic phantom of GET /alarm, Observe 0, as the client computes it. */
    private static ProtectionPipeline.ProtectedRequest phantom(GroupContext m) throws Exception {
        Request plain = new Request(CoAP.Code.GET, CoAP.Type.CON);
        plain.getOptions().setObserve(0).addUriPath("alarm");
        plain.setToken(Token.EMPTY);
        return new ProtectionPipeline(EXT).protectRequest(plain, m.deterministic(null, null, EXT, false, 0));
    }

    /** The registration at the proxy: the phantom, with Proxy-Uri naming the origin; no Listen-To-Multicast-Responses. */
    private static Request registration(ProtectionPipeline.ProtectedRequest ph, int originPort) {
        Request r = new Request(ph.wire().getCode(), CoAP.Type.CON);
        r.setOptions(new OptionSet(ph.wire().getOptions()));
        r.getOptions().setProxyUri("coap://127.0.0.1:" + originPort);
        r.setPayload(ph.wire().getPayload());
        return r;
    }

    @Test
    void MNP_06_phReqThatIsNotTheForwardedDeterministicRequestIsMalformed_proxyAnswers502() throws Exception {
        GroupContext m = member();
        ProtectionPipeline.ProtectedRequest ph = phantom(m);
        byte[] sent = TransportIndependent.encode(ph.wire());
        assertTrue(Forwarder.isDeterministic(ph.wire()), "control: OSCORE and Request-Hash");
        try (Origin origin = new Origin(ti -> {
            byte[] other = ti.clone();
            other[other.length - 1] ^= 0x01; // the last ciphertext byte
            return other;
        }); ProxyFixture f = new ProxyFixture(config(origin.socket.getLocalPort()))) {
            Response r = f.send(registration(ph, origin.socket.getLocalPort()));
            byte[] forwarded = origin.received.poll(5, TimeUnit.SECONDS);
            assertNotNull(forwarded, "MNP-06: the proxy forwards the deterministic request (no Listen-To-Multicast-Responses)");
            assertEquals(Hex.encode(sent), Hex.encode(forwarded),
                    "forwarded with the same code, options (no Hop-Limit added, Proxy-Uri gone) and ciphertext");
            assertNotNull(r);
            assertEquals(CoAP.ResponseCode.BAD_GATEWAY, r.getCode(), "malformed: the proxy does not relay it, 5.02");
            assertTrue(r.getPayloadString().contains("MNP-06"), r.getPayloadString());
            assertFalse(r.getOptions().hasObserve());
            assertEquals(0.0, f.proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED), "no group observation joined");
            assertEquals(1.0, f.proxy.metrics().count(ProxyMetrics.Outcome.BAD_GATEWAY));
        }
    }

    /**
     * Positive control with the same path: an informative response whose ph_req is the forwarded
     * request (or that has none) is not malformed. The proxy goes on to take part in the group
     * observation on lo (in a host namespace it may not be able to join, and then relays the
     * informative response as it is); either way not the 5.02 of a malformed one.
     */
    @Test
    void MNP_06_phReqThatIsTheForwardedRequestIsNotMalformed() throws Exception {
        GroupContext m = member();
        ProtectionPipeline.ProtectedRequest ph = phantom(m);
        for (boolean withPhReq : new boolean[] {true, false}) {
            try (Origin origin = new Origin(ti -> withPhReq ? ti : null);
                 ProxyFixture f = new ProxyFixture(config(origin.socket.getLocalPort()))) {
                Response r = f.send(registration(ph, origin.socket.getLocalPort()));
                assertNotNull(origin.received.poll(5, TimeUnit.SECONDS));
                if (r != null) { // joined with no last_notif: an empty ACK, no response yet
                    assertNotEquals(CoAP.ResponseCode.BAD_GATEWAY, r.getCode(), "ph_req " + withPhReq + ": " + r);
                }
            }
        }
        // the rule itself, byte for byte: only a different ph_req is malformed, and only for a deterministic request
        Response informative = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        byte[] sent = TransportIndependent.encode(ph.wire());
        informative.setPayload(InformativeResponse.of(TpInfo.udp(new InetSocketAddress("127.0.0.1", 5683), GRP, T), sent, null)
                .encode());
        assertNull(Forwarder.deterministicPhReqMismatch(informative, ph.wire()));
        byte[] other = sent.clone();
        other[0] = 0x01; // GET instead of FETCH
        informative.setPayload(InformativeResponse.of(TpInfo.udp(new InetSocketAddress("127.0.0.1", 5683), GRP, T), other, null)
                .encode());
        assertNotNull(Forwarder.deterministicPhReqMismatch(informative, ph.wire()));
        Request plainGet = Request.newGet();
        plainGet.getOptions().setObserve(0).addUriPath("alarm");
        assertNull(Forwarder.deterministicPhReqMismatch(informative, plainGet), "not a deterministic request: other rules");
        assertFalse(Forwarder.isDeterministic(plainGet));
        assertEquals(List.of(), plainGet.getOptions().getUriQuery());
    }
}
