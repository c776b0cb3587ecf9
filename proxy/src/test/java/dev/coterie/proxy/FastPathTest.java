package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The proxy's fast path (plain NON GET/FETCH, handled off Californium's stack): the same answers
 * as the stack's path, byte for byte where it matters (NON, the client's Token, code, options,
 * payload), the same decisions (access, cache, timeout, RST), and only for what it may take.
 * Each case sends raw datagrams, so the client is nobody's stack.
 */
class FastPathTest {
    private Origin origin;
    private DatagramSocket client;

    @BeforeEach
    void start() throws Exception {
        origin = new Origin();
        client = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        client.setSoTimeout(5000);
    }

    @AfterEach
    void stop() {
        client.close();
        origin.close();
    }

    private String yaml(String access, boolean fast) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nfast_path: " + fast + "\n"
                + "limits: {upstream_timeout_ms: 2000}\naccess:\n" + access;
    }

    private String everyone() {
        return "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}\n";
    }

    private static Request get(Type type, String uri, byte[] token, int mid) {
        Request r = new Request(Code.GET, type);
        r.setToken(token);
        r.setMID(mid);
        r.getOptions().setProxyUri(uri);
        return r;
    }

    private Response exchange(ProxyFixture f, Request r) throws Exception {
        byte[] d = new UdpDataSerializer().getByteArray(r);
        client.send(new DatagramPacket(d, d.length, f.proxyAddress));
        byte[] buf = new byte[2048];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        client.receive(p);
        return (Response) new UdpDataParser().parseMessage(Arrays.copyOf(buf, p.getLength()));
    }

    @Test
    void FAST_aNonGetIsForwardedOffTheStack_theAnswerIsNonWithTheClientsToken() throws Exception {
        try (ProxyFixture f = new ProxyFixture(yaml(everyone(), true))) {
            byte[] token = {1, 2, 3, 4};
            Response r = exchange(f, get(Type.NON, "coap://127.0.0.1:" + origin.port() + "/sensors/temp", token, 77));
            assertEquals(Type.NON, r.getType());
            assertArrayEquals(token, r.getTokenBytes());
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertEquals("21.5", r.getPayloadString());
            assertEquals(60L, r.getOptions().getMaxAge());
            assertTrue(r.getMID() >= FastPath.FIRST_MID, "the fast path's Message IDs are the upper half: " + r.getMID());
            assertEquals(1, f.proxy.fastPathRequests());
            Request there = origin.received.get(0);
            assertEquals(Type.NON, there.getType());
            assertEquals(8, there.getTokenBytes().length, "a new Token on the next hop");
            assertFalse(Arrays.equals(token, there.getTokenBytes()));
            assertArrayEquals(new byte[] {16}, there.getOptions().getOtherOption(16).getValue(), "Hop-Limit added");
            assertEquals(null, there.getOptions().getProxyUri());
            assertEquals(java.util.List.of("sensors", "temp"), there.getOptions().getUriPath());
        }
    }

    @Test
    void FAST_aConRequestTakesTheStack_andFastPathOffSendsEveryRequestThere() throws Exception {
        String uri = "coap://127.0.0.1:" + origin.port() + "/sensors/temp";
        try (ProxyFixture f = new ProxyFixture(yaml(everyone(), true))) {
            Response r = exchange(f, get(Type.CON, uri, new byte[] {5}, 78));
            assertEquals(Type.ACK, r.getType());
            assertEquals(78, r.getMID());
            assertEquals("21.5", r.getPayloadString());
            assertEquals(0, f.proxy.fastPathRequests());
        }
        try (ProxyFixture f = new ProxyFixture(yaml(everyone(), false))) {
            Response r = exchange(f, get(Type.NON, uri, new byte[] {6}, 79));
            assertEquals(Type.NON, r.getType());
            assertEquals("21.5", r.getPayloadString());
            assertEquals(0, f.proxy.fastPathRequests(), "fast_path: false");
        }
    }

    @Test
    void FAST_accessControlDecidesAsOnTheStack_deniedGets401_allowedIsForwarded() throws Exception {
        String access = "  - {client: {kid: '01'}, allow: [{origin: '*'}]}\n";
        try (ProxyFixture f = new ProxyFixture(yaml(access, true))) {
            Response denied = exchange(f, get(Type.NON, "coap://127.0.0.1:" + origin.port() + "/sensors/temp", new byte[] {7}, 80));
            assertEquals(ResponseCode.UNAUTHORIZED, denied.getCode());
            assertEquals("Forwarding not authorised", denied.getPayloadString());
            assertEquals(Type.NON, denied.getType());
            assertEquals(0L, denied.getOptions().getMaxAge(), "the proxy's own errors carry Max-Age 0, as on the stack");
            assertEquals(1, f.proxy.fastPathRequests());
            assertEquals(0, origin.temperatureReads.get());
        }
        try (ProxyFixture f = new ProxyFixture(yaml(everyone(), true))) {
            Response ok = exchange(f, get(Type.NON, "coap://127.0.0.1:" + origin.port() + "/sensors/temp", new byte[] {8}, 81));
            assertEquals(ResponseCode.CONTENT, ok.getCode());
            assertEquals(1, origin.temperatureReads.get());
        }
    }

    @Test
    void FAST_theSecondReadIsACacheHit_theOriginIsAskedOnce() throws Exception {
        try (ProxyFixture f = new ProxyFixture(yaml(everyone(), true))) {
            String uri = "coap://127.0.0.1:" + origin.port() + "/sensors/temp";
            Response first = exchange(f, get(Type.NON, uri, new byte[] {9}, 82));
            Response second = exchange(f, get(Type.NON, uri, new byte[] {10}, 83));
            assertEquals("21.5", first.getPayloadString());
            assertEquals("21.5", second.getPayloadString());
            assertArrayEquals(new byte[] {10}, second.getTokenBytes());
            assertEquals(1, origin.temperatureReads.get(), "served from the cache");
            assertEquals(2, f.proxy.fastPathRequests());
            assertEquals(1.0, f.proxy.metrics().cacheHits());
        }
    }

    @Test
    void FAST_anOriginThatNeverAnswersGets504_oneThatResetsGets502_oneThatAnswersIsRelayed() throws Exception {
        try (ProxyFixture f = new ProxyFixture(yaml("  - {client: unauthenticated, allow: [{origin: '*'}]}\n", true));
             DatagramSocket raw = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            Response slow = exchange(f, get(Type.NON, "coap://127.0.0.1:" + origin.port() + "/slow", new byte[] {11}, 84));
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, slow.getCode());
            assertEquals(1, f.proxy.fastPathRequests(), "timed out by the fast path's own sweep");
            String rawUri = "coap://127.0.0.1:" + raw.getLocalPort() + "/x";
            for (boolean reset : new boolean[] {true, false}) {
                byte[] d = new UdpDataSerializer().getByteArray(get(Type.NON, rawUri, new byte[] {12}, 85));
                client.send(new DatagramPacket(d, d.length, f.proxyAddress));
                byte[] buf = new byte[2048];
                DatagramPacket in = new DatagramPacket(buf, buf.length);
                raw.setSoTimeout(5000);
                raw.receive(in);
                Request up = (Request) new UdpDataParser().parseMessage(Arrays.copyOf(buf, in.getLength()));
                byte[] back;
                if (reset) {
                    org.eclipse.californium.core.coap.EmptyMessage rst = org.eclipse.californium.core.coap.EmptyMessage.newRST(up);
                    rst.setToken(org.eclipse.californium.core.coap.Token.EMPTY);
                    back = new UdpDataSerializer().getByteArray(rst);
                } else {
                    Response answer = new Response(ResponseCode.CONTENT);
                    answer.setType(Type.NON);
                    answer.setMID(4242);
                    answer.setToken(up.getToken());
                    answer.setPayload("raw");
                    back = new UdpDataSerializer().getByteArray(answer);
                }
                raw.send(new DatagramPacket(back, back.length, in.getSocketAddress()));
                DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                client.receive(p);
                Response r = (Response) new UdpDataParser().parseMessage(Arrays.copyOf(p.getData(), p.getLength()));
                if (reset) {
                    assertEquals(ResponseCode.BAD_GATEWAY, r.getCode());
                } else {
                    assertEquals(ResponseCode.CONTENT, r.getCode());
                    assertEquals("raw", r.getPayloadString());
                }
            }
        }
    }

    @Test
    void FAST_RFC7252_5_7_1_anUnrecognisedCriticalOptionInTheAnswerIs502_aSafeToForwardOneIsPassedOn() throws Exception {
        try (ProxyFixture f = new ProxyFixture(yaml("  - {client: unauthenticated, allow: [{origin: '*'}]}\n", true));
             DatagramSocket raw = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            raw.setSoTimeout(5000);
            String rawUri = "coap://127.0.0.1:" + raw.getLocalPort() + "/x";
            for (int number : new int[] {65001, 65000}) {
                byte[] d = new UdpDataSerializer().getByteArray(get(Type.NON, rawUri, new byte[] {13}, 86));
                client.send(new DatagramPacket(d, d.length, f.proxyAddress));
                byte[] buf = new byte[2048];
                DatagramPacket in = new DatagramPacket(buf, buf.length);
                raw.receive(in);
                Request up = (Request) new UdpDataParser().parseMessage(Arrays.copyOf(buf, in.getLength()));
                // 2.05, Token, then option `number` (delta 65000+ as 14/ext 2 bytes) with value 0x2a, then the payload
                java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
                byte[] tok = up.getTokenBytes();
                o.write(0x50 | tok.length);
                o.write(0x45);
                o.write(0x10);
                o.write(0x01);
                o.write(tok);
                int ext = number - 269;
                o.write(0xe1);
                o.write(ext >> 8);
                o.write(ext & 0xff);
                o.write(0x2a);
                o.write(0xff);
                o.write("raw".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                byte[] back = o.toByteArray();
                raw.send(new DatagramPacket(back, back.length, in.getSocketAddress()));
                DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
                client.receive(p);
                byte[] got = Arrays.copyOf(p.getData(), p.getLength());
                if (number == 65001) {
                    Response r = (Response) new UdpDataParser().parseMessage(got);
                    assertEquals(ResponseCode.BAD_GATEWAY, r.getCode(), "an unrecognised critical option");
                } else {
                    // the client's own parser would drop the unknown elective option: look at the bytes
                    assertEquals(0x45, got[1] & 0xff, "2.05 relayed");
                    byte[] option = {(byte) 0xe1, (byte) (ext >> 8), (byte) (ext & 0xff), 0x2a};
                    assertTrue(indexOf(got, option) > 0, "the Safe-to-Forward option passed on as it came");
                }
            }
            assertEquals(2, f.proxy.fastPathRequests());
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void FAST_anAnswerOrAnRstFromAnotherAddressIsIgnored_theOriginsOwnAnswerIsRelayed() throws Exception {
        try (ProxyFixture f = new ProxyFixture(yaml("  - {client: unauthenticated, allow: [{origin: '*'}]}\n", true));
             DatagramSocket raw = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
             DatagramSocket spoofer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            raw.setSoTimeout(5000);
            byte[] d = new UdpDataSerializer().getByteArray(get(Type.NON, "coap://127.0.0.1:" + raw.getLocalPort() + "/x",
                    new byte[] {14}, 87));
            client.send(new DatagramPacket(d, d.length, f.proxyAddress));
            byte[] buf = new byte[2048];
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            raw.receive(in);
            Request up = (Request) new UdpDataParser().parseMessage(Arrays.copyOf(buf, in.getLength()));
            // another address, with the right Token and Message ID: a forged answer, then a forged RST
            Response forged = new Response(ResponseCode.CONTENT);
            forged.setType(Type.NON);
            forged.setMID(1);
            forged.setToken(up.getToken());
            forged.setPayload("forged");
            byte[] f1 = new UdpDataSerializer().getByteArray(forged);
            spoofer.send(new DatagramPacket(f1, f1.length, in.getSocketAddress()));
            org.eclipse.californium.core.coap.EmptyMessage rst = org.eclipse.californium.core.coap.EmptyMessage.newRST(up);
            rst.setToken(org.eclipse.californium.core.coap.Token.EMPTY);
            byte[] f2 = new UdpDataSerializer().getByteArray(rst);
            spoofer.send(new DatagramPacket(f2, f2.length, in.getSocketAddress()));
            Thread.sleep(100);
            // the origin's own answer still goes through
            Response answer = new Response(ResponseCode.CONTENT);
            answer.setType(Type.NON);
            answer.setMID(4243);
            answer.setToken(up.getToken());
            answer.setPayload("genuine");
            byte[] back = new UdpDataSerializer().getByteArray(answer);
            raw.send(new DatagramPacket(back, back.length, in.getSocketAddress()));
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            client.receive(p);
            Response r = (Response) new UdpDataParser().parseMessage(Arrays.copyOf(p.getData(), p.getLength()));
            assertEquals(ResponseCode.CONTENT, r.getCode());
            assertEquals("genuine", r.getPayloadString());
            assertEquals(FastPath.FIRST_MID | 87, r.getMID(), "the client's Message ID in the upper half");
            assertEquals(1, f.proxy.fastPathRequests());
        }
    }

    @Test
    void FAST_LIMITS_theExchangeLimitHoldsOnTheFastPath_503WithMaxAge_thenRoomAgain() throws Exception {
        String cfg = yaml(everyone(), true).replace("limits: {upstream_timeout_ms: 2000}",
                "limits: {upstream_timeout_ms: 800, exchanges: 1, retry_after_s: 3}");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            String base = "coap://127.0.0.1:" + origin.port();
            byte[] d = new UdpDataSerializer().getByteArray(get(Type.NON, base + "/slow", new byte[] {20}, 90));
            client.send(new DatagramPacket(d, d.length, f.proxyAddress)); // takes the one slot until its 5.04
            Thread.sleep(100);
            Response second = exchange(f, get(Type.NON, base + "/sensors/temp", new byte[] {21}, 91));
            assertEquals(ResponseCode.SERVICE_UNAVAILABLE, second.getCode());
            assertEquals(3L, second.getOptions().getMaxAge());
            DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
            client.receive(p);
            Response slow = (Response) new UdpDataParser().parseMessage(Arrays.copyOf(p.getData(), p.getLength()));
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, slow.getCode());
            Response again = exchange(f, get(Type.NON, base + "/sensors/temp", new byte[] {22}, 92));
            assertEquals(ResponseCode.CONTENT, again.getCode(), "room again once the slot is freed");
            assertEquals(3, f.proxy.fastPathRequests());
            assertEquals(0, f.proxy.metrics().inFlight().get());
        }
    }
}
