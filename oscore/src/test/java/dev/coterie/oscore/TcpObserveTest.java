package dev.coterie.oscore;

import static dev.coterie.oscore.TcpTransportTest.CSM;
import static dev.coterie.oscore.TcpTransportTest.frame;
import static dev.coterie.oscore.TcpTransportTest.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.TcpTransportTest.Frame;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import dev.coterie.oscore.tcp.TcpObservations;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Observe over coap+tcp (RFC 8323 Section 7.2, RFC 7641, RFC 8613 Section 4.1.3.5; TCP-08), plain
 * (Californium's own TCP stack, seen from a raw socket) and OSCORE-protected (Coterie's
 * {@link OscoreTcpStack} on both sides). Loopback only; every wait is bounded.
 */
@Timeout(60)
class TcpObserveTest {
    static final TcpLimits LIMITS = new TcpLimits(8, 30, 5000, 1152);
    private CoapServer server;
    private CoapEndpoint plain;
    private CoapEndpoint oscore;
    private Counter obs;
    private final List<Response> oscoreWire = new CopyOnWriteArrayList<>();
    private final List<Request> oscoreWireRequests = new CopyOnWriteArrayList<>();

    /** /obs: payload "vN", N counting the changes. */
    static final class Counter extends CoapResource {
        final AtomicInteger n = new AtomicInteger();

        Counter() {
            super("obs");
            setObservable(true);
        }

