package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * OSCORE over coap+tcp between two Coterie endpoints, and the RFC 8323 signaling of
 * {@link dev.coterie.oscore.tcp.SignalingHandler} seen from a raw TCP socket (TCP-01..06).
 * Loopback only; every wait is bounded.
 */
@Timeout(60)
class TcpTransportTest {
    /** short, so the stall tests end quickly; the same bound for CSM and for a partial frame */
    static final TcpLimits LIMITS = new TcpLimits(4, 30, 1500, 1152);
    private CoapServer server;
    private CoapEndpoint serverEndpoint;
    private final List<Request> wireRequests = new CopyOnWriteArrayList<>();
    private final List<Response> wireResponses = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        serverEndpoint = new OscoreEndpointBuilder().configuration(cfg)
                .connector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg, LIMITS))
                .serverContexts(new InMemoryContextDb().add(TestContexts.server())).build();
        serverEndpoint.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                wireRequests.add(request);
            }

            @Override
            public void sendResponse(Response response) {
                wireResponses.add(response);
            }
        });
        server = new CoapServer(cfg);
        server.addEndpoint(serverEndpoint);
        server.add(new CoapResource("hello") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "Hello World!");
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.destroy();
        }
    }

    private int port() {
        return serverEndpoint.getAddress().getPort();
    }

    @Test
    void OSC_TCP_oscoreProtectedGetOverCoapTcpHasNoTypeOrMessageId() throws Exception {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint client = new OscoreEndpointBuilder().configuration(cfg)
                .connector(TcpConnectors.client(cfg, LIMITS))
                .clientBinding(new ClientContextBinding().endpointDefault(TestContexts.client())).build();
        client.start();
        try {
            Request get = Request.newGet();
            get.setURI("coap+tcp://127.0.0.1:" + port() + "/hello");
            client.sendRequest(get);
            Response r = get.waitForResponse(10_000);
            assertNotNull(r, "a response over coap+tcp");
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertEquals("Hello World!", r.getPayloadString());

            // what crossed the connection: outer POST with OSCORE and no Uri-Path; outer 2.04
            assertEquals(1, wireRequests.size());
            Request wire = wireRequests.get(0);
            assertEquals(Code.POST, wire.getCode(), "RFC 8613 Section 4.2: GET goes as POST");
            assertNotNull(wire.getOptions().getOscore());
            assertTrue(wire.getOptions().getUriPath().isEmpty(), "Uri-Path is inner only");
            assertEquals(ResponseCode.CHANGED, wireResponses.get(0).getCode());
            // the TCP frame on the wire: Len|TKL, Code, Token, ...: no Version, Type or Message ID
            byte[] frame = new org.eclipse.californium.core.network.serialization.TcpDataSerializer()
                    .getByteArray(wireResponses.get(0));
            int tkl = frame[0] & 0x0F;
            int ext = (frame[0] & 0xFF) >>> 4 < 13 ? 0 : (frame[0] & 0xFF) >>> 4 == 13 ? 1 : 2;
            assertEquals(0x44, frame[1 + ext] & 0xFF, "the code byte follows the length: 2.04");
            assertArrayEquals(wireResponses.get(0).getTokenBytes(),
                    java.util.Arrays.copyOfRange(frame, 2 + ext, 2 + ext + tkl));
        } finally {
            client.destroy();
        }
    }

    @Test
    void TCP_01_theRfc8323FrameExampleFromCaliforniumsSerializer() {
        // RFC 8323 Section 3.2: a 2.03 response, token 7f, no options or payload, is 01 43 7f
        Response valid = new Response(ResponseCode.VALID);
        valid.setToken(new byte[] {0x7f});
        assertEquals("01437f", Hex.encode(new org.eclipse.californium.core.network.serialization.TcpDataSerializer().getByteArray(valid)));
    }

    @Test
    void TCP_03_aMessageOverThePeersMaxMessageSizeIsNotSent() throws Exception {
        try (java.net.ServerSocket peer = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
            CoapEndpoint client = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(TcpConnectors.client(cfg, LIMITS)).build();
            client.start();
            try {
                Request small = Request.newPost();
                small.setURI("coap+tcp://127.0.0.1:" + peer.getLocalPort() + "/p");
                small.setPayload(new byte[10]);
                client.sendRequest(small);
                try (Socket s = peer.accept()) {
                    s.setSoTimeout(8000);
                    Frame csm = read(s.getInputStream());
                    assertEquals(0xE1, csm.code(), "the client's CSM first");
                    // this peer takes at most 100 bytes (Max-Message-Size 100 = 0x64)
                    s.getOutputStream().write(frame(0xE1, new byte[0], Hex.decode("2164")));
                    Frame first = read(s.getInputStream());
                    assertEquals(0x02, first.code(), "positive control: a 10-byte POST is sent");
                    Request big = Request.newPost();
                    big.setURI("coap+tcp://127.0.0.1:" + peer.getLocalPort() + "/p");
                    big.setPayload(new byte[200]);
                    client.sendRequest(big);
                    long deadline = System.nanoTime() + 8_000_000_000L;
                    while (big.getSendError() == null && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }
                    assertNotNull(big.getSendError(), "the send of a 200-byte POST failed");
                    assertTrue(big.getSendError().getMessage().contains("over the peer's Max-Message-Size 100"),
                            big.getSendError().getMessage());
                    s.setSoTimeout(500);
                    try {
                        read(s.getInputStream());
                        throw new AssertionError("a frame arrived after the CSM of 100");
                    } catch (SocketTimeoutException expected) {
                        // nothing was written
                    }
                }
            } finally {
                client.destroy();
            }
        }
    }

    /* ------------------------------------------------------------------ raw socket */

    /** A frame as RFC 8323 Section 3.2 lays it out, with options already encoded. */
    static byte[] frame(int code, byte[] token, byte[] optionsAndPayload) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int len = optionsAndPayload.length;
        if (len < 13) {
            o.write(len << 4 | token.length);
        } else if (len < 269) {
            o.write(13 << 4 | token.length);
            o.write(len - 13);
        } else {
            o.write(14 << 4 | token.length);
            o.write((len - 269) >>> 8);
            o.write(len - 269);
        }
        o.write(code);
        o.writeBytes(token);
        o.writeBytes(optionsAndPayload);
        return o.toByteArray();
    }

    /** A peer's CSM: Max-Message-Size 1152, Block-Wise-Transfer. */
    static final byte[] CSM = frame(0xE1, new byte[0], Hex.decode("22048020"));

    /** One frame read from {@code in}: {code, token, options-and-payload}. */
    record Frame(int code, byte[] token, byte[] body) {
    }

    static Frame read(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        int b0 = d.readUnsignedByte();
        int n = b0 >>> 4;
        long len = n < 13 ? n : n == 13 ? 13 + d.readUnsignedByte() : n == 14 ? 269 + d.readUnsignedShort()
                : 65805 + (d.readInt() & 0xFFFFFFFFL);
        int code = d.readUnsignedByte();
        byte[] token = d.readNBytes(b0 & 0x0F);
        byte[] body = d.readNBytes((int) len);
        return new Frame(code, token, body);
    }

    /** Connects and reads the server's first frame, which must be its CSM. */
    private Socket connect(List<Frame> first) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port()), 5000);
        s.setSoTimeout(8000);
        first.add(read(s.getInputStream()));
        return s;
    }

    /** Reads until the server closes: the frames it sent on the way. */
    static List<Frame> untilClosed(Socket s) throws IOException {
        List<Frame> out = new java.util.ArrayList<>();
        try {
            while (true) {
                out.add(read(s.getInputStream()));
            }
        } catch (EOFException | java.net.SocketException closed) {
            return out;
        } catch (SocketTimeoutException t) {
            throw new AssertionError("the server did not close the connection within 8 s; frames so far: " + out.size());
        }
    }

    /** An unprotected GET /hello, token 0x42: the server answers 4.01 (OSCORE required), so it was processed. */
    static final byte[] GET_HELLO = frame(0x01, new byte[] {0x42}, Hex.decode("b568656c6c6f"));

    @Test
    void TCP_02_serverSendsCsmFirstWithMaxMessageSizeAndBlockWise() throws Exception {
        List<Frame> first = new java.util.ArrayList<>();
        try (Socket s = connect(first)) {
            Frame csm = first.get(0);
            assertEquals(0xE1, csm.code(), "7.01 CSM first");
            assertEquals(0, csm.token().length);
            // Max-Message-Size (2) = 1152 = 0x0480, then Block-Wise-Transfer (4), empty
            assertEquals("22048020", Hex.encode(csm.body()));
            // positive control: with our CSM first, a request is processed (4.01 OSCORE required, token echoed)
            OutputStream out = s.getOutputStream();
            out.write(CSM);
            out.write(GET_HELLO);
            Frame r = read(s.getInputStream());
            assertEquals(0x81, r.code(), "4.01");
            assertArrayEquals(new byte[] {0x42}, r.token());
        }
    }

    @Test
    void TCP_02_noBlockWiseTransferInTheCsmOverMaxMessageSize1152WhichWouldAnnounceBert() throws Exception {
        // positive control (the server of this class, 1152): Block-Wise-Transfer is announced
        List<Frame> first = new java.util.ArrayList<>();
        try (Socket s = connect(first)) {
            assertEquals("22048020", Hex.encode(first.get(0).body()));
        }
        // Max-Message-Size 2000 (0x07d0): Block-Wise-Transfer with it would mean BERT, not implemented
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint big = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(TcpConnectors.server(
                new InetSocketAddress("127.0.0.1", 0), cfg, new TcpLimits(4, 30, 1500, 2000))).build();
        big.start();
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", big.getAddress().getPort()), 5000);
            s.setSoTimeout(8000);
            assertEquals("30e12207d0", Hex.encode(s.getInputStream().readNBytes(5)), "Max-Message-Size only");
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(Hex.decode("01e242"));
            Frame next = read(s.getInputStream());
            assertEquals(0xE3, next.code(), "the CSM was 5 bytes: the next frame is the Pong");
        } finally {
            big.destroy();
        }
    }

    @Test
    void TCP_02_aRequestBeforeTheCsmIsAborted() throws Exception {
        List<Frame> first = new java.util.ArrayList<>();
        try (Socket s = connect(first)) {
            s.getOutputStream().write(GET_HELLO);
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size(), "one Abort, then the close");
            assertEquals(0xE5, rest.get(0).code(), "7.05 Abort");
            assertEquals("ff" + Hex.encode("the first message must be a CSM".getBytes(StandardCharsets.UTF_8)),
                    Hex.encode(rest.get(0).body()));
        }
        assertTrue(wireRequests.isEmpty(), "the request never reached the stack");
    }

    @Test
    void TCP_02_aPeerThatNeverSendsCsmIsAbortedAfterTheFrameTimeout() throws Exception {
        List<Frame> first = new java.util.ArrayList<>();
        try (Socket s = connect(first)) {
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size());
            assertEquals(0xE5, rest.get(0).code());
            assertTrue(new String(rest.get(0).body(), StandardCharsets.UTF_8).contains("no CSM within 1500 ms"));
        }
    }

    @Test
    void TCP_05_unknownCriticalCsmOptionIsAbortedWithBadCsmOption() throws Exception {
        List<Frame> first = new java.util.ArrayList<>();
        try (Socket s = connect(first)) {
            // option 9 (odd: critical), empty, after Max-Message-Size
            s.getOutputStream().write(frame(0xE1, new byte[0], Hex.decode("220480" + "70")));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size());
            assertEquals(0xE5, rest.get(0).code());
            assertEquals("2109", Hex.encode(java.util.Arrays.copyOf(rest.get(0).body(), 2)), "Bad-CSM-Option (2) = 9");
        }
        // positive control: an unknown elective CSM option (10) is ignored, the request is answered
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(frame(0xE1, new byte[0], Hex.decode("220480" + "80")));
            s.getOutputStream().write(GET_HELLO);
            assertEquals(0x81, read(s.getInputStream()).code());
        }
    }

    @Test
    void TCP_04_pingIsAnsweredWithPongOnTheSameToken() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(Hex.decode("01e242")); // RFC 8323 Section 5.7's Ping example, token 42
            // and its Pong example, byte for byte
            assertEquals("01e342", Hex.encode(s.getInputStream().readNBytes(3)));
            // a Ping with Custody (2, empty) too
            s.getOutputStream().write(frame(0xE2, Hex.decode("abcd"), Hex.decode("20")));
            Frame pong2 = read(s.getInputStream());
            assertEquals(0xE3, pong2.code());
            assertArrayEquals(Hex.decode("abcd"), pong2.token());
        }
    }

    @Test
    void TCP_06_releaseAndAbortCloseTheConnection() throws Exception {
        for (byte[] signal : List.of(
                // Release with Alternative-Address "127.0.0.1:5684" (2) and Hold-Off 30 (4)
                frame(0xE4, new byte[0], concat(Hex.decode("2d01"), "127.0.0.1:5684".getBytes(StandardCharsets.US_ASCII),
                        Hex.decode("211e"))),
                // Abort with a diagnostic payload
                frame(0xE5, new byte[0], concat(new byte[] {(byte) 0xFF}, "bye".getBytes(StandardCharsets.US_ASCII))))) {
            try (Socket s = connect(new java.util.ArrayList<>())) {
                s.getOutputStream().write(CSM);
                // positive control first: the connection works
                s.getOutputStream().write(GET_HELLO);
                assertEquals(0x81, read(s.getInputStream()).code());
                s.getOutputStream().write(signal);
                assertTrue(untilClosed(s).isEmpty(), "closed without another message");
            }
        }
    }

    @Test
    void TCP_06_anAlternativeAddressOutside1To255BytesIsAborted() throws Exception {
        byte[] long256 = new byte[256];
        java.util.Arrays.fill(long256, (byte) 'a');
        // Alternative-Address (2) of 256 bytes: delta 2, length 14 (two-byte extension 256 - 269 < 0, so 13: 13 + 243)
        for (byte[] bad : List.of(frame(0xE4, new byte[0], concat(Hex.decode("2df3"), long256)), // 256 bytes
                frame(0xE4, new byte[0], Hex.decode("20")))) { // empty
            try (Socket s = connect(new java.util.ArrayList<>())) {
                s.getOutputStream().write(CSM);
                s.getOutputStream().write(bad);
                List<Frame> rest = untilClosed(s);
                assertEquals(1, rest.size(), "one Abort, then the close");
                assertEquals(0xE5, rest.get(0).code());
                String diag = new String(rest.get(0).body(), StandardCharsets.UTF_8);
                assertTrue(diag.contains("Alternative-Address of ") && diag.contains(" bytes, not 1-255"), diag);
                assertTrue(!diag.contains("aaaa"), "no peer data in the diagnostic");
            }
        }
        // positive control: 255 bytes with CR LF in them is a Release: closed without an Abort
        byte[] ok = new byte[255];
        java.util.Arrays.fill(ok, (byte) 'a');
        ok[10] = '\r';
        ok[11] = '\n';
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(frame(0xE4, new byte[0], concat(Hex.decode("2df2"), ok)));
            assertTrue(untilClosed(s).isEmpty(), "closed without another message");
        }
    }

    @Test
    void TCP_05_anUnknownCriticalOptionInPingIsAbortedAnElectiveOneIgnored() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            // positive control: a Ping with the unknown elective option 4 (empty) is answered with Pong on its token
            s.getOutputStream().write(frame(0xE2, Hex.decode("01"), Hex.decode("40")));
            Frame pong = read(s.getInputStream());
            assertEquals(0xE3, pong.code());
            assertArrayEquals(Hex.decode("01"), pong.token());
            // a Ping with the unknown critical option 3 (empty): Abort, no Pong, no Bad-CSM-Option
            s.getOutputStream().write(frame(0xE2, Hex.decode("02"), Hex.decode("30")));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size(), "one Abort, then the close");
            assertEquals(0xE5, rest.get(0).code());
            assertEquals("ff" + Hex.encode("unknown critical signaling option 3".getBytes(StandardCharsets.UTF_8)),
                    Hex.encode(rest.get(0).body()), "only the diagnostic: no Bad-CSM-Option");
        }
    }

    @Test
    void TCP_05_anUnknownCriticalOptionInPongIsAbortedAnElectiveOneIgnored() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            // positive control: an unsolicited Pong with the unknown elective option 4 is ignored, the connection works
            s.getOutputStream().write(frame(0xE3, Hex.decode("01"), Hex.decode("40")));
            s.getOutputStream().write(GET_HELLO);
            Frame answer = read(s.getInputStream());
            assertEquals(0x81, answer.code(), "the next frame is the answer to the GET: nothing for the Pong");
            // a Pong with the unknown critical option 5 (empty): Abort, no Bad-CSM-Option
            s.getOutputStream().write(frame(0xE3, Hex.decode("02"), Hex.decode("50")));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size(), "one Abort, then the close");
            assertEquals(0xE5, rest.get(0).code());
            assertEquals("ff" + Hex.encode("unknown critical signaling option 5".getBytes(StandardCharsets.UTF_8)),
                    Hex.encode(rest.get(0).body()), "only the diagnostic: no Bad-CSM-Option");
        }
    }

    @Test
    void TCP_05_anUnknownCriticalOptionInReleaseIsAbortedAnElectiveOneIgnored() throws Exception {
        // positive control: a Release with Hold-Off 30 and the unknown elective option 6 (empty) closes without an Abort
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(frame(0xE4, new byte[0], Hex.decode("411e" + "20")));
            assertTrue(untilClosed(s).isEmpty(), "closed without another message");
        }
        // a Release with the unknown critical option 7 (after Hold-Off): Abort with the diagnostic, then the close
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(frame(0xE4, new byte[0], Hex.decode("411e" + "30")));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size(), "one Abort, then the close");
            assertEquals(0xE5, rest.get(0).code());
            assertEquals("ff" + Hex.encode("unknown critical signaling option 7".getBytes(StandardCharsets.UTF_8)),
                    Hex.encode(rest.get(0).body()), "only the diagnostic: no Bad-CSM-Option");
        }
    }

    @Test
    void TCP_03_aFrameOverMaxMessageSizeIsAbortedFromItsHeader() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            // a header announcing 65805 + 1 000 000 bytes; none of them follow
            s.getOutputStream().write(Hex.decode("f1" + "000f4240" + "01" + "42"));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size());
            assertEquals(0xE5, rest.get(0).code());
            assertTrue(new String(rest.get(0).body(), StandardCharsets.UTF_8).contains("over Max-Message-Size 1152"));
        }
        // positive control: a request of 1100 bytes (under 1152) is processed
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            byte[] payload = new byte[1090];
            s.getOutputStream().write(frame(0x02, new byte[] {0x42}, concat(Hex.decode("b568656c6c6f"), new byte[] {(byte) 0xFF},
                    payload)));
            assertEquals(0x81, read(s.getInputStream()).code());
        }
    }

    @Test
    void TCP_01_aTokenLengthOver8IsAborted() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            s.getOutputStream().write(Hex.decode("09" + "01" + "000102030405060708"));
            List<Frame> rest = untilClosed(s);
            assertEquals(0xE5, rest.get(0).code());
            assertTrue(new String(rest.get(0).body(), StandardCharsets.UTF_8).contains("token length 9"));
        }
    }

    @Test
    void TCP_slowloris_aStalledPartialFrameIsAborted() throws Exception {
        try (Socket s = connect(new java.util.ArrayList<>())) {
            s.getOutputStream().write(CSM);
            // positive control: a whole request is answered
            s.getOutputStream().write(GET_HELLO);
            assertEquals(0x81, read(s.getInputStream()).code());
            // then the first three bytes of one, and nothing more
            s.getOutputStream().write(java.util.Arrays.copyOf(GET_HELLO, 3));
            List<Frame> rest = untilClosed(s);
            assertEquals(1, rest.size());
            assertEquals(0xE5, rest.get(0).code());
            assertTrue(new String(rest.get(0).body(), StandardCharsets.UTF_8).contains("frame not completed within 1500 ms"));
        }
    }

    @Test
    void TCP_connectionLimitClosesTheOneOverIt() throws Exception {
        List<Socket> held = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < LIMITS.maxConnections(); i++) {
                Socket s = connect(new java.util.ArrayList<>()); // each gets its CSM: accepted
                s.getOutputStream().write(CSM);
                held.add(s);
            }
            Socket over = new Socket();
            held.add(over);
            over.connect(new InetSocketAddress("127.0.0.1", port()), 5000);
            over.setSoTimeout(8000);
            assertTrue(untilClosed(over).isEmpty(), "closed on arrival, no CSM");
            // positive control: the ones under the limit still work
            held.get(0).getOutputStream().write(GET_HELLO);
            assertEquals(0x81, read(held.get(0).getInputStream()).code());
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /* ------------------------------------------------------------------ TLS */

    static final String STORE_PASS = "tcp-transport-test";

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    /** A self-signed EC certificate for {@code san} (keytool's SAN syntax): {PKCS#12, PEM certificate}, owner-only. */
    java.nio.file.Path[] credential(String name, String san) throws Exception {
        java.nio.file.Path p12 = tmp.resolve(name + ".p12");
        Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", name, "-dname", "CN=" + name, "-ext",
                "SAN=" + san, "-validity", "2", "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASS)
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0, out);
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (InputStream in = java.nio.file.Files.newInputStream(p12)) {
            ks.load(in, STORE_PASS.toCharArray());
        }
        java.nio.file.Path pem = tmp.resolve(name + ".pem");
        java.nio.file.Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(ks.getCertificate(name).getEncoded()) + "\n-----END CERTIFICATE-----\n");
        for (java.nio.file.Path f : List.of(p12, pem)) {
            java.nio.file.Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        }
        return new java.nio.file.Path[] {p12, pem};
    }

    /** A plain CoAP server (no OSCORE) on coaps+tcp 127.0.0.1 with the key of {@code p12}; GET /hello is 2.05. */
    static CoapServer tlsServer(java.nio.file.Path p12) throws IOException {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(TcpConnectors.tlsServer(
                dev.coterie.oscore.tcp.TlsFiles.server(p12, STORE_PASS.toCharArray(), null), false,
                new InetSocketAddress("127.0.0.1", 0), cfg, LIMITS)).build();
        CoapServer s = new CoapServer(cfg);
        s.addEndpoint(ep);
        s.add(new CoapResource("hello") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "Hello TLS");
            }
        });
        s.start();
        return s;
    }

    static int tlsPort(CoapServer s) {
        return s.getEndpoints().get(0).getAddress().getPort();
    }

    /** GET coaps+tcp://HOST:PORT/hello from a client trusting {@code trustPem}: the request after its response or send error. */
    static Request tlsGet(java.nio.file.Path trustPem, String host, int port) throws Exception {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint client = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(TcpConnectors.tlsClient(
                dev.coterie.oscore.tcp.TlsFiles.client(trustPem, null, null), host, cfg, LIMITS)).build();
        client.start();
        try {
            Request get = Request.newGet();
            get.setURI("coaps+tcp://" + host + ":" + port + "/hello");
            client.sendRequest(get);
            long deadline = System.nanoTime() + 15_000_000_000L;
            while (get.getResponse() == null && get.getSendError() == null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            return get;
        } finally {
            client.destroy();
        }
    }

    @Test
    void TCP_TLS_theUriHostMustBeInTheCertificateNotJustTheIpAddress() throws Exception {
        java.nio.file.Path[] ipOnly = credential("iponly", "ip:127.0.0.1");
        java.nio.file.Path[] named = credential("named", "dns:localhost");
        CoapServer s = tlsServer(ipOnly[0]);
        try {
            // the certificate is trusted and names 127.0.0.1, where localhost goes, but not localhost
            Request refused = tlsGet(ipOnly[1], "localhost", tlsPort(s));
            assertEquals(null, refused.getResponse(), "no response through a certificate without the URI's host");
            assertNotNull(refused.getSendError(), "the handshake failed");
            assertTrue(String.valueOf(refused.getSendError()).contains("localhost"), String.valueOf(refused.getSendError()));
            // the IP literal URI: the IP address entry is what it must match (positive control for the same certificate)
            Request byIp = tlsGet(ipOnly[1], "127.0.0.1", tlsPort(s));
            assertNotNull(byIp.getResponse(), String.valueOf(byIp.getSendError()));
            assertEquals("Hello TLS", byIp.getResponse().getPayloadString());
        } finally {
            s.destroy();
        }
        // positive control: a certificate with the DNS name localhost, the same URI
        s = tlsServer(named[0]);
        try {
            Request ok = tlsGet(named[1], "localhost", tlsPort(s));
            assertNotNull(ok.getResponse(), String.valueOf(ok.getSendError()));
            assertEquals(ResponseCode.CONTENT, ok.getResponse().getCode());
            assertEquals("Hello TLS", ok.getResponse().getPayloadString());
        } finally {
            s.destroy();
        }
    }

    /** TLS 1.2 suites Coterie allows: ECDHE with AES-GCM or ChaCha20-Poly1305. */
    static final java.util.regex.Pattern ALLOWED_12 = java.util.regex.Pattern.compile(
            "TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)");

    /** Every TLS 1.2 suite the JDK enables by default that Coterie does not allow (CBC, static RSA, DHE, ...). */
    static String[] disallowedSuites() throws Exception {
        String[] out = java.util.Arrays.stream(javax.net.ssl.SSLContext.getDefault().getDefaultSSLParameters().getCipherSuites())
                .filter(c -> !c.startsWith("TLS_AES_") && !c.startsWith("TLS_CHACHA20_") && !c.contains("SCSV"))
                .filter(c -> !ALLOWED_12.matcher(c).matches()).toArray(String[]::new);
        assertTrue(java.util.Arrays.asList(out).contains("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"), java.util.Arrays.toString(out));
        return out;
    }

    /**
     * A raw TLS 1.2 handshake with the coaps+tcp server at {@code port} offering only {@code suites}
     * and ALPN {@code alpn} (none if null): the server's first bytes (its CSM) after the handshake,
     * or the exception that ended it.
     */
    static Object rawTlsClient(java.nio.file.Path trustPem, int port, String[] suites, String[] alpn) throws Exception {
        javax.net.ssl.SSLContext c = dev.coterie.oscore.tcp.TlsFiles.client(trustPem, null, null);
        try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) c.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(8000);
            javax.net.ssl.SSLParameters p = s.getSSLParameters();
            p.setProtocols(new String[] {"TLSv1.2"});
            p.setCipherSuites(suites);
            if (alpn != null) {
                p.setApplicationProtocols(alpn);
            }
            s.setSSLParameters(p);
            s.startHandshake();
            return Hex.encode(s.getInputStream().readNBytes(6));
        } catch (IOException e) {
            return e;
        }
    }

    @Test
    void TCP_TLS_12_onlyEcdheWithAesGcmOrChaCha20Poly1305() throws Exception {
        java.nio.file.Path[] cred = credential("suites", "ip:127.0.0.1");
        CoapServer s = tlsServer(cred[0]);
        try {
            // every default JDK suite that is not ECDHE+AEAD, CBC ones included, offered at once: refused
            Object refused = rawTlsClient(cred[1], tlsPort(s), disallowedSuites(), new String[] {"coap"});
            assertTrue(refused instanceof javax.net.ssl.SSLHandshakeException, String.valueOf(refused));
            // positive control: the same handshake with ECDHE-ECDSA AES-128-GCM gets the server's CSM
            Object ok = rawTlsClient(cred[1], tlsPort(s), new String[] {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
                    new String[] {"coap"});
            assertEquals("40e122048020", ok);
        } finally {
            s.destroy();
        }
        // the client side: a TLS 1.2 server with only those suites is refused by Coterie's client
        try (RawTlsServer raw = new RawTlsServer(cred[0], new String[] {"TLSv1.2"}, disallowedSuites(), new String[] {"coap"})) {
            Request r = tlsGet(cred[1], "127.0.0.1", raw.port());
            assertEquals(null, r.getResponse());
            assertNotNull(r.getSendError());
            assertTrue(raw.result() instanceof javax.net.ssl.SSLHandshakeException, String.valueOf(raw.result()));
        }
        // positive control: with ECDHE-ECDSA ChaCha20-Poly1305 the raw server gets the client's CSM
        try (RawTlsServer raw = new RawTlsServer(cred[0], new String[] {"TLSv1.2"},
                new String[] {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"}, new String[] {"coap"})) {
            tlsGet(cred[1], "127.0.0.1", raw.port());
            assertEquals("40e122048020", raw.result(), "the client's CSM after the handshake");
        }
    }

    @Test
    void TCP_TLS_alpnCoapIsRequiredOfTheServerAndRefusedOtherwiseByIt() throws Exception {
        java.nio.file.Path[] cred = credential("alpn", "ip:127.0.0.1");
        // Coterie's client: a TLS server that does not agree to ALPN coap gets nothing, not even the CSM
        try (RawTlsServer raw = new RawTlsServer(cred[0], new String[] {"TLSv1.3", "TLSv1.2"}, null, null)) {
            Request r = tlsGet(cred[1], "127.0.0.1", raw.port());
            assertEquals(null, r.getResponse());
            assertNotNull(r.getSendError());
            assertTrue(r.getSendError().getMessage().contains("did not agree to ALPN \"coap\""), r.getSendError().getMessage());
            Object got = raw.result();
            assertTrue(got instanceof IOException || "".equals(got), "nothing written: " + got);
        }
        // positive control: the same server agreeing to coap gets the client's CSM
        try (RawTlsServer raw = new RawTlsServer(cred[0], new String[] {"TLSv1.3", "TLSv1.2"}, null, new String[] {"coap"})) {
            tlsGet(cred[1], "127.0.0.1", raw.port());
            assertEquals("40e122048020", raw.result());
        }
        // Coterie's server: a client offering ALPN without coap is refused in the handshake
        CoapServer s = tlsServer(cred[0]);
        try {
            String gcm = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256";
            Object other = rawTlsClient(cred[1], tlsPort(s), new String[] {gcm}, new String[] {"h2", "http/1.1"});
            assertTrue(other instanceof javax.net.ssl.SSLHandshakeException, String.valueOf(other));
            // positive controls: offering coap among others, and offering no ALPN at all (which older clients do), get the CSM
            assertEquals("40e122048020", rawTlsClient(cred[1], tlsPort(s), new String[] {gcm}, new String[] {"h2", "coap"}));
            assertEquals("40e122048020", rawTlsClient(cred[1], tlsPort(s), new String[] {gcm}, null));
        } finally {
            s.destroy();
        }
    }

    @Test
    void TCP_TLS_theKeyStorePasswordIsWipedAfterUseEvenOnFailure() throws Exception {
        java.nio.file.Path[] cred = credential("wipe", "ip:127.0.0.1");
        char[] pw = STORE_PASS.toCharArray();
        javax.net.ssl.SSLContext ok = dev.coterie.oscore.tcp.TlsFiles.server(cred[0], pw, null);
        assertNotNull(ok, "positive control: the right password opens the key store");
        assertArrayEquals(new char[STORE_PASS.length()], pw, "wiped after success");
        char[] wrong = "not-the-password".toCharArray();
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
                () -> dev.coterie.oscore.tcp.TlsFiles.client(cred[1], cred[0], wrong));
        assertTrue(!e.getMessage().contains("not-the-password"), e.getMessage());
        assertArrayEquals(new char[wrong.length], wrong, "wiped after failure");
    }

    /**
     * A one-connection TLS server from the JDK with the given protocols, suites (null: the JDK's)
     * and ALPN (none if null): {@link #result} is the first 6 bytes it read after the handshake (hex), or the exception.
     */
    static final class RawTlsServer implements AutoCloseable {
        private final javax.net.ssl.SSLServerSocket socket;
        private final Thread thread;
        private volatile Object result;

        RawTlsServer(java.nio.file.Path p12, String[] protocols, String[] suites, String[] alpn) throws Exception {
            javax.net.ssl.SSLContext c = dev.coterie.oscore.tcp.TlsFiles.server(p12, STORE_PASS.toCharArray(), null);
            socket = (javax.net.ssl.SSLServerSocket) c.getServerSocketFactory().createServerSocket(0, 1,
                    java.net.InetAddress.getLoopbackAddress());
            socket.setSoTimeout(10_000);
            thread = new Thread(() -> {
                try (javax.net.ssl.SSLSocket s = (javax.net.ssl.SSLSocket) socket.accept()) {
                    s.setSoTimeout(8000);
                    javax.net.ssl.SSLParameters p = s.getSSLParameters();
                    p.setProtocols(protocols);
                    if (suites != null) {
                        p.setCipherSuites(suites);
                    }
                    if (alpn != null) {
                        p.setApplicationProtocols(alpn);
                    }
                    s.setSSLParameters(p);
                    s.startHandshake();
                    result = Hex.encode(s.getInputStream().readNBytes(6));
                } catch (IOException e) {
                    result = e;
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        Object result() throws InterruptedException {
            thread.join(20_000);
            return result;
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }
}
