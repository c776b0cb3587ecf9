package dev.coterie.oscore;

import static dev.coterie.oscore.TcpTransportTest.frame;
import static dev.coterie.oscore.TcpTransportTest.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.TcpObserveTest.Parsed;
import dev.coterie.oscore.TcpTransportTest.Frame;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
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
 * Block-wise transfers over coap+tcp (RFC 8323 Section 6, RFC 7959). BERT (SZX 7) is not
 * implemented: Californium 3.13's BlockwiseLayer picks SZX 7 for every peer of an endpoint when
 * {@code TCP_NUMBER_OF_BULK_BLOCKS} is over 1 (its default is 4), whatever the peer's CSM said, so
 * Coterie sets it to 1 and never sends SZX 7. These tests hold that: plain 1024-or-smaller blocks
 * to a peer that announced no BERT and to one that did. Loopback only, bounded waits.
 */
@Timeout(60)
class TcpBlockwiseTest {
    static final TcpLimits LIMITS = new TcpLimits(4, 30, 5000, 1152);
    static final int BLOCK1 = 27;
    static final int BLOCK2 = 23;
    static final byte[] LARGE = new byte[20_000];

    static {
        for (int i = 0; i < LARGE.length; i++) {
            LARGE[i] = (byte) (i * 31 + (i >>> 8));
        }
    }

    private CoapServer server;
    private CoapEndpoint plain;
    private CoapEndpoint oscore;
    private final List<Response> oscoreWire = new CopyOnWriteArrayList<>();
    private final List<Request> oscoreWireRequests = new CopyOnWriteArrayList<>();
    private volatile byte[] posted;

    /** Bodies up to 64 KiB (Californium's default is 8192). */
    static Configuration config() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        c.set(org.eclipse.californium.core.config.CoapConfig.MAX_RESOURCE_BODY_SIZE, 65536);
        return c;
    }

    @BeforeEach
    void start() throws Exception {
        Configuration cfg = config();
        plain = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setConnector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg, LIMITS)).build();
        Configuration cfg2 = config();
        oscore = new OscoreEndpointBuilder().configuration(cfg2)
                .connector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg2, LIMITS))
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
        server.add(new CoapResource("large") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, LARGE);
            }

            @Override
            public void handlePOST(CoapExchange exchange) {
                posted = exchange.getRequestPayload();
                exchange.respond(ResponseCode.CHANGED, "got " + posted.length);
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

    /** Block option value fields: {num, m, szx}. */
    static int[] block(byte[] v) {
        long x = TcpObserveTest.uint(v);
        return new int[] {(int) (x >>> 4), (int) (x >>> 3) & 1, (int) x & 7};
    }

    /** GET /large (token 42), Block2 num {@code num} with {@code szx} asked for when num > 0. */
    static byte[] getLarge(int num, int szx) {
        // Uri-Path (11) "large", then Block2 (23 = 11 + 12) with NUM|M|SZX
        String path = "b5" + Hex.encode("large".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        if (num == 0) {
            return frame(0x01, new byte[] {0x42}, Hex.decode(path));
        }
        int v = num << 4 | szx;
        String blk = v < 0x100 ? "c1" + String.format("%02x", v) : "c2" + String.format("%04x", v);
        return frame(0x01, new byte[] {0x42}, Hex.decode(path + blk));
    }

    /** Fetches /large block by block over a raw connection whose CSM is {@code csm}; asserts no SZX 7 and returns the body. */
    private byte[] rawGet(byte[] csm) throws Exception {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", plain.getAddress().getPort()), 5000);
            s.setSoTimeout(8000);
            assertEquals(0xE1, read(s.getInputStream()).code());
            s.getOutputStream().write(csm);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            int szx = 0;
            for (int num = 0; num < 100; num++) {
                s.getOutputStream().write(getLarge(num, szx)); // the next blocks in the size the server chose
                Frame f = read(s.getInputStream());
                assertEquals(0x45, f.code(), "2.05");
                Parsed p = TcpObserveTest.parse(f.body());
                byte[] b2 = p.option(BLOCK2);
                assertNotNull(b2, "the answer is block-wise");
                int[] b = block(b2);
                assertEquals(num, b[0]);
                assertTrue(b[2] < 7, "SZX " + b[2] + ": no BERT");
                szx = b[2];
                int size = 1 << (b[2] + 4);
                assertEquals(b[1] == 1 ? size : LARGE.length - num * size, p.payload().length, "one block per message");
                body.writeBytes(p.payload());
                if (b[1] == 0) {
                    return body.toByteArray();
                }
            }
            throw new AssertionError("more than 100 blocks");
        }
    }

    @Test
    void TCP_BERT_notSentToAPeerWithoutBertNorToOneWithIt() throws Exception {
        // a peer that announced Max-Message-Size 1152 and Block-Wise-Transfer: block-wise, no BERT (control)
        assertArrayEquals(LARGE, rawGet(TcpTransportTest.CSM));
        // a peer that announced Max-Message-Size 8192 and Block-Wise-Transfer (BERT): still no SZX 7, BERT is not implemented
        assertArrayEquals(LARGE, rawGet(frame(0xE1, new byte[0], Hex.decode("222000" + "20"))));
    }

    @Test
    void TCP_BERT_oscoreGetAndPostOf20kBOverTcpUseInnerBlockwiseWithoutBert() throws Exception {
        Configuration cfg = config();
        CoapEndpoint client = new OscoreEndpointBuilder().configuration(cfg)
                .connector(TcpConnectors.client(cfg, LIMITS))
                .clientBinding(new ClientContextBinding().endpointDefault(TestContexts.client())).build();
        client.start();
        try {
            String uri = "coap+tcp://127.0.0.1:" + oscore.getAddress().getPort() + "/large";
            Request get = Request.newGet();
            get.setURI(uri);
            client.sendRequest(get);
            Response r = get.waitForResponse(20_000);
            assertNotNull(r, "answered: " + get.getSendError());
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertArrayEquals(LARGE, r.getPayload(), "the body, reassembled");
            // inner block-wise (RFC 8613 Section 4.1.3.4.2): Block2 is inside the ciphertext, the outer answers have none,
            // and each fits the peer's Max-Message-Size 1152
            assertTrue(oscoreWire.size() > 1, "several protected answers: " + oscoreWire.size());
            for (Response w : oscoreWire) {
                assertNull(w.getOptions().getBlock2(), "no outer Block2");
                assertNotNull(w.getOptions().getOscore());
                assertTrue(w.getPayloadSize() <= 1152 - 20, "fits Max-Message-Size: " + w.getPayloadSize());
            }
            int answers = oscoreWire.size();
            Request post = Request.newPost();
            post.setURI(uri);
            post.setPayload(LARGE);
            client.sendRequest(post);
            Response pr = post.waitForResponse(20_000);
            assertNotNull(pr, "answered: " + post.getSendError());
            assertEquals(ResponseCode.CHANGED, pr.getCode());
            assertEquals("got 20000", pr.getPayloadString());
            assertArrayEquals(LARGE, posted, "the server got the body whole");
            List<Request> uploads = oscoreWireRequests.subList(oscoreWireRequests.size() - (oscoreWire.size() - answers),
                    oscoreWireRequests.size());
            assertTrue(uploads.size() > 1, "several protected requests");
            for (Request w : uploads) {
                assertNull(w.getOptions().getBlock1(), "no outer Block1");
                assertTrue(w.getPayloadSize() <= 1152 - 20, "fits Max-Message-Size: " + w.getPayloadSize());
            }
        } finally {
            client.destroy();
        }
    }
}
