package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.DemoResources;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.proxy.ProxyMetrics;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.util.Bytes;
import org.eclipse.californium.oscore.HashMapCtxDB;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * OSC-21: end-to-end OSCORE through the Coterie proxy, which holds no OSCORE keys. Eclipse
 * Californium cf-oscore 3.13.0 is the independent peer at one end or both: cf-oscore client to
 * cf-oscore server, Coterie client to cf-oscore server, cf-oscore client to Coterie server. The
 * client names the origin with Proxy-Uri; per RFC 8613 Section 4.1.3.3 only its scheme and
 * authority stay outer (cf-oscore's OptionJuggle and Coterie's ProxyUriSplit both do that) and
 * the path travels inside the ciphertext. What the proxy forwards must be bit-for-bit what the
 * client protected, both ways, and the proxy must neither remove nor add a layer, nor answer
 * from its cache.
 */
@Timeout(60)
class CfOscoreThroughProxyTest {

    /** OSCORE option and payload of every message an endpoint sent or received, as on the wire. */
    static final class Wire extends MessageInterceptorAdapter {
        /**
         * Copied when the interceptor is called: cf-oscore decrypts into the same Request object
         * later, so the outer options must not be read from {@code message} afterwards.
         */
        record Seen(String what, byte[] oscore, byte[] payload, String code, String proxyUri, int uriPaths) {
        }

        final List<Seen> sentRequests = new CopyOnWriteArrayList<>();
        final List<Seen> receivedRequests = new CopyOnWriteArrayList<>();
        final List<Seen> sentResponses = new CopyOnWriteArrayList<>();
        final List<Seen> receivedResponses = new CopyOnWriteArrayList<>();

        static Seen seen(Message m) {
            byte[] o = m.getOptions().getOscore();
            String code = m instanceof Request r ? r.getCode().name() : ((Response) m).getCode().toString();
            return new Seen(m.toString(), o == null ? null : o.clone(), m.getPayload() == null ? new byte[0] : m.getPayload().clone(),
                    code, m.getOptions().getProxyUri(), m.getOptions().getURIPathCount());
        }

        @Override
        public void sendRequest(Request request) {
            sentRequests.add(seen(request));
        }

        @Override
        public void receiveRequest(Request request) {
            receivedRequests.add(seen(request));
        }

        @Override
        public void sendResponse(Response response) {
            sentResponses.add(seen(response));
        }

        @Override
        public void receiveResponse(Response response) {
            receivedResponses.add(seen(response));
        }
    }

    static Response send(CoapEndpoint ep, InetSocketAddress to, Request r) throws InterruptedException {
        r.setDestinationContext(new AddressEndpointContext(to));
        ep.sendRequest(r);
        return r.waitForResponse(5000);
    }

    static Request viaProxy(Code code, String originUri, String payload) {
        Request r = new Request(code);
        r.getOptions().setProxyUri(originUri);
        if (payload != null) {
            r.setPayload(payload);
        }
        return r;
    }

    /** Every protected request and response went through the proxy unchanged, and the proxy removed and added no layer. */
    static void proxyLeftTheLayersAlone(Wire client, Wire origin, ProxyUnderTest proxy, int exchanges) {
        assertEquals(exchanges, client.sentRequests.size(), "client requests " + client.sentRequests);
        assertEquals(exchanges, origin.receivedRequests.size(), "origin requests " + origin.receivedRequests);
        for (int i = 0; i < exchanges; i++) {
            Wire.Seen sent = client.sentRequests.get(i);
            Wire.Seen got = origin.receivedRequests.get(i);
            assertNotNull(sent.oscore(), "the client protected its request: " + sent.what());
            assertArrayEquals(sent.oscore(), got.oscore(), "OSCORE option of request " + i + " as the client sent it");
            assertArrayEquals(sent.payload(), got.payload(), "ciphertext of request " + i + " as the client sent it");
            assertTrue(got.payload().length > 0);
            assertEquals("POST", got.code(), "outer code of a protected request (RFC 8613 Section 4.2)");
            assertEquals(null, got.proxyUri(), "the proxy consumed the outer Proxy-Uri");
            assertEquals(0, got.uriPaths(), "no Uri-Path outside: the path is encrypted");
        }
        assertEquals(exchanges, origin.sentResponses.size());
        assertEquals(exchanges, client.receivedResponses.size());
        for (int i = 0; i < exchanges; i++) {
            Wire.Seen sent = origin.sentResponses.get(i);
            Wire.Seen got = client.receivedResponses.get(i);
            assertNotNull(sent.oscore(), "the origin protected its response: " + sent.what());
            assertArrayEquals(sent.oscore(), got.oscore(), "OSCORE option of response " + i);
            assertArrayEquals(sent.payload(), got.payload(), "ciphertext of response " + i);
        }
        ProxyMetrics m = proxy.proxy.metrics();
        assertEquals(0.0, m.layersRemoved(), "the proxy has no keys and removed no OSCORE layer");
        assertEquals(0.0, m.layersAdded(), "nor added one");
        assertEquals(0.0, m.cacheHits(), "OSC-21: no OSCORE request answered from the cache");
        assertEquals((double) exchanges, m.count(ProxyMetrics.Outcome.FORWARDED));
    }

