package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.SecurityTrace;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chain of two Coterie proxies carrying three OSCORE layers (oscore-capable-proxies Section 2,
 * App. B): end to end client-server, client-P1 (added by the client over the end-to-end one),
 * and P1-P2 (added by P1). Every leg runs through a {@link UdpTap}, so the assertions are on the
 * datagrams as they travelled, byte for byte: each leg shows only its own hop's OSCORE option,
 * and the end-to-end option and ciphertext arrive at the server exactly as the client made them.
 */
class ProxyChainTest {
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] E2E = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] C_P1 = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] P1_P2 = Hex.decode("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SERVER = {0x05};
    private static final byte[] P1 = {0x01};
    private static final byte[] P2 = {0x02};

    @TempDir
    Path state;
    private CoapServer origin;
    private UdpTap p2ToServer;
    private UdpTap p1ToP2;
    private UdpTap clientToP1;
    private ProxyServer proxy1;
    private ProxyServer proxy2;

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(state, name, secret, SALT, sender, recipient);
    }

    @BeforeEach
    void chain() throws Exception {
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverContexts(new InMemoryContextDb().add(context("server-e2e", E2E, SERVER, CLIENT))).build();
        origin = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        origin.addEndpoint(ep);
        origin.add(new CoapResource("secret") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "hello");
            }
        });
        origin.start();
        p2ToServer = new UdpTap(new InetSocketAddress("127.0.0.1", ep.getAddress().getPort()));
        String target = "127.0.0.1:" + p2ToServer.port();

        // P2, next to the server: removes the P1-P2 layer; P1 is its client, allowed to reach the server
        proxy2 = new ProxyServer(ProxyFixture.config("listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "limits: {upstream_timeout_ms: 2000}\naccess:\n  - {client: {kid: '" + Hex.encode(P1) + "'}, allow: [{origin: '"
                + target + "'}]}\n"), List.of(context("p2-hop", P1_P2, P2, P1)), Map.of()).start();
        p1ToP2 = new UdpTap(proxy2.listenAddresses().get(0));

        // P1, next to the client: removes the client-P1 layer and sends on to P2 under the P1-P2 layer
        ProxyConfig.Origin next = new ProxyConfig.Origin("127.0.0.1", p1ToP2.port());
        ProxyConfig c1 = ProxyFixture.config("listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "next_proxy: {address: '" + next + "'}\n"
                + "limits: {upstream_timeout_ms: 3000}\naccess:\n  - {client: {kid: '" + Hex.encode(CLIENT)
                + "'}, allow: [{origin: '" + target + "'}]}\n");
        Map<ProxyConfig.Origin, OscoreContext> hops = ProxyServer.originMap();
        hops.put(next, context("p1-to-p2", P1_P2, P1, P2));
        proxy1 = new ProxyServer(c1, List.of(context("p1-hop", C_P1, P1, CLIENT)), hops).start();
        clientToP1 = new UdpTap(proxy1.listenAddresses().get(0));
    }

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {clientToP1, proxy1, p1ToP2, proxy2, p2ToServer}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // closing the rest
            }
        }
        origin.destroy();
        for (OscoreContext c : clientContexts) {
            try {
                c.close();
            } catch (Exception e) {
                // closing the rest
            }
        }
    }

    /** What the client's OSCORE layer traced, per layer: the message before and after each one. */
    private static final class Layers implements SecurityTrace {
        final List<Message[]> protectedRequests = new CopyOnWriteArrayList<>();
        final List<Message[]> verifiedResponses = new CopyOnWriteArrayList<>();

        @Override
        public void onMessage(Event event, Message plain, Message onWire, Info info) {
            if (event == Event.REQUEST_PROTECTED) {
                protectedRequests.add(new Message[] {plain, onWire});
            } else if (event == Event.RESPONSE_VERIFIED) {
                verifiedResponses.add(new Message[] {plain, onWire});
            }
        }
    }

    private CoapEndpoint client(List<RequestProtector> layers, Layers trace, int maxLayers) {
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).maxOscoreLayers(maxLayers)
                .clientBinding(new ClientContextBinding().endpointDefaultLayers(layers)).trace(trace).build();
        return ep;
    }

    /** A GET for the server's /secret, sent through P1 (its tap) with Proxy-Uri. */
    private Request sendToP1(CoapEndpoint ep) {
        Request get = Request.newGet();
        get.getOptions().setProxyUri("coap://127.0.0.1:" + p2ToServer.port() + "/secret");
        get.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", clientToP1.port())));
        ep.sendRequest(get);
        return get;
    }

    /** The client's contexts, closed (their state saved) after each test. */
    private final List<OscoreContext> clientContexts = new CopyOnWriteArrayList<>();

    /** A client with the end-to-end layer and the client-P1 hop layer over it (OCP-01). */
    private CoapEndpoint twoLayerClient(Layers trace) throws Exception {
        OscoreContext e2e = context("client-e2e", E2E, CLIENT, SERVER);
        OscoreContext hop = context("client-p1", C_P1, CLIENT, P1);
        clientContexts.add(e2e);
        clientContexts.add(hop);
        return client(List.of(e2e.protector(), RequestProtector.forProxy(hop.protector())), trace, 2);
    }

    private static List<Integer> numbers(Message m) {
        return m.getOptions().asSortedList().stream().map(Option::getNumber).toList();
    }

    @Test
    void OCP_01_OCP_06_threeLayersThroughTwoProxies_eachLegCarriesOnlyItsOwnLayer_byteByByte() throws Exception {
        Layers trace = new Layers();
        CoapEndpoint ep = twoLayerClient(trace);
        try {
            ep.start();
            Request get = sendToP1(ep);
            Response r = get.waitForResponse(8000);
            assertNotNull(r, "an answer through both proxies");
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertEquals("hello", r.getPayloadString());

            // the client applied the end-to-end layer first, then the client-P1 layer (OCP-01)
            assertEquals(2, trace.protectedRequests.size());
            Request afterE2e = (Request) trace.protectedRequests.get(0)[1];
            assertEquals(afterE2e, trace.protectedRequests.get(1)[0], "the hop layer protects the end-to-end message");
            // RFC 8613 4.1.3.3: the path goes inner, Proxy-Uri keeps scheme and authority only
            assertEquals(List.of(OptionNumberRegistry.OSCORE, OptionNumberRegistry.PROXY_URI), numbers(afterE2e));
            assertEquals("coap://127.0.0.1:" + p2ToServer.port(), afterE2e.getOptions().getProxyUri());

            // leg 1, client to P1: Token, the client-P1 OSCORE option (kid 0c) and ciphertext, nothing else
            Request leg1 = (Request) UdpTap.parse(clientToP1.forward.get(0));
            assertEquals(Code.POST, leg1.getCode());
            assertEquals(List.of(OptionNumberRegistry.OSCORE), numbers(leg1));
            assertArrayEquals(((Request) trace.protectedRequests.get(1)[1]).getOptions().getOscore(), leg1.getOptions().getOscore());
            assertEquals(0x0c, leg1.getOptions().getOscore()[leg1.getOptions().getOscore().length - 1], "kid 0c last");

            // leg 2, P1 to P2: only P1's OSCORE option (kid 01); Proxy-Scheme, Uri-Host, Uri-Port, Hop-Limit and the
            // end-to-end OSCORE option all travel encrypted for P2 (digest 4.2, steps 4, 6, 7, 8)
            Request leg2 = (Request) UdpTap.parse(p1ToP2.forward.get(0));
            assertEquals(Code.POST, leg2.getCode());
            assertEquals(List.of(OptionNumberRegistry.OSCORE), numbers(leg2));
            byte[] kid2 = leg2.getOptions().getOscore();
            assertEquals(0x01, kid2[kid2.length - 1], "P1's Sender ID in the P1-P2 context");
            assertFalse(java.util.Arrays.equals(leg1.getPayload(), leg2.getPayload()));

            // leg 3, P2 to the server: the end-to-end option and ciphertext exactly as the client made them,
            // Hop-Limit 15 (P1 added 16, P2 took one), and no proxy option left
            Request leg3 = (Request) UdpTap.parse(p2ToServer.forward.get(0));
            assertEquals(Code.POST, leg3.getCode());
            assertEquals(List.of(OptionNumberRegistry.OSCORE, 16), numbers(leg3));
            assertArrayEquals(afterE2e.getOptions().getOscore(), leg3.getOptions().getOscore());
            assertArrayEquals(afterE2e.getPayload(), leg3.getPayload());
            assertArrayEquals(new byte[] {15}, leg3.getOptions().getOtherOption(16).getValue());

            // responses: each leg again shows only its own layer, outer 2.04 (OCP-06)
            Response back3 = (Response) UdpTap.parse(p2ToServer.backward.get(0));
            Response back2 = (Response) UdpTap.parse(p1ToP2.backward.get(0));
            Response back1 = (Response) UdpTap.parse(clientToP1.backward.get(0));
            for (Response b : List.of(back3, back2, back1)) {
                assertEquals(ResponseCode.CHANGED, b.getCode());
                assertEquals(List.of(OptionNumberRegistry.OSCORE), numbers(b), "only an OSCORE option: " + b.getOptions());
            }
            assertFalse(java.util.Arrays.equals(back3.getPayload(), back2.getPayload()));
            assertFalse(java.util.Arrays.equals(back2.getPayload(), back1.getPayload()));
            // the client removed the client-P1 layer, then the end-to-end one; inside the first it found the server's
            // response as the server sent it
            assertEquals(2, trace.verifiedResponses.size());
            Message inHop = trace.verifiedResponses.get(0)[0];
            assertArrayEquals(back3.getOptions().getOscore(), inHop.getOptions().getOscore());
            assertArrayEquals(back3.getPayload(), inHop.getPayload());
        } finally {
            ep.destroy();
        }
    }

    @Test
    void OCP_04_aClientRefusesToSendMoreLayersThanItsLimit_positiveControlWithTheLimitRaised() throws Exception {
        OscoreContext e2e = context("client-e2e", E2E, CLIENT, SERVER);
        OscoreContext hop = context("client-p1", C_P1, CLIENT, P1);
        List<RequestProtector> layers = List.of(e2e.protector(), RequestProtector.forProxy(hop.protector()));
        for (int limit : new int[] {1, 2}) {
            CoapEndpoint ep = client(layers, new Layers(), limit);
            try {
                ep.start();
                Request get = sendToP1(ep);
                Response r = get.waitForResponse(limit == 1 ? 1000 : 8000);
                if (limit == 1) {
                    assertEquals(null, r);
                    assertTrue(get.getSendError() instanceof dev.coterie.oscore.OscoreSendRefusedException);
                    assertTrue(get.getSendError().getMessage().contains("OCP-04"), get.getSendError().getMessage());
                    assertTrue(clientToP1.forward.isEmpty(), "nothing was sent");
                } else {
                    assertNotNull(r);
                    assertEquals("hello", r.getPayloadString());
                    assertEquals(1, clientToP1.forward.size());
                }
            } finally {
                ep.destroy();
            }
        }
        e2e.close();
        hop.close();
    }

    @Test
    void OCP_06_anErrorOfP2ComesBackInsideEveryHopLayer_theClientSeesTheIntermediarysAnswer() throws Exception {
        // the server is gone: P2 answers 5.04 itself, inside the P1-P2 layer; P1 relays it inside the client-P1 layer
        origin.stop();
        Layers trace = new Layers();
        CoapEndpoint ep = twoLayerClient(trace);
        try {
            ep.start();
            Request get = sendToP1(ep);
            Response r = get.waitForResponse(10000);
            assertNotNull(r);
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, r.getCode());
            Response back1 = (Response) UdpTap.parse(clientToP1.backward.get(0));
            assertEquals(ResponseCode.CHANGED, back1.getCode(), "protected on the client-P1 leg");
            assertEquals(List.of(OptionNumberRegistry.OSCORE), numbers(back1));
            Response back2 = (Response) UdpTap.parse(p1ToP2.backward.get(0));
            assertEquals(ResponseCode.CHANGED, back2.getCode(), "protected on the P1-P2 leg");
            assertEquals(1, trace.verifiedResponses.size(), "only the hop layer was removed: the answer is P2's, not the server's");
        } finally {
            ep.destroy();
        }
    }

    @Test
    void M6_anUnprotectedAnswerOnTheP1P2LegIsA502_notRelayedUnderTheClientHop() throws Exception {
        // P2 does not know P1's context: it answers the P1-P2 layer with an unprotected 4.01, which P1 must not
        // relay under the client's hop as if P2 had said it (positive control: the three-layer test above)
        proxy2.close();
        proxy2 = new ProxyServer(ProxyFixture.config("listen: ['127.0.0.1:0']\nforward_proxy: true\naccess: []\n"), List.of(),
                Map.of()).start();
        p1ToP2.close();
        p1ToP2 = new UdpTap(proxy2.listenAddresses().get(0));
        proxy1.close();
        ProxyConfig.Origin next = new ProxyConfig.Origin("127.0.0.1", p1ToP2.port());
        Map<ProxyConfig.Origin, OscoreContext> hops = ProxyServer.originMap();
        hops.put(next, context("p1-to-p2-b", P1_P2, P1, P2));
        proxy1 = new ProxyServer(ProxyFixture.config("listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "next_proxy: {address: '" + next + "'}\nlimits: {upstream_timeout_ms: 3000}\naccess:\n"
                + "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '*'}]}\n"),
                List.of(context("p1-hop-b", C_P1, P1, CLIENT)), hops).start();
        clientToP1.close();
        clientToP1 = new UdpTap(proxy1.listenAddresses().get(0));
        OscoreContext hop = context("client-p1-b", C_P1, CLIENT, P1);
        Layers trace = new Layers();
        CoapEndpoint ep = client(List.of(RequestProtector.forProxy(hop.protector())), trace, 2);
        try {
            ep.start();
            Request get = sendToP1(ep);
            Response r = get.waitForResponse(8000);
            assertNotNull(r);
            Response fromP2 = (Response) UdpTap.parse(p1ToP2.backward.get(0));
            assertEquals(ResponseCode.UNAUTHORIZED, fromP2.getCode());
            assertFalse(fromP2.getOptions().hasOscore(), "P2's answer was unprotected");
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode(), "not P2's 4.01 under P1's protection");
        } finally {
            ep.destroy();
            hop.close();
        }
    }

    @Test
    void CHAIN_aTargetWithItsOwnOriginContextIsNotSentOnInPlaintextThroughNextProxy() throws Exception {
        proxy1.close();
        ProxyConfig.Origin next = new ProxyConfig.Origin("127.0.0.1", p1ToP2.port());
        ProxyConfig.Origin target = new ProxyConfig.Origin("127.0.0.1", p2ToServer.port());
        Map<ProxyConfig.Origin, OscoreContext> hops = ProxyServer.originMap();
        hops.put(target, context("p1-to-origin", P1_P2, P1, SERVER));
        proxy1 = new ProxyServer(ProxyFixture.config("listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "next_proxy: {address: '" + next + "'}\nlimits: {upstream_timeout_ms: 3000}\naccess:\n"
                + "  - {client: unauthenticated, allow: [{origin: '*'}]}\n"), List.of(), hops).start();
        ProxyFixture plain = null;
        org.eclipse.californium.core.network.CoapEndpoint c = new org.eclipse.californium.core.network.CoapEndpoint.Builder()
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        try {
            c.start();
            Request put = Request.newPut();
            put.getOptions().setProxyUri("coap://" + target + "/secret");
            put.setPayload("door-code-1234");
            put.setDestinationContext(new AddressEndpointContext(proxy1.listenAddresses().get(0)));
            c.sendRequest(put);
            Response r = put.waitForResponse(5000);
            assertNotNull(r);
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertEquals("the origin's hop context cannot be used through next_proxy", r.getPayloadString());
            assertTrue(p1ToP2.forward.isEmpty(), "nothing went on in plaintext");
            // control: another target, without an origin context of its own, goes on through P2 as before
            Request other = Request.newGet();
            other.getOptions().setProxyUri("coap://127.0.0.1:9/x");
            other.setDestinationContext(new AddressEndpointContext(proxy1.listenAddresses().get(0)));
            c.sendRequest(other);
            assertNotNull(other.waitForResponse(8000));
            assertEquals(1, p1ToP2.forward.size(), "sent on to the next proxy");
        } finally {
            c.destroy();
        }
    }
}
