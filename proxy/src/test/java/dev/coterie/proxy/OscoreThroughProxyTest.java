package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestProtector;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSCORE across the proxy: end to end through a proxy that has no end-to-end keys (OSC-21), a
 * client-to-proxy hop layer (OCP-05, OCP-06, access control by the verifying context), and both
 * at once (OSCORE-in-OSCORE, OCP-01, OCP-03), checked on the wire.
 */
class OscoreThroughProxyTest {
    private static final byte[] E2E_SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] HOP_SECRET = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SERVER = {0x05};
    private static final byte[] PROXY = {0x0b};

    @TempDir
    Path state;
    private CoapServer originServer;
    private final List<Request> atOrigin = new CopyOnWriteArrayList<>();
    private int originPort;
    private Origin plainOrigin;

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(state, name, secret, SALT, sender, recipient);
    }

    @BeforeEach
    void origins() throws Exception {
        InMemoryContextDb db = new InMemoryContextDb().add(context("server-e2e", E2E_SECRET, SERVER, CLIENT));
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).serverContexts(db).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atOrigin.add(request); // as it came off the wire, before the OSCORE layer
            }
        });
        originServer = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        originServer.addEndpoint(ep);
        originServer.add(new CoapResource("secret") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "hello");
            }
        });
        originServer.start();
        originPort = ep.getAddress().getPort();
        plainOrigin = new Origin();
    }

    @AfterEach
    void stop() {
        originServer.destroy();
        plainOrigin.close();
    }

    private String config(String access) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 2000}\naccess:\n" + access;
    }

    private static CoapEndpoint client(RequestProtector view, List<Request> sent) {
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .clientBinding(new ClientContextBinding().endpointDefault(view)).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void sendRequest(Request request) {
                sent.add(request); // the protected request as it goes on the wire
            }
        });
        return ep;
    }

    private static Response send(CoapEndpoint ep, Request r, InetSocketAddress to) throws Exception {
        ep.start();
        r.setDestinationContext(new AddressEndpointContext(to));
        ep.sendRequest(r);
        return r.waitForResponse(5000);
    }

    @Test
    void OSC_21_endToEndOscorePassesThroughAProxyWithoutKeys() throws Exception {
        String access = "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + originPort + "'}]}\n";
        try (ProxyFixture f = new ProxyFixture(config(access))) {
            List<Request> sent = new CopyOnWriteArrayList<>();
            CoapEndpoint c = client(context("client-e2e", E2E_SECRET, CLIENT, SERVER).protector(), sent);
            try {
                Request r = Request.newGet();
                r.getOptions().setProxyUri("coap://127.0.0.1:" + originPort + "/secret");
                Response resp = send(c, r, f.proxyAddress);
                assertNotNull(resp);
                assertEquals(ResponseCode.CONTENT, resp.getCode());
                assertEquals("hello", resp.getPayloadString());
                Request wire = sent.get(0);
                assertEquals("coap://127.0.0.1:" + originPort, wire.getOptions().getProxyUri(),
                        "RFC 8613 4.1.3.3: only scheme and authority stay outer");
                assertEquals(0, wire.getOptions().getURIPathCount());
                Request there = atOrigin.get(0);
                assertArrayEquals(wire.getOptions().getOscore(), there.getOptions().getOscore(), "OSCORE option untouched");
                assertArrayEquals(wire.getPayload(), there.getPayload(), "ciphertext untouched");
                assertFalse(there.getOptions().hasProxyUri());
                assertEquals(0.0, f.proxy.metrics().layersRemoved(), "the proxy removed no layer");
                assertEquals(0.0, f.proxy.metrics().layersAdded());
            } finally {
                c.destroy();
            }
        }
    }

    @Test
    void OCP_05_OCP_06_aHopLayerIsRemovedAndTheResponseProtectedWithIt_accessByTheVerifyingContext() throws Exception {
        int port = plainOrigin.port();
        String access = "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '127.0.0.1:" + port
                + "', path_prefix: /sensors}]}\n";
        OscoreContext proxySide = context("proxy-hop", HOP_SECRET, PROXY, CLIENT);
        try (ProxyFixture f = new ProxyFixture(config(access), List.of(proxySide), Map.of())) {
            List<Request> sent = new CopyOnWriteArrayList<>();
            CoapEndpoint c = client(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY).protector()), sent);
            try {
                Request r = Request.newGet();
                r.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/sensors/temp");
                Response resp = send(c, r, f.proxyAddress);
                assertEquals(ResponseCode.CONTENT, resp.getCode());
                assertEquals("21.5", resp.getPayloadString());
                Request wire = sent.get(0);
                assertFalse(wire.getOptions().hasProxyUri(), "Proxy-Uri is encrypted for the proxy (OCP-03)");
                assertTrue(wire.getOptions().hasOscore());
                assertEquals(List.of("sensors", "temp"), plainOrigin.last().getOptions().getUriPath());
                assertEquals(1.0, f.proxy.metrics().layersRemoved());
                assertNotNull(dev.coterie.oscore.OscorePeer.of(resp), "the response came back under the hop layer, verified");

                // the same client, to a target its rule does not list: 4.01, protected on the hop
                Request denied = Request.newGet();
                denied.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/slow");
                Response d = send(c, denied, f.proxyAddress);
                assertEquals(ResponseCode.UNAUTHORIZED, d.getCode());
                assertNotNull(dev.coterie.oscore.OscorePeer.of(d), "the denial was protected on the hop and verified");
            } finally {
                c.destroy();
            }
            // unauthenticated, the same target: not listed for unauthenticated
            Request plain = Request.newGet();
            plain.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/sensors/temp");
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(plain).getCode());
            assertEquals(1, plainOrigin.temperatureReads.get());
        }
    }

    @Test
    void OCP_01_OCP_03_endToEndInsideTheHopLayer_theWireShowsOnlyTheHopOscoreOption() throws Exception {
        String access = "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '127.0.0.1:" + originPort + "'}]}\n";
        OscoreContext proxySide = context("proxy-hop", HOP_SECRET, PROXY, CLIENT);
        try (ProxyFixture f = new ProxyFixture(config(access), List.of(proxySide), Map.of())) {
            ProtectionPipeline nested = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY, true);
            OscoreContext e2e = context("client-e2e", E2E_SECRET, CLIENT, SERVER);
            OscoreContext hop = context("client-hop", HOP_SECRET, CLIENT, PROXY);
            Request plain = Request.newGet();
            plain.getOptions().setProxyUri("coap://127.0.0.1:" + originPort + "/secret");
            plain.getOptions().addOption(ExtensionOptionRegistry.HOP_LIMIT.create(4));
            // OCP-01: the end-to-end layer first, then the layer of the proxy next to the client
            ProtectionPipeline.ProtectedRequest inner = nested.protectRequest(plain, e2e.protector());
            ProtectionPipeline.ProtectedRequest outer = nested.protectRequest(inner.wire(), RequestProtector.forProxy(hop.protector()));
            Request wire = outer.wire();
            List<Option> onWire = wire.getOptions().asSortedList();
            assertEquals(1, onWire.size(), "only the hop OSCORE option: " + onWire);
            assertEquals(OptionNumberRegistry.OSCORE, onWire.get(0).getNumber());
            Response r = f.send(wire);
            assertNotNull(r);
            ProtectionPipeline.Unprotected<Response> h = nested.unprotectResponse(r, outer.identifiers());
            assertTrue(h.plain().getOptions().hasOscore(), "inside the hop layer: the end-to-end response");
            ProtectionPipeline.Unprotected<Response> e = nested.unprotectResponse(h.plain(), inner.identifiers());
            assertEquals(ResponseCode.CONTENT, e.plain().getCode());
            assertEquals("hello", e.plain().getPayloadString());
            Request there = atOrigin.get(0);
            assertArrayEquals(inner.wire().getOptions().getOscore(), there.getOptions().getOscore());
            assertArrayEquals(inner.wire().getPayload(), there.getPayload());
            Option hopLimit = there.getOptions().getOtherOption(16);
            assertEquals(3, hopLimit.getValue()[0], "the client's Hop-Limit, decremented (it travelled encrypted)");
        }
    }

    @Test
    void OCP_04_aSecondLayerForTheProxyItselfGetsA401ProtectedWithTheHopLayer() throws Exception {
        String access = "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '*'}]}\n";
        OscoreContext proxySide = context("proxy-hop", HOP_SECRET, PROXY, CLIENT);
        try (ProxyFixture f = new ProxyFixture(config(access), List.of(proxySide), Map.of())) {
            ProtectionPipeline nested = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY, true);
            OscoreContext hop = context("client-hop", HOP_SECRET, CLIENT, PROXY);
            OscoreContext second = context("client-second", E2E_SECRET, CLIENT, PROXY);
            Request local = Request.newGet();
            local.getOptions().setUriPath("status"); // for the proxy itself, under two layers
            ProtectionPipeline.ProtectedRequest inner = nested.protectRequest(local, second.protector());
            ProtectionPipeline.ProtectedRequest outer = nested.protectRequest(inner.wire(), RequestProtector.forProxy(hop.protector()));
            Response r = f.send(outer.wire());
            assertNotNull(r);
            assertTrue(r.getOptions().hasOscore(), "the 4.01 is protected");
            ProtectionPipeline.Unprotected<Response> h = nested.unprotectResponse(r, outer.identifiers());
            assertEquals(ResponseCode.UNAUTHORIZED, h.plain().getCode());
            assertEquals("OSCORE layer limit", h.plain().getPayloadString());

            // positive control: the same hop layer around a request for an origin is forwarded
            Request fwd = Request.newGet();
            fwd.getOptions().setProxyUri("coap://127.0.0.1:" + plainOrigin.port() + "/sensors/temp");
            ProtectionPipeline.ProtectedRequest ok = nested.protectRequest(fwd, RequestProtector.forProxy(hop.protector()));
            Response okr = f.send(ok.wire());
            assertEquals("21.5", nested.unprotectResponse(okr, ok.identifiers()).plain().getPayloadString());
        }
    }

    @Test
    void OCP_03_uriHostIsEncryptedForTheProxyOnlyWithProxyScheme() throws Exception {
        dev.coterie.oscore.OptionClassifier c = new dev.coterie.oscore.OptionClassifier(ExtensionOptionRegistry.defaults(),
                InnerObserve.EMPTY);
        org.eclipse.californium.core.coap.OptionSet withScheme = new org.eclipse.californium.core.coap.OptionSet()
                .setProxyScheme("coap").setUriHost("lights.example").setUriPort(5690);
        dev.coterie.oscore.OptionClassifier.Split a = c.split(withScheme, dev.coterie.oscore.OptionClassifier.Role.REQUEST, false, true);
        assertTrue(a.outer.isEmpty(), "Proxy-Scheme, Uri-Host and Uri-Port all for the proxy: " + a.outer);
        org.eclipse.californium.core.coap.OptionSet reverse = new org.eclipse.californium.core.coap.OptionSet()
                .setUriHost("lights.example").setUriPort(5690);
        dev.coterie.oscore.OptionClassifier.Split b = c.split(reverse, dev.coterie.oscore.OptionClassifier.Role.REQUEST, false, true);
        assertEquals(2, b.outer.size(), "no Proxy-Scheme: Uri-Host and Uri-Port stay outer for a reverse proxy");
        dev.coterie.oscore.OptionClassifier.Split e2e = c.split(withScheme, dev.coterie.oscore.OptionClassifier.Role.REQUEST);
        assertEquals(3, e2e.outer.size(), "an end-to-end layer keeps them outer (RFC 8613 4.1.3.3)");
    }
}
