package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestProtector;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.MapBasedOptionRegistry;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the client gets when the origin's answer is one the proxy cannot pass on: a 5.02 Bad
 * Gateway at once (RFC 7252 Section 5.7.1), never a 5.04 after the upstream timeout. Origins are
 * raw sockets that craft each answer; every case has the same path with a valid answer as its
 * control.
 */
class OriginAnswerTest {
    private static final byte[] ORIGIN_SECRET = Hex.decode("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    private static final byte[] CLIENT_SECRET = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] PROXY = {0x0b};
    private static final byte[] ORIGIN = {0x05};
    private static final byte[] CLIENT = {0x0c};
    /** Upstream timeout of the proxy: an unusable answer is dropped, and a 5.02 instead of 5.04 comes when it ends. */
    private static final long TIMEOUT_MS = 1500;
    private static final byte[] CF_TEXT = RawOrigin.option(0, 12, new byte[0]);
    private static final byte[] HI = {(byte) 0xff, 'h', 'i'};

    @TempDir
    Path state;

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(state, name, secret, null, sender, recipient);
    }

    private static String config() {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: " + TIMEOUT_MS + "}\n"
                + "access:\n  - {client: unauthenticated, allow: [{origin: '*'}]}\n"
                + "  - {client: {kid: '0c'}, allow: [{origin: '*'}]}\n";
    }

    private static Request get(int port) {
        Request r = Request.newGet();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/secret");
        return r;
    }

    private static void assertBadGateway(Response r, String diagnostic, long tookMs) {
        assertNotNull(r, "an answer, not silence");
        assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
        assertArrayEquals(diagnostic.getBytes(StandardCharsets.UTF_8), r.getPayload());
        List<Option> options = r.getOptions().asSortedList();
        assertEquals(2, options.size(), "Content-Format and Max-Age only: " + options);
        assertEquals(0, r.getOptions().getContentFormat());
        assertEquals(0L, r.getOptions().getMaxAge());
    }

    /* ------------------------------------------------------------------ M6: an origin hop */

    /**
     * An origin that shares {@code originSide} with the proxy: it verifies each request with it
     * and answers 2.05 "hello", then {@code spoil} turns the protected answer's bytes into what
     * goes on the wire.
     */
    private static Function<Request, byte[]> oscoreOrigin(OscoreContext originSide, Function<byte[], byte[]> spoil) {
        return oscoreOrigin(originSide, spoil, false);
    }

    /** The same, answering as a notification (Observe 1) when {@code observe}. */
    private static Function<Request, byte[]> oscoreOrigin(OscoreContext originSide, Function<byte[], byte[]> spoil,
                                                          boolean observe) {
        ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY);
        InMemoryContextDb db = new InMemoryContextDb().add(originSide);
        return req -> {
            try {
                ProtectionPipeline.Unprotected<Request> u = pipeline.unprotectRequest(req, db);
                Response plain = new Response(ResponseCode.CONTENT);
                plain.setType(CoAP.Type.ACK);
                plain.setMID(req.getMID());
                plain.setToken(req.getToken());
                plain.getOptions().setContentFormat(0);
                if (observe) {
                    plain.getOptions().setObserve(1);
                }
                plain.setPayload("hello");
                Response wire = pipeline.protectResponse(plain, u.identifiers());
                return spoil.apply(new UdpDataSerializer().getByteArray(wire));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    private void originHop(Function<byte[], byte[]> spoil, java.util.function.BiConsumer<Response, Long> check) throws Exception {
        originHop(spoil, false, check);
    }

    private void originHop(Function<byte[], byte[]> spoil, boolean observe, java.util.function.BiConsumer<Response, Long> check)
            throws Exception {
        OscoreContext proxySide = context("proxy-origin", ORIGIN_SECRET, PROXY, ORIGIN);
        OscoreContext originSide = context("origin-proxy", ORIGIN_SECRET, ORIGIN, PROXY);
        try (RawOrigin origin = new RawOrigin(oscoreOrigin(originSide, spoil, observe))) {
            Map<ProxyConfig.Origin, OscoreContext> hops = Map.of(new ProxyConfig.Origin("127.0.0.1", origin.port()), proxySide);
            try (ProxyFixture f = new ProxyFixture(config(), List.of(), hops)) {
                long t0 = System.nanoTime();
                Request req = get(origin.port());
                if (observe) {
                    req.setObserve();
                }
                Response r = f.send(req);
                check.accept(r, (System.nanoTime() - t0) / 1_000_000);
                assertTrue(origin.received.get(0).getOptions().hasOscore(), "the proxy protected the request for the origin");
                assertEquals(0, f.proxy.metrics().inFlight().get(), "no exchange slot left taken");
                assertEquals(0, f.proxy.upstreamWatches(), "nothing left watched");
            }
        }
    }

    @Test
    void M6_control_aVerifiedAnswerFromTheOriginHopIsRelayed() throws Exception {
        originHop(wire -> wire, (r, ms) -> {
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), r.getPayload());
            assertEquals(0, r.getOptions().getContentFormat());
        });
    }

    @Test
    void M6_anAnswerThatFailsVerificationIsDropped_502NotA504() throws Exception {
        originHop(wire -> {
            byte[] w = wire.clone();
            w[w.length - 1] ^= 0x01; // the last byte of the AEAD tag
            return w;
        }, (r, ms) -> assertBadGateway(r, "origin response failed OSCORE verification", ms));
    }

    @Test
    void M6_aForgedAnswerIsDropped_theOriginsOwnAnswerAfterItIsRelayed() throws Exception {
        // RFC 8613 8.4: a response that fails verification is discarded; the exchange goes on (a forgery must not end
        // it). Two forgeries: the genuine answer with its tag spoilt, and an unprotected 2.05 on the same Token
        for (boolean unprotected : new boolean[] {false, true}) {
            forgeryThenGenuine(unprotected);
        }
    }

    private void forgeryThenGenuine(boolean unprotected) throws Exception {
        OscoreContext proxySide = context("proxy-origin-f" + unprotected, ORIGIN_SECRET, PROXY, ORIGIN);
        OscoreContext originSide = context("origin-proxy-f" + unprotected, ORIGIN_SECRET, ORIGIN, PROXY);
        RawOrigin[] self = new RawOrigin[1];
        Function<Request, byte[]> genuine = oscoreOrigin(originSide, wire -> wire);
        try (RawOrigin origin = new RawOrigin(r -> {
            byte[] good = genuine.apply(r);
            byte[] forged = unprotected
                    ? RawOrigin.ack(r, 0x45, RawOrigin.concat(CF_TEXT, new byte[] {(byte) 0xff, 'f', 'a', 'k', 'e'}))
                    : good.clone();
            if (!unprotected) {
                forged[forged.length - 1] ^= 0x01;
            }
            forged[0] = (byte) ((forged[0] & 0xcf) | 0x10); // sent as NON: it does not acknowledge the request
            self[0].first = forged;
            return good;
        })) {
            self[0] = origin;
            Map<ProxyConfig.Origin, OscoreContext> hops = Map.of(new ProxyConfig.Origin("127.0.0.1", origin.port()), proxySide);
            try (ProxyFixture f = new ProxyFixture(config(), List.of(), hops)) {
                Response r = f.send(get(origin.port()));
                assertNotNull(r);
                assertEquals(ResponseCode.CONTENT, r.getCode(), "the genuine answer, not a 5.02 for the forgery before it");
                assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), r.getPayload());
                assertEquals(0, f.proxy.upstreamWatches(), "nothing left watched");
            }
        }
    }

    @Test
    void OCP_08_anOscoreOptionLeftInsideTheProxysOriginLayerIs502_theRequestHadNone() throws Exception {
        ProtectionPipeline nesting = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY, true);
        for (boolean smuggle : new boolean[] {true, false}) {
            // the proxy closes its contexts when it stops: a pair for each run
            OscoreContext proxySide = context("proxy-origin-8" + smuggle, ORIGIN_SECRET, PROXY, ORIGIN);
            OscoreContext originSide = context("origin-proxy-8" + smuggle, ORIGIN_SECRET, ORIGIN, PROXY);
            InMemoryContextDb db = new InMemoryContextDb().add(originSide);
            try (RawOrigin origin = new RawOrigin(req -> {
                try {
                    ProtectionPipeline.Unprotected<Request> u = nesting.unprotectRequest(req, db);
                    Response plain = new Response(ResponseCode.CONTENT);
                    plain.setType(CoAP.Type.ACK);
                    plain.setMID(req.getMID());
                    plain.setToken(req.getToken());
                    plain.setPayload("hello");
                    if (smuggle) {
                        plain.getOptions().setOscore(new byte[] {0x09, 0x05}); // a layer nobody added
                    }
                    return new UdpDataSerializer().getByteArray(nesting.protectResponse(plain, u.identifiers()));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            })) {
                Map<ProxyConfig.Origin, OscoreContext> hops = Map.of(new ProxyConfig.Origin("127.0.0.1", origin.port()), proxySide);
                try (ProxyFixture f = new ProxyFixture(config(), List.of(), hops)) {
                    Response r = f.send(get(origin.port()));
                    assertNotNull(r);
                    if (smuggle) {
                        assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
                        assertEquals("an OSCORE option is left after removing the proxy's layer (OCP-08)", r.getPayloadString());
                    } else {
                        assertEquals(ResponseCode.CONTENT, r.getCode(), "control: the same answer without it is relayed");
                        assertEquals("hello", r.getPayloadString());
                    }
                }
            }
        }
    }

    @Test
    void M6_anUnprotectedAnswerWhereProtectionWasExpectedIsDropped_502NotA504() throws Exception {
        // a plain 2.05 "hello" on the right Token from the right address
        originHop(wire -> RawOrigin.ack(parse(wire), 0x45, RawOrigin.concat(CF_TEXT, new byte[] {(byte) 0xff, 'h', 'e', 'l', 'l', 'o'})),
                (r, ms) -> assertBadGateway(r, "origin response without OSCORE", ms));
    }

    @Test
    void M6_anUnprotectedErrorFromTheOriginHopIs502_notRelayedUnderTheClientsProtection() throws Exception {
        // an OSCORE error (4.01 "Security context not found") is unprotected by design; it is not the origin's answer
        originHop(wire -> RawOrigin.ack(parse(wire), 0x81, new byte[0]),
                (r, ms) -> assertBadGateway(r, "origin response without OSCORE (4.01)", ms));
    }

    @Test
    void M6_aMalformedAnswerIsDropped_502NotA504() throws Exception {
        // the protected answer with a reserved option delta (15) put before its options
        originHop(wire -> {
            int tkl = wire[0] & 0x0f;
            byte[] w = new byte[wire.length + 1];
            System.arraycopy(wire, 0, w, 0, 4 + tkl);
            w[4 + tkl] = (byte) 0xf1;
            System.arraycopy(wire, 4 + tkl, w, 5 + tkl, wire.length - 4 - tkl);
            return w;
        }, (r, ms) -> assertBadGateway(r, "malformed origin response", ms));
    }

    @Test
    void M6_control_aVerifiedFirstNotificationFromTheOriginHopReachesTheObserver() throws Exception {
        originHop(wire -> wire, true, (r, ms) -> {
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), r.getPayload());
            assertTrue(r.getOptions().hasObserve(), "registered at the proxy");
        });
    }

    @Test
    void M6_aRegistrationWhoseFirstAnswerFailsVerificationIs502ToTheObserver() throws Exception {
        originHop(wire -> {
            byte[] w = wire.clone();
            w[w.length - 1] ^= 0x01;
            return w;
        }, true, (r, ms) -> assertBadGateway(r, "origin response failed OSCORE verification", ms));
    }

    private static Response parse(byte[] wire) {
        return (Response) new org.eclipse.californium.core.network.serialization.UdpDataParser(false,
                ExtensionOptionRegistry.defaults().californiumRegistry()).parseMessage(wire);
    }

    /* ------------------------------------------------------------------ OCP-02: unknown options, client hop */

    /** A plain origin answering 2.05 "hi" with Content-Format 0 and {@code extra} (option bytes after 12) in between. */
    private static RawOrigin plainOrigin(byte[] extra) throws Exception {
        return new RawOrigin(req -> RawOrigin.ack(req, 0x45, RawOrigin.concat(CF_TEXT, extra, HI)));
    }

    private Response throughClientHop(int originPort) throws Exception {
        return throughClientHop(originPort, false);
    }

    private Response throughClientHop(int originPort, boolean observe) throws Exception {
        OscoreContext proxySide = context("proxy-hop", CLIENT_SECRET, PROXY, CLIENT);
        OscoreContext clientSide = context("client-hop", CLIENT_SECRET, CLIENT, PROXY);
        try (ProxyFixture f = new ProxyFixture(config(), List.of(proxySide), Map.of())) {
            CoapEndpoint c = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .clientBinding(new ClientContextBinding().endpointDefault(RequestProtector.forProxy(clientSide.protector())))
                    .build();
            c.start();
            try {
                Request r = get(originPort);
                if (observe) {
                    r.setObserve();
                }
                r.setDestinationContext(new AddressEndpointContext(f.proxyAddress));
                c.sendRequest(r);
                Response resp = r.waitForResponse(5000);
                assertNotNull(resp);
                assertNotNull(OscorePeer.of(resp), "protected by the proxy on the client hop and verified by the client");
                assertEquals(1.0, f.proxy.metrics().layersRemoved());
                return resp;
            } finally {
                c.destroy();
                clientSide.close();
            }
        }
    }

    @Test
    void OCP_02_control_aResponseWithRecognisedOptionsIsRelayedUnderTheClientHop() throws Exception {
        try (RawOrigin origin = plainOrigin(new byte[0])) {
            Response r = throughClientHop(origin.port());
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals(new byte[] {'h', 'i'}, r.getPayload());
            assertEquals(0, r.getOptions().getContentFormat());
        }
    }

    @Test
    void OCP_02_anUnrecognisedElectiveOptionInTheResponseIs502ProtectedOnTheClientHop() throws Exception {
        // 65000: elective, Safe-to-Forward, experimental use (RFC 7252 12.2); a plain client would get it passed on
        try (RawOrigin origin = plainOrigin(RawOrigin.option(12, 65000, new byte[] {1, 2}))) {
            Response r = throughClientHop(origin.port());
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertArrayEquals("origin response carries option 65000, which the proxy does not recognise"
                    .getBytes(StandardCharsets.UTF_8), r.getPayload());
            assertEquals(0L, r.getOptions().getMaxAge());
        }
    }

    @Test
    void OCP_02_anUnrecognisedCriticalOptionInTheResponseIs502ProtectedOnTheClientHop() throws Exception {
        try (RawOrigin origin = plainOrigin(RawOrigin.option(12, 65001, new byte[] {1, 2}))) {
            Response r = throughClientHop(origin.port());
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertArrayEquals("origin response carries option 65001, which the proxy does not recognise"
                    .getBytes(StandardCharsets.UTF_8), r.getPayload());
        }
    }

    @Test
    void OCP_02_aNotificationWithAnUnrecognisedOptionIs502ToAnObserverOnTheClientHop() throws Exception {
        byte[] observe1 = RawOrigin.option(0, 6, new byte[] {1});
        try (RawOrigin origin = new RawOrigin(req -> RawOrigin.ack(req, 0x45, RawOrigin.concat(observe1,
                RawOrigin.option(6, 12, new byte[0]), RawOrigin.option(12, 65000, new byte[] {1, 2}), HI)))) {
            Response r = throughClientHop(origin.port(), true);
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertArrayEquals("origin response carries option 65000, which the proxy does not recognise"
                    .getBytes(StandardCharsets.UTF_8), r.getPayload());
            assertTrue(!r.getOptions().hasObserve(), "the 5.02 ends the observer's relation");
        }
        // control: the same notification without the option
        try (RawOrigin origin = new RawOrigin(req -> RawOrigin.ack(req, 0x45, RawOrigin.concat(observe1,
                RawOrigin.option(6, 12, new byte[0]), HI)))) {
            Response r = throughClientHop(origin.port(), true);
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals(new byte[] {'h', 'i'}, r.getPayload());
            assertTrue(r.getOptions().hasObserve());
        }
    }

    /* ------------------------------------------------------------------ RFC 7252 5.7.1: a plain client hop */

    /** A plain client whose parser knows 65000, so that a relayed 65000 can be seen. */
    private static Response plainClient(ProxyFixture f, int originPort) throws Exception {
        CoapEndpoint c = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(new MapBasedOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry(),
                        new OpaqueOptionDefinition(65000, "Experimental-65000"))).build();
        c.start();
        try {
            Request r = get(originPort);
            r.setDestinationContext(new AddressEndpointContext(f.proxyAddress));
            c.sendRequest(r);
            return r.waitForResponse(5000);
        } finally {
            c.destroy();
        }
    }

    @Test
    void RFC7252_5_7_1_plainHop_anUnrecognisedSafeToForwardOptionIsPassedOnAsItCame() throws Exception {
        try (RawOrigin origin = plainOrigin(RawOrigin.option(12, 65000, new byte[] {1, 2}));
             ProxyFixture f = new ProxyFixture(config())) {
            Response r = plainClient(f, origin.port());
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals(new byte[] {'h', 'i'}, r.getPayload());
            Option passed = r.getOptions().getOtherOption(65000);
            assertNotNull(passed, "Safe-to-Forward: forwarded although not recognised");
            assertArrayEquals(new byte[] {1, 2}, passed.getValue());
        }
    }

    @Test
    void RFC7252_5_7_1_plainHop_anUnrecognisedUnsafeOrCriticalOptionIs502() throws Exception {
        // 65002: elective but Unsafe; 65001: critical (Californium alone would discard the whole response)
        for (int n : new int[] {65002, 65001}) {
            try (RawOrigin origin = plainOrigin(RawOrigin.option(12, n, new byte[] {1, 2}));
                 ProxyFixture f = new ProxyFixture(config())) {
                long t0 = System.nanoTime();
                Response r = f.send(get(origin.port()));
                assertBadGateway(r, "origin response carries option " + n + ", which the proxy does not recognise",
                        (System.nanoTime() - t0) / 1_000_000);
            }
        }
        try (RawOrigin origin = plainOrigin(new byte[0]); ProxyFixture f = new ProxyFixture(config())) {
            Response r = f.send(get(origin.port()));
            assertEquals(ResponseCode.CONTENT, r.getCode(), "control");
            assertNull(r.getOptions().getOtherOption(65002));
        }
    }

    @Test
    void RFC7252_5_7_1_plainHop_aMalformedResponseIsDropped_502NotA504() throws Exception {
        // a payload marker with no payload after it (RFC 7252 3: a message format error)
        try (RawOrigin origin = new RawOrigin(req -> RawOrigin.ack(req, 0x45, RawOrigin.concat(CF_TEXT, new byte[] {(byte) 0xff})));
             ProxyFixture f = new ProxyFixture(config())) {
            long t0 = System.nanoTime();
            Response r = f.send(get(origin.port()));
            assertBadGateway(r, "malformed origin response", (System.nanoTime() - t0) / 1_000_000);
            assertEquals(0, f.proxy.upstreamWatches());
        }
    }
}
