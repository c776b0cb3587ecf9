package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import dev.coterie.oscore.tcp.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.TcpEndpointContext;
import org.eclipse.californium.elements.TlsEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's upstream side over TCP and TLS (RFC 8323, RFC 7252 5.7): a UDP client's request
 * for a coap+tcp or coaps+tcp origin (Proxy-Uri, Proxy-Scheme with Uri-Host/Uri-Port, a reverse
 * route) leaves over a TCP connection; the answer comes back to the UDP client with its code,
 * options and payload. coaps+tcp origins are verified against upstream_tcp.trust or not reached
 * (5.02). Loopback only; every wait is bounded.
 */
@Timeout(120)
class ProxyUpstreamTcpTest {
    @TempDir
    Path tmp;
    private TcpOrigin origin;
    private CoapEndpoint client;

    @AfterEach
    void stop() {
        if (origin != null) {
            origin.close();
        }
        if (client != null) {
            client.destroy();
        }
    }

    /** A Coterie CoAP origin on coap+tcp (tls null) or coaps+tcp, recording what it gets. */
    static final class TcpOrigin implements AutoCloseable {
        final CoapServer server;
        final CoapEndpoint ep;
        final List<Request> received = new CopyOnWriteArrayList<>();
        final CoapResource observable;
        volatile int state = 1;
        /** Several blocks on each hop (512-byte blocks), under the default MAX_RESOURCE_BODY_SIZE of 8192. */
        static final byte[] BIG = new byte[6_000];

        static {
            for (int i = 0; i < BIG.length; i++) {
                BIG[i] = (byte) ('a' + i % 26);
            }
        }

