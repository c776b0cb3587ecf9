package dev.coterie.app;

import static dev.coterie.app.ClientFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import dev.coterie.app.ClientFixtures.Server;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie client} shapes requests as a plugfest tool must (Accept, Content-Format,
 * If-Match, If-None-Match, any option, binary payloads, the client's own socket) and sends
 * plaintext only when asked with {@code --no-oscore}, saying so on every line.
 */
class ClientRequestShapingTest {
    @TempDir
    Path dir;

    private Path clientFile() throws Exception {
        return ClientFixtures.contextFile(dir, "client", "", "01", ",\n  \"state_dir\": \"client-state\"");
    }

    @Test
    void everyShapingOptionArrivesInsideTheProtectedRequest() throws Exception {
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "-m", "POST", "--accept", "application/cbor",
                    "--content-format", "60", "--if-match", "0a0b", "--if-match", "", "--if-none-match",
                    "--option", "Uri-Query=text:a=1", "--option", "65000=hex:0102", "--option", "size1=uint:128",
                    "--option", "Uri-Query=empty", "--payload-hex", "00ff", server.uri("inspect"));
            assertEquals(0, r.status(), r.err());
            // what the resource saw after verification: option number = value (hex), sorted, then the payload
            assertEquals(List.of("2.05 CONTENT", "  Content-Format: \"text/plain\"", "1=0a0b", "1=", "5=", "11=696e7370656374", "12=3c", "15=613d31", "15=",
                    "17=3c", "60=80", "65000=0102", "payload=00ff", "from=" + fromPort(r), "mode=OSCORE"), r.lines());
        }
    }

    private static String fromPort(Run r) {
        return r.lines().stream().filter(l -> l.startsWith("from=")).findFirst().orElse("from=?").substring(5);
    }

    @Test
    void aPayloadFileIsSentByteForByte() throws Exception {
        Path f = dir.resolve("body.bin");
        byte[] body = {0, 1, (byte) 0xfe, (byte) 0xff, '\n', 0x7f};
        Files.write(f, body);
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "-m", "PUT", "--payload-file", f.toString(),
                    server.uri("inspect"));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.lines().contains("payload=0001feff0a7f"), r.out());
        }
    }

    @Test
    void aBinaryResponsePayloadIsPrintedInHex() throws Exception {
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "-m", "POST", "--payload-hex", "a1ff00",
                    server.uri("echo"));
            assertEquals(0, r.status(), r.err());
            assertEquals(List.of("2.04 CHANGED", "payload (3 bytes, hex): a1ff00"), r.lines());
        }
    }

    /** Each mistake exits 64 with a message naming the option; the corrected command line, sent, succeeds. */
    @Test
    void malformedOrUnknownOptionsAreRefusedWith64NamingTheOptionAndTheCorrectedOnesSucceed() throws Exception {
        Map<List<String>, Object[]> cases = new LinkedHashMap<>();
        cases.put(List.of("--option", "Colour=text:red"), new Object[] {"--option Colour: unknown option name (give a name "
                + "from RFC 7252's registry or the extension options, e.g. Uri-Query or Request-Hash, or a number)",
            List.of("--option", "Uri-Query=text:red")});
        cases.put(List.of("--option", "65000=hex:01g2"), new Object[] {"--option Option-65000: '01g2' is not hex "
                + "(an even number of 0-9a-f)", List.of("--option", "65000=hex:0102")});
        cases.put(List.of("--option", "Size1=uint:-1"), new Object[] {"--option Size1: uint:-1 is not an unsigned integer",
            List.of("--option", "Size1=uint:1")});
        cases.put(List.of("--option", "Size1=uint:4294967296"), new Object[] {"--option Size1: uint:4294967296 does not fit 4 bytes",
            List.of("--option", "Size1=uint:16777216")});
        cases.put(List.of("--option", "Uri-Query=uint:5"), new Object[] {"--option Uri-Query: is a string option, not a uint "
                + "(use text: or hex:)", List.of("--option", "Uri-Query=text:5")});
        cases.put(List.of("--option", "Content-Format=text:x"), new Object[] {"--option Content-Format: is a uint option, "
                + "not text (use uint: or hex:)", List.of("--option", "Content-Format=uint:0")});
        cases.put(List.of("--option", "Uri-Query"), new Object[] {"--option Uri-Query: expected NAME=TYPE:VALUE or "
                + "NUMBER=TYPE:VALUE (TYPE hex, uint or text; or NAME=empty)", List.of("--option", "Uri-Query=empty")});
        cases.put(List.of("--option", "Uri-Query=red"), new Object[] {"--option Uri-Query: value must be hex:HEX, uint:N, "
                + "text:TEXT or empty, got 'red'", List.of("--option", "Uri-Query=text:red")});
        cases.put(List.of("--option", "Uri-Query=base64:AA=="), new Object[] {"--option Uri-Query: unknown value type 'base64' "
                + "(hex, uint or text)", List.of("--option", "Uri-Query=hex:00")});
        cases.put(List.of("--option", "70000=hex:01"), new Object[] {"--option 70000: an option number is 1 to 65535",
            List.of("--option", "65000=hex:01")});
        cases.put(List.of("--option", "If-None-Match=hex:01"), new Object[] {"--option If-None-Match: Option If-None-Match value "
                + "of 1 bytes must be empty.", List.of("--option", "If-None-Match=empty")});
        cases.put(List.of("--option", "Content-Format=uint:0", "--content-format", "60"), new Object[] {"option Content-Format (12) "
                + "is not repeatable but was given twice", List.of("--content-format", "60")});
        cases.put(List.of("--option", "OSCORE=hex:09"), new Object[] {"--option OSCORE: the OSCORE layer sets this option itself "
                + "(a hand-made one only with --no-oscore)", List.of("--option", "Size1=uint:2")});
        cases.put(List.of("--option", "Observe=uint:0"), new Object[] {"--option Observe: use --observe, which also handles the "
                + "notifications", List.of("--option", "Size1=uint:2")});
        cases.put(List.of("--accept", "text/unknown"), new Object[] {"--accept: unknown media type 'text/unknown' (give its "
                + "Content-Format number)", List.of("--accept", "text/plain")});
        cases.put(List.of("--accept", "70000"), new Object[] {"--accept: a Content-Format number is 0 to 65535, got 70000",
            List.of("--accept", "65535")});
        cases.put(List.of("--if-match", "0102030405060708090a"), new Object[] {"--if-match: an ETag is 0 to 8 bytes, got 10",
            List.of("--if-match", "0102030405060708")});
        cases.put(List.of("--payload", "a", "--payload-hex", "00"), new Object[] {"give at most one of --payload, --payload-hex "
                + "and --payload-file", List.of("--payload-hex", "00")});
        cases.put(List.of("--payload-hex", "0"), new Object[] {"--payload-hex: '0' is not hex (an even number of 0-9a-f)",
            List.of("--payload-hex", "00")});
        Path missing = dir.resolve("missing.bin");
        cases.put(List.of("--payload-file", missing.toString()), new Object[] {"--payload-file: cannot read " + missing
                + " (NoSuchFileException)", List.of("--payload", "x")});
        try (Server server = Server.oscore(dir)) {
            String context = clientFile().toString();
            for (Map.Entry<List<String>, Object[]> c : cases.entrySet()) {
                List<String> bad = new ArrayList<>(List.of("client", "--context", context, "-m", "POST"));
                bad.addAll(c.getKey());
                bad.add(server.uri("inspect"));
                long before = server.seen.count("REQUEST_VERIFIED");
                Run r = run(bad.toArray(new String[0]));
                assertEquals(64, r.status(), c.getKey() + ": " + r.out() + r.err());
                assertEquals("coterie client: " + c.getValue()[0] + "\n", r.err(), c.getKey().toString());
                assertEquals("", r.out(), c.getKey().toString());
                assertEquals(before, server.seen.count("REQUEST_VERIFIED"), "nothing sent for " + c.getKey());
                @SuppressWarnings("unchecked")
                List<String> fixed = (List<String>) c.getValue()[1];
                List<String> good = new ArrayList<>(List.of("client", "--context", context, "-m", "POST"));
                good.addAll(fixed);
                good.add(server.uri("inspect"));
                Run ok = run(good.toArray(new String[0]));
                assertEquals(0, ok.status(), fixed + ": " + ok.err());
                assertTrue(ok.out().startsWith("2.05 CONTENT\n"), ok.out());
            }
        }
    }

    @Test
    void anUnknownMethodIsRefusedWith64() throws Exception {
        Run r = run("client", "--context", clientFile().toString(), "-m", "BREW", "coap://127.0.0.1:9/x");
        assertEquals(64, r.status());
        assertEquals("coterie client: -m BREW: not a method (GET, POST, PUT, DELETE, FETCH, PATCH, IPATCH)\n", r.err());
    }

    @Test
    void noOscoreSendsPlaintextAndSaysUnprotectedOnEveryRequestAndResponseLine() throws Exception {
        try (Server server = Server.plain()) {
            Run r = run("client", "--no-oscore", server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertEquals(List.of("UNPROTECTED request GET " + server.uri("hello"), "UNPROTECTED 2.05 CONTENT",
                    "  Content-Format: \"text/plain\"", "Hello World!"), r.lines());

            Run traced = run("client", "--no-oscore", "--trace", server.uri("hello"));
            assertEquals(0, traced.status(), traced.err());
            List<String> lines = traced.lines();
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("UNPROTECTED C ---> S  CON MID=") && l.endsWith(
                    "  GET | Uri-Path: \"hello\"")), traced.out());
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("UNPROTECTED C <--- S  ACK MID=") && l.contains(
                    "  2.05 CONTENT | Content-Format: \"text/plain\"")), traced.out());
            for (String l : lines) {
                // a line is a request or response line, an option of the response, or its payload
                assertTrue(l.startsWith("UNPROTECTED ") || l.startsWith("  Content-Format") || l.equals("Hello World!"), l);
            }
        }
    }

    @Test
    void noOscoreTakesNeitherAContextNorABundle() throws Exception {
        Run r = run("client", "--no-oscore", "--context", clientFile().toString(), "coap://127.0.0.1:9/hello");
        assertEquals(64, r.status());
        assertEquals("coterie client: give one of --context (OSCORE), --bundle (Group OSCORE), --no-oscore (plaintext) or --proxy with --proxy-context (a hop layer only; with --context or --bundle, over the end-to-end layer)\n", r.err());
        Run neither = run("client", "coap://127.0.0.1:9/hello");
        assertEquals(64, neither.status());
        assertEquals(r.err(), neither.err());
    }

    @Test
    void withoutNoOscoreNothingGoesOutInPlaintextAndAPlaintextAnswerIsNeverShown() throws Exception {
        try (PlaintextResponder peer = new PlaintextResponder()) {
            String uri = "coap://127.0.0.1:" + peer.port() + "/hello";
            Run protectedRun = run("client", "--context", clientFile().toString(), "--timeout", "2", uri);
            assertEquals(2, protectedRun.status(), protectedRun.out());
            assertEquals("", protectedRun.out());
            assertEquals("coterie client: no response within 2 s\n", protectedRun.err());
            Request first = peer.requests.get(0);
            assertTrue(first.getOptions().hasOscore(), "protected");
            assertEquals("", first.getOptions().getUriPathString(), "Uri-Path is inner: not on the wire");
            assertEquals(org.eclipse.californium.core.coap.CoAP.Code.POST, first.getCode());

            // positive control: the same answer is taken when plaintext was asked for, and labelled as such
            int before = peer.requests.size();
            Run plain = run("client", "--no-oscore", "--timeout", "2", uri);
            assertEquals(0, plain.status(), plain.err());
            assertEquals(List.of("UNPROTECTED request GET " + uri, "UNPROTECTED 2.05 CONTENT", "plaintext answer"), plain.lines());
            Request sent = peer.requests.get(before);
            assertFalse(sent.getOptions().hasOscore());
            assertEquals("hello", sent.getOptions().getUriPathString());
        }
    }

    @Test
    void anUnprotectedOscoreErrorIsPrintedUnderItsOwnHeadingAndExits1() throws Exception {
        try (Server server = Server.oscore(dir)) {
            // a kid the server has no context for: its answer cannot be protected (RFC 8613 8.2)
            Path stranger = ClientFixtures.contextFile(dir, "stranger", "07", "01", ",\n  \"state_dir\": \"stranger-state\"");
            Run r = run("client", "--context", stranger.toString(), server.uri("hello"));
            assertEquals(1, r.status(), r.err());
            assertEquals(List.of("unprotected OSCORE error response:", "4.01 UNAUTHORIZED", "  Max-Age: 0",
                    "Security context not found"), r.lines());
        }
    }

    @Test
    void bindChoosesTheClientSocket() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            port = probe.getLocalPort();
        }
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "--bind", "127.0.0.1:" + port, server.uri("inspect"));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.lines().contains("from=" + port), r.out());
            Run bad = run("client", "--context", clientFile().toString(), "--bind", "127.0.0.1", server.uri("inspect"));
            assertEquals(64, bad.status());
            assertEquals("coterie client: --bind 127.0.0.1: expected ADDR:PORT, e.g. 127.0.0.1:0 or [::1]:5690\n", bad.err());
        }
    }

    @Test
    void bindToAnAddressInUseIsNotSentAndExits2() throws Exception {
        try (DatagramSocket taken = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0)); Server server = Server.oscore(dir)) {
            String bind = "127.0.0.1:" + taken.getLocalPort();
            Run r = run("client", "--context", clientFile().toString(), "--bind", bind, server.uri("hello"));
            assertEquals(2, r.status(), r.out());
            assertTrue(r.err().startsWith("coterie client: request not sent: cannot bind /" + bind + ": "), r.err());
            assertEquals(0, server.seen.count("REQUEST_VERIFIED"));
        }
    }

    /** Answers every request with an unprotected 2.05 "plaintext answer" and keeps what it got. */
    private static final class PlaintextResponder implements AutoCloseable {
        final List<Request> requests = new CopyOnWriteArrayList<>();
        private final DatagramSocket socket;
        private final Thread thread;

        PlaintextResponder() throws Exception {
            socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            thread = new Thread(() -> {
                byte[] buf = new byte[2048];
                while (!socket.isClosed()) {
                    try {
                        DatagramPacket p = new DatagramPacket(buf, buf.length);
                        socket.receive(p);
                        Request req = (Request) new UdpDataParser().parseMessage(Arrays.copyOf(buf, p.getLength()));
                        requests.add(req);
                        Response resp = new Response(ResponseCode.CONTENT);
                        resp.setType(req.isConfirmable() ? Type.ACK : Type.NON);
                        resp.setMID(req.getMID());
                        resp.setToken(req.getToken());
                        resp.setPayload("plaintext answer");
                        byte[] out = new UdpDataSerializer().getByteArray(resp);
                        socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                    } catch (Exception e) {
                        return; // closed
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return socket.getLocalPort();
        }

        @Override
        public void close() throws Exception {
            socket.close();
            thread.join(5000);
        }
    }
}
