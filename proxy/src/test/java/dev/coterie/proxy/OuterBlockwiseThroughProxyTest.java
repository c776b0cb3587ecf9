package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.RequestProtector;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.BlockOption;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outer (hop-by-hop) block-wise of OSCORE messages, RFC 8613 Section 4.1.3.4.2: with a small
 * MAX_MESSAGE_SIZE on the client and the proxy, a request and a response whose protected form
 * exceeds it cross the client-proxy leg in several datagrams, each within the size, each with
 * the hop OSCORE option and an outer Block1 or Block2 option on the wire; the proxy puts them
 * together before it removes the hop layer, the client before it verifies. Checked on the
 * recorded datagrams of the leg ({@link UdpTap}), with the same exchange under a large MTU as
 * the positive control (one datagram each way).
 */
class OuterBlockwiseThroughProxyTest {
    private static final byte[] E2E_SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] HOP_SECRET = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SERVER = {0x05};
    private static final byte[] PROXY = {0x0b};
    private static final int MTU = 128;
    private static final int BLOCK = 64;
    /** Below MTU in plaintext (Californium's inner block-wise leaves it whole), above it once protected. */
    private static final int BODY = 120;

    @TempDir
    Path state;
    private Origin plainOrigin;
    private CoapServer oscoreOrigin;
    private int oscoreOriginPort;
    private final List<Request> atOscoreOrigin = new CopyOnWriteArrayList<>();
    private ProxyServer proxy;
    private UdpTap leg;

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(state, name, secret, SALT, sender, recipient);
    }

    private static Configuration config(boolean small) {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        if (small) {
            c.set(CoapConfig.MAX_MESSAGE_SIZE, MTU);
            c.set(CoapConfig.PREFERRED_BLOCK_SIZE, BLOCK);
        }
        return c;
    }

    private static byte[] body(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + i % 26);
        }
        return b;
    }

    @BeforeEach
    void origins() throws Exception {
        plainOrigin = new Origin();
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverContexts(new InMemoryContextDb().add(context("server-e2e", E2E_SECRET, SERVER, CLIENT))).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atOscoreOrigin.add(request); // as it came off the wire, before the OSCORE layer
            }
        });
        oscoreOrigin = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        oscoreOrigin.addEndpoint(ep);
        oscoreOrigin.add(new CoapResource("echo") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                exchange.respond(ResponseCode.CHANGED, exchange.getRequestPayload());
            }
        });
        oscoreOrigin.start();
        oscoreOriginPort = ep.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {leg, proxy, plainOrigin}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // closing the rest
            }
        }
        oscoreOrigin.destroy();
    }

    /** A proxy with the client's hop context, its endpoints with {@code small} MTU, behind a tap. */
    private void proxy(boolean small, int originPort) throws Exception {
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 3000}\naccess:\n"
                + "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '127.0.0.1:" + originPort + "'}]}\n";
        proxy = new ProxyServer(ProxyFixture.config(yaml), List.of(context("proxy-hop", HOP_SECRET, PROXY, CLIENT)), Map.of(),
                config(small)).start();
        leg = new UdpTap(proxy.listenAddresses().get(0));
    }

    private CoapEndpoint client(boolean small, List<RequestProtector> layers) {
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(config(small))
                .clientBinding(new ClientContextBinding().endpointDefaultLayers(layers)).build();
        return ep;
    }

    private Response post(CoapEndpoint c, int originPort, byte[] body) throws Exception {
        c.start();
        Request r = Request.newPost();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + originPort + "/echo");
        r.setPayload(body);
        r.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", leg.port())));
        c.sendRequest(r);
        return r.waitForResponse(10_000);
    }

    private static List<Message> parsed(List<byte[]> datagrams) {
        List<Message> m = new ArrayList<>();
        for (byte[] d : datagrams) {
            m.add(UdpTap.parse(d));
        }
        return m;
    }

    /** Asserts the datagrams of one direction carry one OSCORE message in outer blocks, and returns its payload. */
    private static byte[] assertOuterBlocks(List<byte[]> datagrams, boolean block1) {
        ByteArrayOutputStream whole = new ByteArrayOutputStream();
        int blocks = 0;
        Integer size = null;
        byte[] oscore = null;
        for (byte[] d : datagrams) {
            assertTrue(d.length <= MTU, "datagram of " + d.length + " bytes exceeds the MTU " + MTU);
            Message m = UdpTap.parse(d);
            BlockOption b = block1 ? m.getOptions().getBlock1() : m.getOptions().getBlock2();
            if (b == null || (m instanceof Response && ((Response) m).getCode() == ResponseCode.CONTINUE)
                    || (m instanceof Request && !block1 && m.getPayloadSize() == 0 && b.getNum() > 0)) {
                continue; // 2.31 Continue of the other direction, or a request for the next Block2
            }
            assertTrue(m.getOptions().hasOscore(), "each block carries the OSCORE option on the outside: " + m);
            if (oscore == null) {
                oscore = m.getOptions().getOscore();
                size = block1 ? m.getOptions().getSize1() : m.getOptions().getSize2();
                assertNotNull(size, "the first block announces the size of the protected message");
            } else {
                assertArrayEquals(oscore, m.getOptions().getOscore(), "every block of one message: the same OSCORE option");
            }
            assertEquals(blocks, b.getNum(), "blocks in order");
            assertEquals(whole.size(), b.getOffset());
            whole.write(m.getPayload(), 0, m.getPayloadSize());
            blocks++;
            if (!b.isM()) {
                break;
            }
        }
        assertTrue(blocks >= 2, "the protected message went in several blocks, not " + blocks);
        assertEquals(size.intValue(), whole.size(), "Size option = bytes of the blocks together");
        return whole.toByteArray();
    }

    @Test
    void OSC_outerBlockwise_aHopProtectedRequestAndResponseLargerThanTheMtuCrossTheProxyInOuterBlocks() throws Exception {
        proxy(true, plainOrigin.port());
        CoapEndpoint c = client(true, List.of(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector())));
        try {
            byte[] body = body(BODY);
            Response resp = post(c, plainOrigin.port(), body);
            assertNotNull(resp, "answered");
            assertEquals(ResponseCode.CHANGED, resp.getCode());
            assertArrayEquals(body, resp.getPayload(), "the echo came back whole");
            assertNotNull(OscorePeer.of(resp), "verified under the hop layer");
            assertFalse(resp.getOptions().hasBlock2(), "outer Block2 never reaches the application");

            byte[] request = assertOuterBlocks(leg.forward, true);
            assertTrue(request.length > BODY, "the blocks carry ciphertext of the whole protected request");
            byte[] response = assertOuterBlocks(leg.backward, false);
            assertTrue(response.length > BODY);
            for (Message m : parsed(leg.forward)) {
                assertFalse(m.getOptions().hasProxyUri(), "Proxy-Uri encrypted for the proxy, also in every block");
                assertEquals(0, m.getOptions().getURIPathCount());
            }
            long continues = parsed(leg.backward).stream()
                    .filter(m -> m instanceof Response && ((Response) m).getCode() == ResponseCode.CONTINUE).count();
            assertTrue(continues >= 1, "the proxy asked for the next blocks with 2.31 (hop by hop, unprotected)");

            // inner block-wise did not split it: the origin got the body in one request, without Block1
            Request there = plainOrigin.last();
            assertArrayEquals(body, there.getPayload());
            assertFalse(there.getOptions().hasBlock1());
            assertEquals(1.0, proxy.metrics().layersRemoved());
        } finally {
            c.destroy();
        }
    }

    @Test
    void OSC_outerBlockwise_aBodyAboveTheMtuInPlaintextGoesInInnerBlocksOnly_theOuterLayerDoesNotCutThemAgain() throws Exception {
        proxy(true, plainOrigin.port());
        CoapEndpoint c = client(true, List.of(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector())));
        try {
            byte[] body = body(400); // above MAX_MESSAGE_SIZE before protection: Californium's inner block-wise cuts it
            Response resp = post(c, plainOrigin.port(), body);
            assertNotNull(resp, "answered");
            assertArrayEquals(body, resp.getPayload(), "the echo came back whole");
            assertArrayEquals(body, plainOrigin.last().getPayload(), "the origin got it whole");
            for (byte[] d : leg.forward) {
                assertTrue(d.length <= MTU, "request datagram of " + d.length + " bytes");
                Message m = UdpTap.parse(d);
                assertTrue(m.getOptions().hasOscore(), "every datagram under the hop layer");
            }
            for (byte[] d : leg.backward) {
                assertTrue(d.length <= MTU, "response datagram of " + d.length + " bytes");
            }
            assertTrue(leg.forward.size() >= 400 / BLOCK, "inner blocks, each its own protected request: " + leg.forward.size());
            // each 64-byte inner block fits the MTU once protected: the outer layer leaves it whole (no
            // second fragmentation), and the inner Block1/Block2 travel encrypted, never outside
            for (Message m : parsed(leg.forward)) {
                assertFalse(m.getOptions().hasBlock1(), "no outer Block1: " + m);
                assertFalse(m.getOptions().hasBlock2(), "no outer Block2: " + m);
            }
            for (Message m : parsed(leg.backward)) {
                assertFalse(m.getOptions().hasBlock1() || m.getOptions().hasBlock2(), "no outer Block option: " + m);
            }
        } finally {
            c.destroy();
        }
    }

    @Test
    void OSC_outerBlockwise_theProxyAsClient_anOriginHopLayerLargerThanTheMtuGoesInOuterBlocks() throws Exception {
        // a Coterie origin that shares a hop context with the proxy, at the small MTU, behind a tap
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(config(true))
                .serverContexts(new InMemoryContextDb().add(context("origin-hop", HOP_SECRET, SERVER, PROXY))).build();
        CoapServer hopOrigin = new CoapServer(config(true));
        hopOrigin.addEndpoint(ep);
        List<byte[]> atOrigin = new CopyOnWriteArrayList<>();
        hopOrigin.add(new CoapResource("echo") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                atOrigin.add(exchange.getRequestPayload());
                exchange.respond(ResponseCode.CHANGED, exchange.getRequestPayload());
            }
        });
        hopOrigin.start();
        UdpTap toOrigin = new UdpTap(new InetSocketAddress("127.0.0.1", ep.getAddress().getPort()));
        try {
            String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 3000}\naccess:\n"
                    + "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + toOrigin.port() + "'}]}\n";
            Map<ProxyConfig.Origin, OscoreContext> hops = ProxyServer.originMap();
            hops.put(new ProxyConfig.Origin("127.0.0.1", toOrigin.port()), context("proxy-to-origin", HOP_SECRET, PROXY, SERVER));
            proxy = new ProxyServer(ProxyFixture.config(yaml), List.of(), hops, config(true)).start();
            CoapEndpoint plainClient = new CoapEndpoint.Builder().setConfiguration(config(true))
                    .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
            try {
                plainClient.start();
                byte[] body = body(BODY);
                Request r = Request.newPost();
                r.getOptions().setProxyUri("coap://127.0.0.1:" + toOrigin.port() + "/echo");
                r.setPayload(body);
                r.setDestinationContext(new AddressEndpointContext(proxy.listenAddresses().get(0)));
                plainClient.sendRequest(r);
                Response resp = r.waitForResponse(10_000);
                assertNotNull(resp, "answered");
                assertEquals(ResponseCode.CHANGED, resp.getCode());
                assertArrayEquals(body, resp.getPayload());
                assertEquals(1, atOrigin.size());
                assertArrayEquals(body, atOrigin.get(0), "the origin verified the proxy's hop layer and got the body whole");
                assertOuterBlocks(toOrigin.forward, true);
                assertOuterBlocks(toOrigin.backward, false);
            } finally {
                plainClient.destroy();
            }
        } finally {
            toOrigin.close();
            hopOrigin.destroy();
        }
    }

    @Test
    void OSC_outerBlockwise_positiveControl_withALargeMtuTheSameExchangeIsOneDatagramEachWay() throws Exception {
        proxy(false, plainOrigin.port());
        CoapEndpoint c = client(false, List.of(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector())));
        try {
            byte[] body = body(BODY);
            Response resp = post(c, plainOrigin.port(), body);
            assertNotNull(resp);
            assertArrayEquals(body, resp.getPayload());
            assertEquals(1, leg.forward.size(), "one request datagram");
            assertEquals(1, leg.backward.size(), "one response datagram");
            Message rq = UdpTap.parse(leg.forward.get(0));
            Message rs = UdpTap.parse(leg.backward.get(0));
            assertTrue(leg.forward.get(0).length > MTU, "the same message is larger than the small MTU");
            assertTrue(rq.getOptions().hasOscore());
            assertNull(rq.getOptions().getBlock1());
            assertNull(rs.getOptions().getBlock2());
        } finally {
            c.destroy();
        }
    }

    @Test
    void OSC_outerBlockwise_endToEndInsideTheHopLayer_outerBlocksOnTheLeg_verifiedAtTheOrigin() throws Exception {
        proxy(true, oscoreOriginPort);
        CoapEndpoint c = client(true, List.of(context("client-e2e", E2E_SECRET, CLIENT, SERVER).protector(),
                RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector())));
        try {
            byte[] body = body(100); // two layers: larger than the MTU once protected, twice
            Response resp = post(c, oscoreOriginPort, body);
            assertNotNull(resp, "answered");
            assertEquals(ResponseCode.CHANGED, resp.getCode(), "the origin verified the end-to-end layer and answered");
            assertArrayEquals(body, resp.getPayload());
            assertOuterBlocks(leg.forward, true);
            assertOuterBlocks(leg.backward, false);
            Request there = atOscoreOrigin.get(atOscoreOrigin.size() - 1);
            assertTrue(there.getOptions().hasOscore(), "the end-to-end layer reached the origin");
            assertFalse(there.getOptions().hasProxyUri());
            assertEquals(1.0, proxy.metrics().layersRemoved(), "the proxy removed its hop layer only");
        } finally {
            c.destroy();
        }
    }

    @Test
    void OSC_outerBlockwise_concurrentTransfersFromOnePeerDoNotMix() throws Exception {
        proxy(true, plainOrigin.port());
        CoapEndpoint c = client(true, List.of(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector())));
        try {
            c.start();
            List<Request> sent = new ArrayList<>();
            List<byte[]> bodies = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] b = body(BODY + i);
                Arrays.fill(b, 0, 4, (byte) ('0' + i));
                Request r = Request.newPost();
                r.getOptions().setProxyUri("coap://127.0.0.1:" + plainOrigin.port() + "/echo");
                r.setPayload(b);
                r.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", leg.port())));
                sent.add(r);
                bodies.add(b);
            }
            sent.forEach(c::sendRequest); // all four in flight at once, one peer, one outer URI
            for (int i = 0; i < sent.size(); i++) {
                Response resp = sent.get(i).waitForResponse(10_000);
                assertNotNull(resp, "request " + i + " answered");
                assertArrayEquals(bodies.get(i), resp.getPayload(), "request " + i + " got its own body back");
            }
            // the transfers really overlapped on the leg: a transfer's first block before another's last
            List<String> open = new ArrayList<>();
            java.util.Set<String> transfers = new java.util.HashSet<>();
            int maxOpen = 0;
            for (Message m : parsed(leg.forward)) {
                BlockOption b1 = m.getOptions().getBlock1();
                if (b1 == null) {
                    continue;
                }
                String id = Hex.encode(m.getOptions().getOscore());
                transfers.add(id);
                if (b1.getNum() == 0 && !open.contains(id)) {
                    open.add(id);
                }
                maxOpen = Math.max(maxOpen, open.size());
                if (!b1.isM()) {
                    open.remove(id);
                }
            }
            assertEquals(4, transfers.size(), "four outer Block1 transfers, one OSCORE option each");
            assertTrue(maxOpen >= 2, "at least two outer transfers from one peer were open at once");
        } finally {
            c.destroy();
        }
    }
}