    /** The outer Proxy-Uri the client sent: only scheme and authority (RFC 8613 Section 4.1.3.3). */
    static void outerProxyUriIsSchemeAndAuthority(Wire client, String authorityUri) {
        for (Wire.Seen s : client.sentRequests) {
            assertEquals(authorityUri, s.proxyUri(), "outer Proxy-Uri of " + s.what());
            assertEquals(0, s.uriPaths());
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_cfOscoreEndToEndThroughTheProxy(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.endpoint.getAddress().getPort();
            HashMapCtxDB db = new HashMapCtxDB();
            // cf-oscore finds the context by the host and port of the Proxy-Uri: the origin's
            db.addContext(base, CfOscorePeer.context(c, true));
            CoapEndpoint ep = CfOscorePeer.endpoint(db, TestConfig.standard());
            Wire client = new Wire();
            ep.addInterceptor(client);
            ep.start();
            try {
                for (int i = 0; i < 2; i++) {
                    Request r = viaProxy(Code.GET, base + "/hello", null);
                    r.getOptions().setOscore(Bytes.EMPTY);
                    Response resp = send(ep, proxy.address, r);
                    assertNotNull(resp, "answer " + i + " through the proxy");
                    assertEquals(ResponseCode.CONTENT, resp.getCode(), "the inner code, verified by cf-oscore");
                    assertEquals("Hello World!", resp.getPayloadString());
                }
                Request post = viaProxy(Code.POST, base + "/echo", "ping through the proxy");
                post.getOptions().setOscore(Bytes.EMPTY);
                Response echoed = send(ep, proxy.address, post);
                assertNotNull(echoed);
                assertEquals(ResponseCode.CHANGED, echoed.getCode());
                assertEquals("ping through the proxy", echoed.getPayloadString());

                outerProxyUriIsSchemeAndAuthority(client, base);
                proxyLeftTheLayersAlone(client, origin, proxy, 3);
                assertTrue(proxy.proxy.metrics().cacheMisses() == 0.0, "a POST is not even looked up");
            } finally {
                ep.destroy();
            }
        }
    }

    /**
     * OSC-21's cache half, with its control: the same proxy answers a repeated plain GET from its
     * cache, but forwards every repeated protected GET to the origin.
     */
    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_protectedRequestsBypassTheCache_plainOnesAreCached(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.endpoint.getAddress().getPort();
            HashMapCtxDB db = new HashMapCtxDB();
            db.addContext(base, CfOscorePeer.context(c, true));
            CoapEndpoint ep = CfOscorePeer.endpoint(db, TestConfig.standard());
            ep.start();
            try {
                for (int i = 0; i < 2; i++) {
                    Response plain = send(ep, proxy.address, viaProxy(Code.GET, base + "/hello", null));
                    assertNotNull(plain);
                    assertEquals("Hello World!", plain.getPayloadString());
                }
                assertEquals(1, origin.receivedRequests.size(), "control: the second plain GET came from the cache");
                assertEquals(1.0, proxy.proxy.metrics().cacheHits());

                for (int i = 0; i < 2; i++) {
                    Request r = viaProxy(Code.GET, base + "/hello", null);
                    r.getOptions().setOscore(Bytes.EMPTY);
                    Response protectedResp = send(ep, proxy.address, r);
                    assertNotNull(protectedResp);
                    assertEquals("Hello World!", protectedResp.getPayloadString());
                }
                assertEquals(3, origin.receivedRequests.size(), "both protected GETs reached the origin");
                assertEquals(1.0, proxy.proxy.metrics().cacheHits(), "no cache hit for a protected request");
            } finally {
                ep.destroy();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_cfOscoreBlockwiseResponseThroughTheProxy(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.endpoint.getAddress().getPort();
            HashMapCtxDB db = new HashMapCtxDB();
            db.addContext(base, CfOscorePeer.context(c, true));
            CoapEndpoint ep = CfOscorePeer.endpoint(db, TestConfig.standard());
            Wire client = new Wire();
            ep.addInterceptor(client);
            ep.start();
            try {
                Request r = viaProxy(Code.GET, base + "/large", null);
                r.getOptions().setOscore(Bytes.EMPTY);
                Response resp = send(ep, proxy.address, r);
                assertNotNull(resp);
                assertEquals(ResponseCode.CONTENT, resp.getCode());
                assertArrayEquals(DemoResources.LARGE, resp.getPayload(), "2 KiB reassembled from protected blocks");
                // inner (end-to-end) block-wise: each block is its own protected POST, so the proxy sees
                // four independent requests and forwards each one untouched
                outerProxyUriIsSchemeAndAuthority(client, base);
                proxyLeftTheLayersAlone(client, origin, proxy, 4);
            } finally {
                ep.destroy();
            }
        }
    }

    /**
     * The proxy does not judge the protection it cannot check: a request protected with a wrong
     * Master Secret goes through to the origin, which refuses it (4.00), and that refusal comes
     * back through the proxy. Control: the right context through the same proxy and origin works,
     * before and after.
     */
    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_theOriginRejectsAWrongKeyThroughTheProxy_theRightKeyWorks(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.endpoint.getAddress().getPort();
            byte[] wrongSecret = Rfc8613Contexts.MASTER_SECRET.clone();
            wrongSecret[0] ^= 1;
            org.eclipse.californium.oscore.OSCoreCtx wrong = new org.eclipse.californium.oscore.OSCoreCtx(wrongSecret, true,
                    org.eclipse.californium.cose.AlgorithmID.AES_CCM_16_64_128, Rfc8613Contexts.CLIENT_ID,
                    Rfc8613Contexts.SERVER_ID, org.eclipse.californium.cose.AlgorithmID.HKDF_HMAC_SHA_256, 32,
                    Rfc8613Contexts.MASTER_SALT, c.idContext, 4096);
            if (c.idContext != null) {
                wrong.setIncludeContextId(true);
            }
            // a Partial IV the right client will not use: cf-oscore 3.13.0 marks a Partial IV as seen in its
            // replay window before it tries to decrypt (Decryptor.decryptAndDecode, checkIncomingSeq), so a
            // forgery with the right client's next Partial IV would get that request "Replay detected"
            wrong.setSenderSeq(5);
            HashMapCtxDB wrongDb = new HashMapCtxDB();
            wrongDb.addContext(base, wrong);
            HashMapCtxDB rightDb = new HashMapCtxDB();
            rightDb.addContext(base, CfOscorePeer.context(c, true));
            CoapEndpoint bad = CfOscorePeer.endpoint(wrongDb, TestConfig.standard());
            CoapEndpoint good = CfOscorePeer.endpoint(rightDb, TestConfig.standard());
            bad.start();
            good.start();
            try {
                for (int i = 0; i < 2; i++) {
                    // control (before and after the refusal): the right key through the same proxy and origin
                    Request ok = viaProxy(Code.GET, base + "/hello", null);
                    ok.getOptions().setOscore(Bytes.EMPTY);
                    Response hello = send(good, proxy.address, ok);
                    assertNotNull(hello);
                    assertEquals(ResponseCode.CONTENT, hello.getCode(), "control " + i + ": " + hello);
                    assertEquals("Hello World!", hello.getPayloadString());
                    if (i == 1) {
                        break;
                    }
                    Request r = viaProxy(Code.GET, base + "/hello", null);
                    r.getOptions().setOscore(Bytes.EMPTY);
                    Response refused = send(bad, proxy.address, r);
                    assertNotNull(refused);
                    // RFC 8613 Section 8.2: a request that does not decrypt gets 4.00 "Decryption failed"
                    assertEquals(ResponseCode.BAD_REQUEST, refused.getCode(), "the origin's refusal, relayed: " + refused);
                    assertEquals("Decryption failed", refused.getPayloadString());
                    assertEquals(2, origin.receivedRequests.size(), "the proxy forwarded it: only the origin can tell");
                    assertEquals("4.00", origin.sentResponses.get(1).code(), "the 4.00 is the origin's, not the proxy's");
                }
                assertEquals(3, origin.receivedRequests.size());
                assertEquals(0.0, proxy.proxy.metrics().layersRemoved());
                assertEquals(3.0, proxy.proxy.metrics().count(ProxyMetrics.Outcome.FORWARDED));
            } finally {
                bad.destroy();
                good.destroy();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_coterieClientToCfOscoreServerThroughTheProxy(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.endpoint.getAddress().getPort();
            OscoreContext ctx = c.client(null);
            CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .configuration(TestConfig.standard()).clientBinding(new ClientContextBinding().endpointDefault(ctx)).build();
            Wire client = new Wire();
            ep.addInterceptor(client);
            ep.start();
            try {
                Response hello = send(ep, proxy.address, viaProxy(Code.GET, base + "/hello", null));
                assertNotNull(hello);
                assertEquals(ResponseCode.CONTENT, hello.getCode());
                assertEquals("Hello World!", hello.getPayloadString());
                Response echoed = send(ep, proxy.address, viaProxy(Code.POST, base + "/echo", "coterie via proxy"));
                assertNotNull(echoed);
                assertEquals(ResponseCode.CHANGED, echoed.getCode());
                assertEquals("coterie via proxy", echoed.getPayloadString());

                outerProxyUriIsSchemeAndAuthority(client, base);
                proxyLeftTheLayersAlone(client, origin, proxy, 2);
            } finally {
                ep.destroy();
                ctx.close();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void OSC_21_cfOscoreClientToCoterieServerThroughTheProxy(Rfc8613Contexts c) throws Exception {
        try (CoterieServer server = new CoterieServer(c.server(null), TestConfig.standard());
             ProxyUnderTest proxy = new ProxyUnderTest()) {
            Wire origin = new Wire();
            server.endpoint.addInterceptor(origin);
            String base = "coap://127.0.0.1:" + server.address().getPort();
            HashMapCtxDB db = new HashMapCtxDB();
            db.addContext(base, CfOscorePeer.context(c, true));
            CoapEndpoint ep = CfOscorePeer.endpoint(db, TestConfig.standard());
            Wire client = new Wire();
            ep.addInterceptor(client);
            ep.start();
            try {
                Request get = viaProxy(Code.GET, base + "/hello", null);
                get.getOptions().setOscore(Bytes.EMPTY);
                Response hello = send(ep, proxy.address, get);
                assertNotNull(hello);
                assertEquals(ResponseCode.CONTENT, hello.getCode());
                assertEquals("Hello World!", hello.getPayloadString());
                Request post = viaProxy(Code.POST, base + "/echo", "cf-oscore via proxy");
                post.getOptions().setOscore(Bytes.EMPTY);
                Response echoed = send(ep, proxy.address, post);
                assertNotNull(echoed);
                assertEquals(ResponseCode.CHANGED, echoed.getCode());
                assertEquals("cf-oscore via proxy", echoed.getPayloadString());

                outerProxyUriIsSchemeAndAuthority(client, base);
                proxyLeftTheLayersAlone(client, origin, proxy, 2);
                assertTrue(server.events.stream().noneMatch(e -> e.startsWith("REJECTED")), server.events.toString());
            } finally {
                ep.destroy();
            }
        }
    }
}
