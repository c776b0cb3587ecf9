package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Group OSCORE pairwise-mode unicast requests over coap+tcp to one group member (RFC 8323 with
 * Group OSCORE Section 8: no Type or Message ID in anything protected). Loopback only, bounded waits.
 */
@Timeout(60)
class GroupTcpTest {
    static final TcpLimits LIMITS = new TcpLimits(4, 30, 5000, 1152);
    /** RFC 8613 Section 6.1 flag bits of the OSCORE option's first byte; Group OSCORE's group flag. */
    static final int GROUP_FLAG = 0x20;

    /** One frame's bytes read whole from {@code in} (RFC 8323 Section 3.2). */
    static byte[] rawFrame(InputStream in) throws IOException {
        DataInputStream d = new DataInputStream(in);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        int b0 = d.readUnsignedByte();
        o.write(b0);
        int n = b0 >>> 4;
        int len = n;
        if (n == 13) {
            int e = d.readUnsignedByte();
            o.write(e);
            len = 13 + e;
        } else if (n == 14) {
            int e = d.readUnsignedShort();
            o.write(e >>> 8);
            o.write(e);
            len = 269 + e;
        } else if (n == 15) {
            throw new IOException("no 4-byte lengths in this test");
        }
        o.writeBytes(d.readNBytes(1 + (b0 & 0x0F) + len)); // code, token, options and payload
        return o.toByteArray();
    }

    /** The frame's code (first byte after the length). */
    static int code(byte[] frame) {
        int n = (frame[0] & 0xFF) >>> 4;
        return frame[n < 13 ? 1 : n == 13 ? 2 : 3] & 0xFF;
    }

    @Test
    void GRP_TCP_pairwiseRequestOverCoapTcpIsAnsweredAndATamperedOneRefused() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
        List<Request> wire = new CopyOnWriteArrayList<>();
        CoapEndpoint memberEp = new GroupEndpointBuilder().configuration(cfg).serverGroups(g.db(0))
                .tcpConnector(TcpConnectors.server(new InetSocketAddress("127.0.0.1", 0), cfg, LIMITS)).build();
        memberEp.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                wire.add(request);
            }
        });
        CoapServer server = new CoapServer(cfg);
        server.addEndpoint(memberEp);
        server.add(new CoapResource("hello") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "Hello member");
            }
        });
        server.start();
        byte[] a1 = g.ids.get(1);
        Configuration ccfg = GroupEndpointBuilder.defaultConfiguration();
        CoapEndpoint client = new GroupEndpointBuilder().configuration(ccfg)
                .clientBinding(new ClientContextBinding().endpointDefault(g.client.pairwise(a1)))
                .tcpConnector(TcpConnectors.client(ccfg, LIMITS)).build();
        client.start();
        try {
            int port = memberEp.getAddress().getPort();
            // 1. end to end: pairwise GET over coap+tcp, answered and verified
            Request get = Request.newGet();
            get.setURI("coap+tcp://127.0.0.1:" + port + "/hello");
            client.sendRequest(get);
            Response r = get.waitForResponse(10_000);
            assertNotNull(r, "answered over coap+tcp: " + get.getSendError());
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertEquals("Hello member", r.getPayloadString());
            // what crossed: outer POST, OSCORE option in pairwise form (group flag clear, kid c1, kid context the Gid)
            assertEquals(1, wire.size());
            Request w = wire.get(0);
            assertEquals(org.eclipse.californium.core.coap.CoAP.Code.POST, w.getCode());
            byte[] opt = w.getOptions().getOscore();
            assertNotNull(opt);
            assertEquals(0, opt[0] & GROUP_FLAG, "pairwise mode: the group flag is clear");
            OscoreOptionValue v = OscoreOptionValue.decode(opt, true);
            assertArrayEquals(g.ids.get(0), v.kid(), "kid: the client's Sender ID");
            assertArrayEquals(g.gid, v.kidContext(), "kid context: the Gid");
            // no countersignature: the ciphertext is the plaintext (code, Uri-Path "hello") and the 8-byte CCM tag only;
            // a group-mode request would add a 64-byte signature
            assertEquals(1 + 6 + 8, w.getPayloadSize(), "no countersignature after the ciphertext");
            assertTrue(w.getOptions().getUriPath().isEmpty(), "Uri-Path is inner only");

            // 2. the same kind of request captured off the wire (a raw peer standing in for the member)
            byte[] captured;
            try (ServerSocket peer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                peer.setSoTimeout(10_000);
                Request again = Request.newGet();
                again.setURI("coap+tcp://127.0.0.1:" + peer.getLocalPort() + "/hello");
                client.sendRequest(again);
                try (Socket s = peer.accept()) {
                    s.setSoTimeout(8000);
                    assertEquals(0xE1, code(rawFrame(s.getInputStream())), "the client's CSM");
                    s.getOutputStream().write(new byte[] {0x40, (byte) 0xE1, 0x22, 0x04, (byte) 0x80, 0x20}); // our CSM
                    captured = rawFrame(s.getInputStream());
                }
            }
            assertEquals(0x02, code(captured), "outer POST");
            // replayed to the member over a raw connection: a flipped ciphertext byte (the last: the tag) is refused
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                s.setSoTimeout(8000);
                assertEquals(0xE1, code(rawFrame(s.getInputStream())));
                s.getOutputStream().write(new byte[] {0x40, (byte) 0xE1, 0x22, 0x04, (byte) 0x80, 0x20});
                byte[] tampered = captured.clone();
                tampered[tampered.length - 1] ^= 0x01;
                s.getOutputStream().write(tampered);
                byte[] refusal = rawFrame(s.getInputStream());
                assertEquals(0x80, code(refusal), "4.00 Bad Request (RFC 8613 Section 8.2: decryption failed)");
                Response parsed = (Response) new org.eclipse.californium.core.network.serialization.TcpDataParser()
                        .parseMessage(refusal);
                assertNull(parsed.getOptions().getOscore(), "the refusal is not protected");
                assertEquals(2, wire.size(), "it reached the member");
                // positive control: the untouched frame on the same connection is answered, protected (outer 2.04)
                s.getOutputStream().write(captured);
                byte[] answer = rawFrame(s.getInputStream());
                assertEquals(0x44, code(answer), "outer 2.04");
                Response ok = (Response) new org.eclipse.californium.core.network.serialization.TcpDataParser().parseMessage(answer);
                assertNotNull(ok.getOptions().getOscore(), "a protected answer");
                assertTrue(ok.getPayloadSize() > 0);
                s.setSoTimeout(500);
                try {
                    rawFrame(s.getInputStream());
                    throw new AssertionError("one answer per request");
                } catch (SocketTimeoutException expected) {
                    // nothing more
                }
            }
        } finally {
            client.destroy();
            server.destroy();
        }
    }
}