        void tick() {
            n.incrementAndGet();
            changed();
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, "v" + n.get());
        }
    }

    @BeforeEach
    void start() throws Exception {
        TcpObservations observations = new TcpObservations();
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        plain = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setConnector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg, LIMITS, observations)).build();
        Configuration cfg2 = OscoreEndpointBuilder.defaultConfiguration();
        oscore = new OscoreEndpointBuilder().configuration(cfg2)
                .connector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg2, LIMITS, observations))
                .serverContexts(new InMemoryContextDb().add(TestContexts.server())).build();
        oscore.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                oscoreWireRequests.add(request);
            }

            @Override
            public void sendResponse(Response response) {
                oscoreWire.add(response);
            }
        });
        server = new CoapServer(cfg);
        server.addEndpoint(plain);
        server.addEndpoint(oscore);
        obs = new Counter();
        server.add(obs);
        server.setMessageDeliverer(observations.deliverer(server.getMessageDeliverer()));
        server.start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.destroy();
        }
    }

    /* ------------------------------------------------------------------ raw frames */

    /** Options (number, value) and payload of a frame's body. */
    record Parsed(List<Object[]> options, byte[] payload) {
        byte[] option(int number) {
            for (Object[] o : options) {
                if ((int) o[0] == number) {
                    return (byte[]) o[1];
                }
            }
            return null;
        }
    }

    static Parsed parse(byte[] b) {
        List<Object[]> opts = new ArrayList<>();
        int i = 0;
        int number = 0;
        while (i < b.length && (b[i] & 0xFF) != 0xFF) {
            int d = (b[i] & 0xFF) >>> 4;
            int l = b[i++] & 0x0F;
            if (d == 13) {
                d = 13 + (b[i++] & 0xFF);
            } else if (d == 14) {
                d = 269 + ((b[i++] & 0xFF) << 8 | (b[i++] & 0xFF));
            }
            if (l == 13) {
                l = 13 + (b[i++] & 0xFF);
            } else if (l == 14) {
                l = 269 + ((b[i++] & 0xFF) << 8 | (b[i++] & 0xFF));
            }
            number += d;
            opts.add(new Object[] {number, java.util.Arrays.copyOfRange(b, i, i + l)});
            i += l;
        }
        byte[] payload = i < b.length ? java.util.Arrays.copyOfRange(b, i + 1, b.length) : new byte[0];
        return new Parsed(opts, payload);
    }

    static long uint(byte[] v) {
        long x = 0;
        for (byte c : v) {
            x = x << 8 | (c & 0xFF);
        }
        return x;
    }

    static final int OBSERVE = 6;
    /** GET /obs with Observe 0 (register), token 42: Observe (6) empty, Uri-Path (11) "obs". */
    static final byte[] REGISTER = frame(0x01, new byte[] {0x42}, Hex.decode("60" + "536f6273"));
    /** GET /obs with Observe 1 (deregister), the same token. */
    static final byte[] DEREGISTER = frame(0x01, new byte[] {0x42}, Hex.decode("6101" + "536f6273"));

    private Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(8000);
        assertEquals(0xE1, read(s.getInputStream()).code(), "the server's CSM first");
        s.getOutputStream().write(CSM);
        return s;
    }

    /** Waits (bounded) until {@code count} is {@code expected}; returns the last value. */
    static int await(IntSupplier count, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
        int c = count.getAsInt();
        while (c != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
            c = count.getAsInt();
        }
        return c;
    }

    /** A 2.05 on token 42 with {@code payload}; returns its Observe value (null: none). */
    static Long content(Frame f, String payload) {
        assertEquals(0x45, f.code(), "2.05");
        assertArrayEquals(new byte[] {0x42}, f.token());
        Parsed p = parse(f.body());
        assertEquals(payload, new String(p.payload(), StandardCharsets.UTF_8));
        byte[] o = p.option(OBSERVE);
        return o == null ? null : uint(o);
    }

    @Test
    void TCP_08_notificationsOverTcpInOrderAndExplicitDeregistrationEndsTheRelation() throws Exception {
        try (Socket s = connect(plain.getAddress().getPort())) {
            s.getOutputStream().write(REGISTER);
            Long first = content(read(s.getInputStream()), "v0");
            assertNotNull(first, "the registration's answer carries Observe");
            assertEquals(1, await(obs::getObserverCount, 1), "one observer");
            // notifications: frames (no Type, no Message ID, nothing to acknowledge) on the registration's token
            long previous = first;
            for (int i = 1; i <= 3; i++) {
                obs.tick();
                Long v = content(read(s.getInputStream()), "v" + i);
                assertNotNull(v, "notification " + i + " carries Observe");
                assertTrue(v > previous, "Observe values rise in the order sent: " + previous + " then " + v);
                previous = v;
            }
            // explicit deregistration (RFC 8323 Section 7.2: the only way short of closing): GET with Observe 1
            s.getOutputStream().write(DEREGISTER);
            assertNull(content(read(s.getInputStream()), "v3"), "the answer to Observe 1 is a plain 2.05, no Observe");
            assertEquals(0, await(obs::getObserverCount, 0), "no observer left");
            obs.tick();
            s.setSoTimeout(700);
            try {
                Frame f = read(s.getInputStream());
                throw new AssertionError("a frame after the deregistration: code " + f.code());
            } catch (SocketTimeoutException expected) {
                // no notification (while three came before it)
            }
        }
    }

    @Test
    void TCP_08_closingTheConnectionEndsItsObservations() throws Exception {
        try (Socket a = connect(plain.getAddress().getPort()); Socket b = connect(plain.getAddress().getPort())) {
            a.getOutputStream().write(REGISTER);
            b.getOutputStream().write(REGISTER);
            content(read(a.getInputStream()), "v0");
            content(read(b.getInputStream()), "v0");
            assertEquals(2, await(obs::getObserverCount, 2), "two observers, one per connection");
            a.close();
            // no notification is needed to find out: the close alone ends a's observation
            assertEquals(1, await(obs::getObserverCount, 1), "a's observation ended with its connection");
            // positive control: b's, on its open connection, goes on
            obs.tick();
            assertNotNull(content(read(b.getInputStream()), "v1"));
            assertEquals(1, obs.getObserverCount());
        }
        assertEquals(0, await(obs::getObserverCount, 0), "b's ended with its connection too");
    }

    /** A Coterie OSCORE client over coap+tcp, its notifications (after the first answer) in {@code into}. */
    private CoapEndpoint oscoreClient(BlockingQueue<Response> into) throws Exception {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint client = new OscoreEndpointBuilder().configuration(cfg)
                .connector(TcpConnectors.client(cfg, LIMITS))
                .clientBinding(new ClientContextBinding().endpointDefault(TestContexts.client())).build();
        client.addNotificationListener((request, response) -> into.add(response));
        client.start();
        return client;
    }

    @Test
    void TCP_08_oscoreObserveOverTcpNotificationsDeregistrationAndClose() throws Exception {
        BlockingQueue<Response> notes = new LinkedBlockingQueue<>();
        CoapEndpoint client = oscoreClient(notes);
        String uri = "coap+tcp://127.0.0.1:" + oscore.getAddress().getPort() + "/obs";
        try {
            Request register = Request.newGet();
            register.setURI(uri);
            register.setObserve();
            client.sendRequest(register);
            Response r0 = register.waitForResponse(10_000);
            assertNotNull(r0, "the registration is answered");
            assertEquals(ResponseCode.CONTENT, r0.getCode());
            assertEquals("v0", r0.getPayloadString());
            assertTrue(r0.getOptions().hasObserve());
            assertEquals(1, await(obs::getObserverCount, 1));
            for (int i = 1; i <= 3; i++) {
                obs.tick();
                Response n = notes.poll(10, TimeUnit.SECONDS);
                assertNotNull(n, "notification " + i);
                assertEquals(ResponseCode.CONTENT, n.getCode());
                assertEquals("v" + i, n.getPayloadString(), "in the order sent");
                assertTrue(n.getOptions().hasObserve());
            }
            // on the wire: outer FETCH with Observe 0 (RFC 8613 Section 4.2), every answer outer 2.05 with Observe and OSCORE
            Request wireRegister = oscoreWireRequests.get(0);
            assertEquals(Code.FETCH, wireRegister.getCode());
            assertEquals(Integer.valueOf(0), wireRegister.getOptions().getObserve());
            assertNotNull(wireRegister.getOptions().getOscore());
            assertEquals(4, oscoreWire.size());
            long previousPiv = -1;
            for (Response w : oscoreWire) {
                assertEquals(ResponseCode.CONTENT, w.getCode(), "a notification's outer code is 2.05");
                assertTrue(w.getOptions().hasObserve());
                byte[] oscoreOption = w.getOptions().getOscore();
                if (w != oscoreWire.get(0)) {
                    // each notification has its own Partial IV (RFC 8613 Section 4.1.3.5.1), rising with TCP's order
                    OscoreOptionValue v = OscoreOptionValue.decode(oscoreOption, false);
                    long piv = uint(v.partialIv());
                    assertTrue(piv > previousPiv, "Partial IVs rise: " + previousPiv + " then " + piv);
                    previousPiv = piv;
                }
            }
            // explicit deregistration: GET with Observe 1 on the same token, protected like the registration
            Request cancel = Request.newGet();
            cancel.setURI(uri);
            cancel.setObserveCancel();
            cancel.setToken(register.getToken());
            client.sendRequest(cancel);
            Response rc = cancel.waitForResponse(10_000);
            assertNotNull(rc, "the deregistration is answered");
            assertEquals(ResponseCode.CONTENT, rc.getCode());
            assertEquals("v3", rc.getPayloadString());
            assertTrue(!rc.getOptions().hasObserve(), "no Observe: the relation ended");
            assertEquals(0, await(obs::getObserverCount, 0));
            assertEquals(Integer.valueOf(1), oscoreWireRequests.get(1).getOptions().getObserve(), "outer Observe 1");

            // a second registration, then the client goes away: its connection closes, the observation ends
            Request again = Request.newGet();
            again.setURI(uri);
            again.setObserve();
            client.sendRequest(again);
            assertNotNull(again.waitForResponse(10_000));
            assertEquals(1, await(obs::getObserverCount, 1), "positive control: observing again");
        } finally {
            client.destroy();
        }
        assertEquals(0, await(obs::getObserverCount, 0), "the client's connection closed: no observer");
    }

    @Test
    void TCP_08_aClientIgnoresTheObserveValueOfNotificationsOverTcp() throws Exception {
        // RFC 8323 Section 7.2: the value MAY be empty when sent and MUST be ignored on reception, TCP keeps the order
        try (java.net.ServerSocket peer = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
            CoapEndpoint client = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(TcpConnectors.client(cfg, LIMITS)).build();
            BlockingQueue<Response> notes = new LinkedBlockingQueue<>();
            client.addNotificationListener((request, response) -> notes.add(response));
            client.start();
            try {
                Request register = Request.newGet();
                register.setURI("coap+tcp://127.0.0.1:" + peer.getLocalPort() + "/obs");
                register.setObserve();
                List<String> onResponse = new CopyOnWriteArrayList<>();
                register.addMessageObserver(new org.eclipse.californium.core.coap.MessageObserverAdapter() {
                    @Override
                    public void onResponse(Response response) {
                        onResponse.add(response.getPayloadString());
                    }
                });
                client.sendRequest(register);
                try (Socket s = peer.accept()) {
                    s.setSoTimeout(8000);
                    assertEquals(0xE1, read(s.getInputStream()).code(), "the client's CSM");
                    s.getOutputStream().write(CSM);
                    Frame get = read(s.getInputStream());
                    assertEquals(0x01, get.code());
                    byte[] token = get.token();
                    // 2.05 Observe 5 "a", then Observe 3 "b" (lower: over UDP a reordered, stale one), then an empty Observe "c"
                    s.getOutputStream().write(frame(0x45, token, Hex.decode("6105ff61")));
                    // the next ones only once the first was delivered: Californium 3.13 drops a notification that
                    // arrives while the registration's answer is still being processed (see docs/conformance.md TCP-08)
                    Response first = register.waitForResponse(10_000);
                    assertNotNull(first);
                    assertEquals("a", first.getPayloadString());
                    s.getOutputStream().write(frame(0x45, token, Hex.decode("6103ff62")));
                    s.getOutputStream().write(frame(0x45, token, Hex.decode("60ff63")));
                    s.getOutputStream().write(frame(0x45, token, Hex.decode("6106ff64")));
                    List<String> got = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        Response n = notes.poll(5, TimeUnit.SECONDS);
                        if (n == null) {
                            break;
                        }
                        got.add(n.getPayloadString());
                    }
                    // b and c are delivered although their values do not rise, and d after them: arrival order
                    assertEquals(List.of("b", "c", "d"), got, "onResponse saw " + onResponse);
                    assertEquals(List.of("a"), onResponse, "the registration's own answer went to the request");
                }
            } finally {
                client.destroy();
            }
        }
    }
}