        TcpOrigin(SSLContext tls) throws IOException {
            Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
            InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
            Connector c = tls == null ? TcpConnectors.server(bind, cfg, TcpLimits.DEFAULTS)
                    : TcpConnectors.tlsServer(tls, false, bind, cfg, TcpLimits.DEFAULTS);
            ep = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(c)
                    .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
            server = new CoapServer(cfg);
            server.addEndpoint(ep);
            server.add(new CoapResource("hello") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    received.add(exchange.advanced().getRequest());
                    Response r = new Response(ResponseCode.CONTENT);
                    r.getOptions().setContentFormat(0).setMaxAge(30).addETag(new byte[] {0x11, 0x22});
                    r.setPayload("over tcp");
                    exchange.respond(r);
                }
            });
            server.add(new CoapResource("slow") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    received.add(exchange.advanced().getRequest());
                }
            });
            server.add(new CoapResource("big") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    received.add(exchange.advanced().getRequest());
                    exchange.respond(ResponseCode.CONTENT, BIG);
                }
            });
            observable = new CoapResource("obs") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    received.add(exchange.advanced().getRequest());
                    exchange.respond(ResponseCode.CONTENT, "state " + state);
                }
            };
            observable.setObservable(true);
            server.add(observable);
            server.start();
        }

        int port() {
            return ep.getAddress().getPort();
        }

        Request last() {
            return received.get(received.size() - 1);
        }

        @Override
        public void close() {
            server.destroy();
        }
    }

    private static ProxyServer proxy(String yaml) throws Exception {
        return new ProxyServer(ProxyFixture.config(yaml), List.of(), Map.of()).start();
    }

    private static String yaml(String access, String extra) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 3000}\n"
                + "access: [{client: unauthenticated, allow: [" + access + "]}]\n" + extra;
    }

    private CoapEndpoint udpClient() throws IOException {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        client = new CoapEndpoint.Builder().setConfiguration(cfg).setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        client.start();
        return client;
    }

    private static String at(ProxyServer px) {
        return "coap://127.0.0.1:" + px.listenAddresses().get(0).getPort();
    }

    private static Request proxyUri(String uri) {
        Request r = Request.newGet();
        r.getOptions().setProxyUri(uri);
        return r;
    }

    private static void assertHello(Response r) {
        assertNotNull(r, "no answer");
        assertEquals(ResponseCode.CONTENT, r.getCode());
        assertEquals("over tcp", r.getPayloadString());
        assertEquals(0, r.getOptions().getContentFormat());
        long maxAge = r.getOptions().getMaxAge();
        assertTrue(maxAge > 0 && maxAge <= 30, "the origin's Max-Age (less its age when served from the cache): " + maxAge);
        assertArrayEquals(new byte[] {0x11, 0x22}, r.getOptions().getETags().get(0));
        assertNotEquals0(r.getMID());
    }

    private static void assertNotEquals0(int mid) {
        assertTrue(mid != Message.NONE, "the UDP client got a UDP message (with a Message ID)");
    }

    @Test
    void TCP_UP_01_udpClientToACoapTcpOrigin_proxyUriProxySchemeAndRoute() throws Exception {
        origin = new TcpOrigin(null);
        int p = origin.port();
        String extra = "routes: [{path_prefix: /t, origin: 'coap+tcp://127.0.0.1:" + p + "', strip_prefix: true}]\n";
        try (ProxyServer px = proxy(yaml("{origin: 'coap+tcp://127.0.0.1:" + p + "'}", extra))) {
            CoapEndpoint c = udpClient();
            Request fwd = proxyUri("coap+tcp://127.0.0.1:" + p + "/hello");
            fwd.setToken(new byte[] {1, 2, 3, 4});
            assertHello(ProxyTcpTest.send(c, fwd, at(px)));
            Request up = origin.last();
            assertTrue(up.getSourceContext() instanceof TcpEndpointContext, "the origin got it over TCP");
            assertEquals(List.of("hello"), up.getOptions().getUriPath());
            assertFalse(up.getOptions().hasProxyUri(), "no proxy options upstream");
            assertFalse(Arrays.equals(new byte[] {1, 2, 3, 4}, up.getTokenBytes()), "a new Token on the TCP hop");

            // Proxy-Scheme with Uri-Host/Uri-Port
            Request ps = Request.newGet();
            ps.getOptions().setProxyScheme("coap+tcp").setUriHost("127.0.0.1").setUriPort(p).addUriPath("hello").addUriQuery("via=scheme");
            ps.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(px.listenAddresses().get(0)));
            c.sendRequest(ps);
            assertHello(ps.waitForResponse(10_000));
            assertEquals(List.of("via=scheme"), origin.last().getOptions().getUriQuery(), "not from the cache: a new query");
            assertTrue(origin.last().getSourceContext() instanceof TcpEndpointContext);

            // a reverse route to the coap+tcp origin
            assertHello(ProxyTcpTest.send(c, Request.newGet(), at(px) + "/t/hello?via=route"));
            assertEquals(List.of("hello"), origin.last().getOptions().getUriPath(), "the route's prefix stripped");
            assertEquals(List.of("via=route"), origin.last().getOptions().getUriQuery());
            assertEquals(3, origin.received.size());
        }
    }

    @Test
    void TCP_UP_01_theSchemeIsPartOfTheOriginForAccess() throws Exception {
        origin = new TcpOrigin(null);
        int p = origin.port();
        // allowed: the UDP origin at the same host and port, not the coap+tcp one
        try (ProxyServer px = proxy(yaml("{origin: 'coap://127.0.0.1:" + p + "'}", ""))) {
            CoapEndpoint c = udpClient();
            Response r = ProxyTcpTest.send(c, proxyUri("coap+tcp://127.0.0.1:" + p + "/hello"), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.UNAUTHORIZED, r.getCode());
            assertTrue(origin.received.isEmpty());
        }
        // positive control: the same request with the coap+tcp origin allowed
        try (ProxyServer px = proxy(yaml("{origin: 'coap+tcp://127.0.0.1:" + p + "'}", ""))) {
            Response r = ProxyTcpTest.send(client, proxyUri("coap+tcp://127.0.0.1:" + p + "/hello"), at(px));
            assertHello(r);
        }
    }

    @Test
    void TCP_UP_02_coapsTcpOriginVerifiedAgainstUpstreamTrust() throws Exception {
        Path[] server = ProxyTcpTest.certificate(tmp, "origin", "CN=origin", "IP:127.0.0.1");
        Path[] other = ProxyTcpTest.certificate(tmp, "other", "CN=other", "IP:127.0.0.1");
        SSLContext tls = TlsFiles.server(server[0], System.getenv(ProxyTcpTest.PASS_ENV).toCharArray(), null);
        origin = new TcpOrigin(tls);
        int p = origin.port();
        String access = "{origin: 'coaps+tcp://127.0.0.1:" + p + "'}";
        String target = "coaps+tcp://127.0.0.1:" + p + "/hello";
        CoapEndpoint c = udpClient();
        try (ProxyServer px = proxy(yaml(access, "upstream_tcp: {trust: '" + server[1] + "'}\n"))) {
            assertHello(ProxyTcpTest.send(c, proxyUri(target), at(px)));
            assertTrue(origin.last().getSourceContext() instanceof TlsEndpointContext, "the origin got it over TLS");
        }
        int before = origin.received.size();
        // trusting another certificate: the handshake fails, 5.02, and nothing reaches the origin's resource
        try (ProxyServer px = proxy(yaml(access, "upstream_tcp: {trust: '" + other[1] + "'}\n"))) {
            Response r = ProxyTcpTest.send(c, proxyUri(target), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertFalse(r.getPayloadString().contains(System.getenv(ProxyTcpTest.PASS_ENV)));
        }
        // no trust configured: the proxy does not talk TLS unverified
        try (ProxyServer px = proxy(yaml(access, ""))) {
            Response r = ProxyTcpTest.send(c, proxyUri(target), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
            assertTrue(r.getPayloadString().contains("upstream_tcp.trust"), r.getPayloadString());
        }
        assertEquals(before, origin.received.size());
    }

    @Test
    void TCP_UP_02_maxTlsOriginsAnswers503WithMaxAge() throws Exception {
        Path[] server = ProxyTcpTest.certificate(tmp, "origin", "CN=origin", "IP:127.0.0.1,IP:127.0.0.2");
        SSLContext tls = TlsFiles.server(server[0], System.getenv(ProxyTcpTest.PASS_ENV).toCharArray(), null);
        origin = new TcpOrigin(tls);
        int p = origin.port();
        String access = "{origin: 'coaps+tcp://127.0.0.1:" + p + "'}, {origin: 'coaps+tcp://127.0.0.2:" + p + "'}";
        CoapEndpoint c = udpClient();
        try (ProxyServer px = proxy(yaml(access, "upstream_tcp: {trust: '" + server[1] + "', max_tls_origins: 1}\n"))) {
            assertHello(ProxyTcpTest.send(c, proxyUri("coaps+tcp://127.0.0.1:" + p + "/hello"), at(px)));
            Response r = ProxyTcpTest.send(c, proxyUri("coaps+tcp://127.0.0.2:" + p + "/hello"), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.SERVICE_UNAVAILABLE, r.getCode(), "a second TLS origin host over the limit");
            assertTrue(r.getOptions().hasMaxAge());
            // the first host still works
            assertHello(ProxyTcpTest.send(c, proxyUri("coaps+tcp://127.0.0.1:" + p + "/hello"), at(px)));
        }
    }

    @Test
    void TCP_UP_03_originDownIs502_silentOriginIs504() throws Exception {
        origin = new TcpOrigin(null);
        int p = origin.port();
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String access = "{origin: 'coap+tcp://127.0.0.1:" + p + "'}, {origin: 'coap+tcp://127.0.0.1:" + closed + "'}";
        String y = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 1000}\n"
                + "access: [{client: unauthenticated, allow: [" + access + "]}]\n";
        try (ProxyServer px = proxy(y)) {
            CoapEndpoint c = udpClient();
            Response down = ProxyTcpTest.send(c, proxyUri("coap+tcp://127.0.0.1:" + closed + "/hello"), at(px));
            assertNotNull(down);
            assertEquals(ResponseCode.BAD_GATEWAY, down.getCode());
            Response slow = ProxyTcpTest.send(c, proxyUri("coap+tcp://127.0.0.1:" + p + "/slow"), at(px));
            assertNotNull(slow);
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, slow.getCode());
            // positive control on the same proxy
            assertHello(ProxyTcpTest.send(c, proxyUri("coap+tcp://127.0.0.1:" + p + "/hello"), at(px)));
        }
    }

    @Test
    void TCP_UP_04_blockwiseFromATcpOriginToAUdpClient() throws Exception {
        origin = new TcpOrigin(null);
        int p = origin.port();
        try (ProxyServer px = proxy(yaml("{origin: 'coap+tcp://127.0.0.1:" + p + "'}", ""))) {
            CoapEndpoint c = udpClient();
            Response r = ProxyTcpTest.send(c, proxyUri("coap+tcp://127.0.0.1:" + p + "/big"), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals(TcpOrigin.BIG, r.getPayload(), "6 kB through the proxy, block-wise on each hop");
        }
    }

    @Test
    void TCP_UP_05_observeFromAUdpClientOfATcpOrigin_cancelReachesTheOrigin() throws Exception {
        origin = new TcpOrigin(null);
        int p = origin.port();
        try (ProxyServer px = proxy(yaml("{origin: 'coap+tcp://127.0.0.1:" + p + "'}", ""))) {
            CoapEndpoint c = udpClient();
            CoapClient cc = new CoapClient(at(px)).setEndpoint(c).setTimeout(5000L);
            BlockingQueue<CoapResponse> got = new LinkedBlockingQueue<>();
            Request reg = proxyUri("coap+tcp://127.0.0.1:" + p + "/obs");
            reg.setObserve();
            reg.setURI(at(px));
            CoapObserveRelation rel = cc.observe(reg, new CoapHandler() {
                @Override
                public void onLoad(CoapResponse response) {
                    got.add(response);
                }

                @Override
                public void onError() {
                }
            });
            try {
                CoapResponse first = got.poll(10, TimeUnit.SECONDS);
                assertNotNull(first, "the registration's answer");
                assertEquals("state 1", first.getResponseText());
                assertTrue(first.getOptions().hasObserve());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (origin.observable.getObserverCount() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, origin.observable.getObserverCount(), "the proxy observes the TCP origin");
                origin.state = 2;
                origin.observable.changed();
                CoapResponse second = got.poll(10, TimeUnit.SECONDS);
                assertNotNull(second, "a notification relayed to the UDP client");
                assertEquals("state 2", second.getResponseText());
                assertTrue(second.getOptions().getObserve() > first.getOptions().getObserve(), "Observe increases");
            } finally {
                rel.proactiveCancel();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (origin.observable.getObserverCount() > 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(0, origin.observable.getObserverCount(), "the last observer gone: cancelled upstream");
            cc.shutdown();
        }
    }

    @Test
    void TCP_UP_06_noMulticastOverTcp() throws Exception {
        try (ProxyServer px = proxy(yaml("{origin: '*'}", ""))) {
            CoapEndpoint c = udpClient();
            Response r = ProxyTcpTest.send(c, proxyUri("coap+tcp://224.0.1.187:5683/hello"), at(px));
            assertNotNull(r);
            assertEquals(ResponseCode.BAD_REQUEST, r.getCode());
            assertTrue(r.getPayloadString().contains("no multicast"), r.getPayloadString());
        }
    }
}
