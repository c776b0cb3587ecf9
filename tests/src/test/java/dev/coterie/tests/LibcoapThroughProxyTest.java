package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
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
    }

    @Test
    void libcoapClientBlockwiseGet_64ByteBlocks_throughTheProxy() throws Exception {
        Libcoap.Run get = viaProxy(List.of("-m", "get", "-b", "64"), "/large");
        origin.dumpWire();
        assertEquals(0, get.exit(), get.log());
        assertEquals("2.05", get.lastCode(), get.responseCodes().toString());
        assertArrayEquals(LARGE, get.body(), "2000 bytes reassembled by coap-client");
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

    @Test
    void californiumClientThroughTheProxy_toLibcoapServer() throws Exception {
        int port = freeUdpPort();
        Path log = dir.resolve("coap-server.log");
        Process server = libcoap.startServer(port, log);
        CoapEndpoint client = plainClient();
        try {
            InetSocketAddress direct = new InetSocketAddress("127.0.0.1", port);
            Response ready = null;
            for (int i = 0; i < 20 && ready == null; i++) {
                Request probe = Request.newGet();
                ready = send(client, direct, probe);
                if (ready == null) {
                    Thread.sleep(250);
                }
            }
            assertNotNull(ready, "coap-server answers a direct GET /");

            // coap-server is not a proxy: a Proxy-Uri sent to it directly is refused with 5.05
            Request toServer = Request.newGet();
            toServer.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/time");
            Response refused = send(client, direct, toServer);
            System.out.println("direct Proxy-Uri to coap-server: " + refused);

            Request root = Request.newGet();
            root.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/");
            Response r = send(client, proxy.address, root);
            System.out.println("root via proxy: " + r + " " + (r == null ? "" : r.getPayloadString()));
            assertNotNull(r);
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertTrue(r.getPayloadString().startsWith("This is a test server made with libcoap"), r.getPayloadString());

            Request time = Request.newGet();
            time.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/time");
            Response t = send(client, proxy.address, time);
            System.out.println("time via proxy: " + t + " " + (t == null ? "" : t.getPayloadString()));
            assertNotNull(t);
            assertEquals(ResponseCode.CONTENT, t.getCode());

            Request missing = Request.newGet();
            missing.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/no-such-thing");
            Response m = send(client, proxy.address, missing);
            System.out.println("missing via proxy: " + m);

            Request put = Request.newPut();
            put.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/example_data");
            put.setPayload(BODY);
            Response p = send(client, proxy.address, put);
            System.out.println("put example_data via proxy: " + p);
            Request get = Request.newGet();
            get.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/example_data");
            Response g = send(client, proxy.address, get);
            System.out.println("get example_data via proxy: " + g + " len " + (g == null ? -1 : g.getPayloadSize()));
        } finally {
            client.destroy();
            Libcoap.stop(server);
            System.out.println("---- coap-server log\n" + Files.readString(log, StandardCharsets.ISO_8859_1));
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
