package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.proxy.ProxyMetrics;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * libcoap 4.3.1 (Debian's libcoap3-bin) as an independent peer on either side of the Coterie
 * proxy, over loopback UDP: coap-client through the proxy (-P) to a Californium origin, and a
 * Californium client through the proxy (Proxy-Uri) to coap-server as the origin.
 *
 * <p>Block-wise works through the proxy today, hop by hop: Californium's block-wise layer in the
 * proxy's front endpoint reassembles a client's Block1 body and serves Block2 follow-ups from a
 * body its upstream endpoint reassembled; the proxy forwards one whole request per transfer
 * (the tests assert that, so a change to pass-through is noticed). An observation of coap-server
 * is relayed: the proxy registers upstream and the client is registered with the proxy. libcoap's binaries come from tests/scripts/ensure-libcoap.sh; the class
 * fails, never skips, when they cannot be installed.
 */
@Timeout(120)
class LibcoapThroughProxyTest {
    /** 1500 bytes: more than one 1024-byte message, 24 blocks of 64. */
    static final byte[] BODY = body(1500);
    /** 2000 bytes served by the origin's /large. */
    static final byte[] LARGE = body(2000);

    static Libcoap libcoap;

    @TempDir
    Path dir;
    private RecordingOrigin origin;
    private ProxyUnderTest proxy;

    @BeforeAll
    static void libcoapIsThere() {
        libcoap = Libcoap.ensure(); // fails the class, with the reason, when it cannot be installed
    }

    @BeforeEach
    void start() throws Exception {
        origin = new RecordingOrigin();
        proxy = new ProxyUnderTest();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    static byte[] body(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + (i * 7 + i / 26) % 26);
        }
        return b;
    }

    private Libcoap.Run viaProxy(List<String> args, String path) throws Exception {
        Libcoap.Run run = libcoap.client(dir, 10, concat(List.of("-P", proxy.uri()), args),
                "coap://127.0.0.1:" + origin.port() + path);
        System.out.println("---- coap-client " + args + " " + path + " exit " + run.exit() + "\n" + run.log());
        return run;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static int hopLimit(Request r) {
        Option o = r.getOptions().getOtherOption(ExtensionOptionRegistry.HOP_LIMIT.getNumber());
        return o == null ? -1 : o.getValue()[0] & 0xff;
    }

    // ---- (a) coap-client -> Coterie proxy -> Californium origin ----

    @Test
    void libcoapClientGetThroughTheProxy() throws Exception {
        Libcoap.Run run = viaProxy(List.of("-m", "get"), "/hello");
        assertEquals(0, run.exit(), run.log());
        assertTrue(run.sentRequests().stream().anyMatch(s -> s.contains("Proxy-Uri:coap://127.0.0.1:" + origin.port() + "/hello")),
                "coap-client sent the request to the proxy with Proxy-Uri: " + run.sentRequests());
        assertEquals(List.of("2.05"), run.responseCodes());
        assertEquals("hello from Californium", run.bodyText());
        RecordingOrigin.Seen seen = origin.handled.get(0);
        assertEquals(1, origin.handled.size());
        assertEquals("GET", seen.code);
        assertEquals(List.of("hello"), seen.request.getOptions().getUriPath());
        assertFalse(seen.request.getOptions().hasProxyUri(), "the proxy took Proxy-Uri off");
        assertEquals(15, hopLimit(seen.request), "coap-client's Hop-Limit 16, one less after the proxy (RFC 8768)");
    }

    @Test
    void libcoapClientPutThroughTheProxy_thenGetsWhatItPut() throws Exception {
        Libcoap.Run put = viaProxy(List.of("-m", "put", "-e", "lamp=on", "-t", "0"), "/store");
        assertEquals(0, put.exit(), put.log());
        assertEquals(List.of("2.04"), put.responseCodes());
        assertEquals(1, origin.handled.size());
        assertEquals("PUT", origin.handled.get(0).code);
        assertEquals("lamp=on", new String(origin.handled.get(0).payload, StandardCharsets.UTF_8));
        assertEquals(0, origin.handled.get(0).request.getOptions().getContentFormat());

        Libcoap.Run get = viaProxy(List.of("-m", "get"), "/store");
        assertEquals(List.of("2.05"), get.responseCodes());
        assertEquals("lamp=on", get.bodyText());
    }

    @Test
    void libcoapClientBlockwisePut_64ByteBlocks_throughTheProxy() throws Exception {
        Path file = dir.resolve("put.bin");
        Files.write(file, BODY);
        Libcoap.Run put = viaProxy(List.of("-m", "put", "-b", "64", "-f", file.toString()), "/store");
        origin.dumpWire();
        assertEquals(0, put.exit(), put.log());
        long blocks = put.sentRequests().stream().filter(s -> s.contains("Block1:")).count();
        assertTrue(blocks >= 24, "coap-client sent the body in 64-byte Block1 blocks: " + blocks);
        assertEquals("2.04", put.lastCode(), put.responseCodes().toString());
        assertEquals(1, origin.handled.size());
        assertArrayEquals(BODY, origin.handled.get(0).payload, "the origin got the whole 1500 bytes");
        // what happens today: the proxy's front endpoint (Californium's block-wise layer) reassembles the
        // 24 blocks, the proxy forwards one 1500-byte request, and its upstream endpoint cuts that into its
        // own 512-byte blocks: block-wise is hop-by-hop, blocks are not passed through one by one
        assertEquals(1.0, proxy.proxy.metrics().count(ProxyMetrics.Outcome.FORWARDED));
        assertEquals(3, origin.wire.size(), "the origin saw 3 blocks of 512, not coap-client's 24 of 64");
        for (Request r : origin.wire) {
            assertEquals(512, r.getOptions().getBlock1().getSize());
        }
    }

    @Test
    void libcoapClientBlockwiseGet_64ByteBlocks_throughTheProxy() throws Exception {
        Libcoap.Run get = viaProxy(List.of("-m", "get", "-b", "64"), "/large");
        origin.dumpWire();
        assertEquals(0, get.exit(), get.log());
        assertEquals("2.05", get.lastCode(), get.responseCodes().toString());
        assertArrayEquals(LARGE, get.body(), "2000 bytes reassembled by coap-client");
        assertEquals(32, get.sentRequests().size(), "coap-client asked for 32 blocks of 64");
        // what happens today: the proxy forwards the first request once (with coap-client's Block2 size as
        // early negotiation), its upstream endpoint fetches all 32 blocks and reassembles them, and the
        // front endpoint serves coap-client's follow-up blocks from that body
        assertEquals(1.0, proxy.proxy.metrics().count(ProxyMetrics.Outcome.FORWARDED));
        assertEquals(1, origin.handled.size());
        assertEquals(32, origin.wire.size());
        assertEquals(64, origin.wire.get(0).getOptions().getBlock2().getSize());
    }

    @Test
    void libcoapClient_deniedTarget401_allowedTarget205() throws Exception {
        proxy.close();
        proxy = new ProxyUnderTest(ProxyUnderTest.FORWARD_ANY.replace("allow: [{origin: '*'}]",
                "allow: [{origin: '127.0.0.1:" + origin.port() + "', path_prefix: /hello}]"));
        Libcoap.Run denied = viaProxy(List.of("-m", "put", "-e", "x"), "/store");
        assertEquals(List.of("4.01"), denied.responseCodes());
        assertEquals(0, origin.handled.size(), "a denied request never reaches the origin");
        Libcoap.Run allowed = viaProxy(List.of("-m", "get"), "/hello");
        assertEquals(List.of("2.05"), allowed.responseCodes(), "positive control: an allowed target is forwarded");
        assertEquals("hello from Californium", allowed.bodyText());
        assertEquals(1, origin.handled.size());
    }

    // ---- (b) Californium client -> Coterie proxy -> coap-server ----

    static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** A plain Californium client endpoint, with Coterie's option registry (Hop-Limit, Proxy-Cri). */
    static CoapEndpoint plainClient() throws Exception {
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        ep.start();
        return ep;
    }

    static Response send(CoapEndpoint ep, InetSocketAddress to, Request r) throws InterruptedException {
        r.setDestinationContext(new AddressEndpointContext(to));
        ep.sendRequest(r);
        return r.waitForResponse(5000);
    }

    /** coap-server on a free loopback port, up (it answered a direct GET /) before the test uses it. */
    final class LibcoapServer implements AutoCloseable {
        final int port;
        final Path log = dir.resolve("coap-server-" + System.nanoTime() + ".log");
        final InetSocketAddress address;
        private final Process process;

        LibcoapServer(CoapEndpoint probe) throws Exception {
            port = freeUdpPort();
            address = new InetSocketAddress("127.0.0.1", port);
            process = libcoap.startServer(port, log);
            Response ready = null;
            for (int i = 0; i < 20 && ready == null && process.isAlive(); i++) {
                Request r = Request.newGet();
                r.setDestinationContext(new AddressEndpointContext(address));
                probe.sendRequest(r);
                ready = r.waitForResponse(500);
            }
            if (ready == null) {
                close();
                throw new AssertionError("coap-server did not answer on " + address + ":\n" + log());
            }
        }

        String uri(String path) {
            return "coap://127.0.0.1:" + port + path;
        }

        String log() throws Exception {
            return Files.readString(log, StandardCharsets.ISO_8859_1);
        }

        /** Requests coap-server logged as received for {@code path} (libcoap prints Uri-Path:seg options). */
        List<String> received(String uriPath) throws Exception {
            return Libcoap.receivedRequests(log()).stream().filter(s -> s.contains("Uri-Path:" + uriPath)).toList();
        }

        @Override
        public void close() throws Exception {
            Libcoap.stop(process);
        }
    }

    private Request proxied(Request r, LibcoapServer s, String path) {
        r.getOptions().setProxyUri(s.uri(path));
        return r;
    }

    @Test
    void TCP_UP_libcoapServerAsACoapTcpOrigin_udpClientThroughTheProxy() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            // coap-server listens on coap+tcp at the same port as on coap (libcoap's default endpoints)
            Request r = Request.newGet();
            r.getOptions().setProxyUri("coap+tcp://127.0.0.1:" + server.port + "/time");
            Response time = send(client, proxy.address, r);
            assertNotNull(time, "answer to GET coap+tcp:///time through the proxy");
            assertEquals(ResponseCode.CONTENT, time.getCode(), time.getPayloadString());
            assertTrue(time.getPayloadString().matches("[A-Z][a-z]{2} \\d{2} \\d{2}:\\d{2}:\\d{2}"), time.getPayloadString());
            String log = server.log();
            // coap-server logs the proxy's CSM (RFC 8323 5.3) on its TCP session before the request
            assertTrue(log.contains("CSM"), "the proxy's CSM reached coap-server: " + log);
            List<String> seen = server.received("time");
            assertEquals(1, seen.size(), log);
            assertFalse(seen.get(0).contains("Proxy-Uri"), seen.get(0));
        } finally {
            client.destroy();
        }
    }

    @Test
    void californiumClientThroughTheProxy_getsLibcoapServerRootAndTime() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            Response root = send(client, proxy.address, proxied(Request.newGet(), server, "/"));
            assertNotNull(root, "answer to GET / through the proxy");
            assertEquals(ResponseCode.CONTENT, root.getCode());
            assertTrue(root.getPayloadString().startsWith("This is a test server made with libcoap"), root.getPayloadString());

            Response time = send(client, proxy.address, proxied(Request.newGet(), server, "/time"));
            assertNotNull(time, "answer to GET /time through the proxy");
            assertEquals(ResponseCode.CONTENT, time.getCode());
            // coap-server's clock, e.g. "Dec 02 01:20:44"
            assertTrue(time.getPayloadString().matches("[A-Z][a-z]{2} \\d{2} \\d{2}:\\d{2}:\\d{2}"), time.getPayloadString());

            List<String> seen = server.received("time");
            assertEquals(1, seen.size(), server.log());
            assertFalse(seen.get(0).contains("Proxy-Uri"), "the proxy took Proxy-Uri off: " + seen.get(0));
            assertTrue(seen.get(0).contains("Hop-Limit:16"), "the proxy inserted Hop-Limit with its default 16 (RFC 8768): " + seen.get(0));
            assertEquals(2.0, proxy.proxy.metrics().count(ProxyMetrics.Outcome.FORWARDED));
        } finally {
            client.destroy();
        }
    }

    @Test
    void libcoapServerRefusesAProxyUriSentToItDirectly505_throughTheProxyItIsAnswered205() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            Response direct = send(client, server.address, proxied(Request.newGet(), server, "/time"));
            assertNotNull(direct);
            assertEquals(ResponseCode.PROXY_NOT_SUPPORTED, direct.getCode(), "coap-server without -P is not a proxy");
            Response viaProxy = send(client, proxy.address, proxied(Request.newGet(), server, "/time"));
            assertNotNull(viaProxy);
            assertEquals(ResponseCode.CONTENT, viaProxy.getCode(), "positive control: the proxy turned Proxy-Uri into Uri-Path");
        } finally {
            client.destroy();
        }
    }

    @Test
    void libcoapServersNotFoundIsRelayed404_anExistingResourceIs205() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            Response missing = send(client, proxy.address, proxied(Request.newGet(), server, "/no-such-thing"));
            assertNotNull(missing);
            assertEquals(ResponseCode.NOT_FOUND, missing.getCode());
            assertEquals(1, server.received("no-such-thing").size(), "the 4.04 is coap-server's, not the proxy's");
            Response root = send(client, proxy.address, proxied(Request.newGet(), server, "/"));
            assertEquals(ResponseCode.CONTENT, root.getCode(), "positive control");
        } finally {
            client.destroy();
        }
    }

    @Test
    void californiumBlockwisePutAndGet_throughTheProxy_toLibcoapServer() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            Request put = proxied(Request.newPut(), server, "/example_data");
            put.setPayload(BODY);
            Response p = send(client, proxy.address, put);
            assertNotNull(p);
            assertTrue(p.getCode() == ResponseCode.CREATED || p.getCode() == ResponseCode.CHANGED, p.toString());
            List<String> blocks = server.received("example_data");
            assertTrue(blocks.size() >= 2 && blocks.stream().allMatch(b -> b.contains("Block1:")),
                    "1500 bytes reached coap-server in Block1 blocks: " + blocks);

            Response g = send(client, proxy.address, proxied(Request.newGet(), server, "/example_data"));
            assertNotNull(g);
            assertEquals(ResponseCode.CONTENT, g.getCode());
            assertArrayEquals(BODY, g.getPayload(), "coap-server stored the reassembled 1500 bytes and served them back");
        } finally {
            client.destroy();
        }
    }

    /**
     * Observe through the proxy (RFC 7641 Section 5): the registration reaches coap-server with
     * Observe and the client is registered with the proxy. The control is the same registration
     * sent to coap-server directly.
     */
    @Test
    void RFC7641_5_anObservationOfCoapServerIsRelayedThroughTheProxy() throws Exception {
        CoapEndpoint client = plainClient();
        try (LibcoapServer server = new LibcoapServer(client)) {
            Request directReg = Request.newGet();
            directReg.setURI(server.uri("/time"));
            directReg.setObserve();
            Response d = send(client, server.address, directReg);
            assertNotNull(d);
            assertTrue(d.getOptions().hasObserve(), "control: /time is observable at coap-server: " + d);
            directReg.cancel();

            Request reg = proxied(Request.newGet(), server, "/time");
            reg.setObserve();
            Response r = send(client, proxy.address, reg);
            assertNotNull(r);
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertTrue(r.getOptions().hasObserve(), "registered through the proxy: " + r);
            List<String> upstream = server.received("time");
            String last = upstream.get(upstream.size() - 1);
            assertTrue(last.contains("Observe"), "the proxy registered upstream: " + last);
            reg.cancel();
        } finally {
            client.destroy();
        }
    }

    /** A plain Californium origin that records what it handled and, below block-wise, what arrived on the wire. */
    static final class RecordingOrigin implements AutoCloseable {
        record Seen(String code, Request request, byte[] payload) {
        }

        final CoapServer server;
        final CoapEndpoint endpoint;
        final List<Seen> handled = new CopyOnWriteArrayList<>();
        final List<Request> wire = new CopyOnWriteArrayList<>();
        volatile byte[] stored = new byte[0];

        RecordingOrigin() {
            server = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
            endpoint = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                    .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                    .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
            endpoint.addInterceptor(new MessageInterceptorAdapter() {
                @Override
                public void receiveRequest(Request request) {
                    wire.add(request);
                }
            });
            server.addEndpoint(endpoint);
            server.add(new CoapResource("hello") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    seen(exchange);
                    exchange.respond(ResponseCode.CONTENT, "hello from Californium", 0);
                }
            });
            server.add(new CoapResource("store") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    seen(exchange);
                    exchange.respond(ResponseCode.CONTENT, stored);
                }

                @Override
                public void handlePUT(CoapExchange exchange) {
                    seen(exchange);
                    stored = exchange.getRequestPayload();
                    exchange.respond(ResponseCode.CHANGED);
                }
            });
            server.add(new CoapResource("large") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    seen(exchange);
                    exchange.respond(ResponseCode.CONTENT, LARGE);
                }
            });
            server.start();
        }

        private void seen(CoapExchange exchange) {
            Request r = exchange.advanced().getRequest();
            handled.add(new Seen(r.getCode().name(), r, r.getPayload() == null ? new byte[0] : r.getPayload().clone()));
        }

        void dumpWire() {
            System.out.println("---- origin wire (" + wire.size() + " requests)");
            for (Request r : wire) {
                System.out.println(r.getCode() + " " + r.getOptions() + " payload " + r.getPayloadSize());
            }
            System.out.println("---- origin handled " + handled.size());
            for (Seen s : handled) {
                System.out.println(s.code + " " + s.request.getOptions() + " payload " + s.payload.length);
            }
        }

        int port() {
            return endpoint.getAddress().getPort();
        }

        @Override
        public void close() {
            server.destroy();
        }
    }
}
