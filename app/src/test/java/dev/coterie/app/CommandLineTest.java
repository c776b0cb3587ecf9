package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coterie command: output formats, exit codes and the context file format. */
class CommandLineTest {
    @TempDir
    Path dir;

    private record Run(int status, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Coterie.execute(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void vectorsPrintsOneLinePerVectorAndASummary() {
        for (String provider : new String[] {"default", "bc"}) {
            Run r = run("vectors", "--provider", provider);
            assertEquals(0, r.status());
            String[] lines = r.out().strip().split("\n");
            assertEquals(37, lines.length, r.out());
            for (int i = 0; i < 24; i++) {
                assertTrue(lines[i].startsWith("PASS "), lines[i]);
                assertTrue(!lines[i].contains("coterie-"), "published vectors first: " + lines[i]);
            }
            assertEquals("24 passed, 0 failed (published)", lines[24]);
            assertTrue(lines[26].startsWith("Coterie's own vectors"), lines[26]);
            for (int i = 27; i < 36; i++) {
                assertTrue(lines[i].startsWith("PASS coterie-"), lines[i]);
            }
            assertEquals("9 passed, 0 failed (Coterie's own)", lines[36]);
            assertTrue(r.out().lines().noneMatch(l -> l.startsWith("SKIP") || l.startsWith("FAIL")), "no SKIP, no FAIL");
        }
    }

    private Path contextFile(String name, String sender, String recipient, String extra) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  // RFC 8613 Appendix C.1\n  \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"aead\": \"AES-CCM-16-64-128\",\n"
                + "  \"hkdf\": \"HKDF-SHA-256\",\n  \"replay_window\": 32" + extra + "\n}\n");
        return f;
    }

    @Test
    void clientTalksToAServerFromContextFilesAndExitsZeroOnSuccess() throws Exception {
        Path serverFile = contextFile("server", "01", "", "");
        Path clientFile = contextFile("client", "", "01", ",\n  \"state_dir\": \"client-state\"");
        OscoreContext serverCtx = ContextFile.load(serverFile, dev.coterie.keystore.CryptoProviders.defaultProvider());
        CoapServer server = new CoapServer(Endpoints.configuration());
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .configuration(Endpoints.configuration()).serverContexts(new InMemoryContextDb().add(serverCtx)).build();
        server.addEndpoint(ep);
        ScheduledExecutorService t = DemoResources.install(server, 200);
        server.start();
        try {
            String base = "coap://127.0.0.1:" + ep.getAddress().getPort();
            Run get = run("client", "--context", clientFile.toString(), base + "/hello");
            assertEquals(0, get.status(), get.err());
            assertTrue(get.out().startsWith("2.05 CONTENT"), get.out());
            assertTrue(get.out().contains("Hello World!"));

            Run post = run("client", "--context", clientFile.toString(), "-m", "POST", "--payload", "ping", base + "/echo");
            assertEquals(0, post.status());
            assertTrue(post.out().contains("ping"));

            Run missing = run("client", "--context", clientFile.toString(), base + "/nothing-here");
            assertEquals(1, missing.status(), "an error response exits non-zero");
            assertTrue(missing.out().startsWith("4.04"), missing.out());

            Run observe = run("client", "--context", clientFile.toString(), "--observe", "--notifications", "2", base + "/observe");
            assertEquals(0, observe.status(), observe.err());

            Run trace = run("client", "--context", clientFile.toString(), "--trace", base + "/hello");
            assertTrue(trace.out().contains("request protected"), trace.out());
            assertTrue(trace.out().contains("OSCORE: 09"), trace.out());
            assertTrue(Files.exists(dir.resolve("client-state")), "state_dir is relative to the context file");
        } finally {
            t.shutdownNow();
            server.destroy();
        }
    }

    @Test
    void clientWithoutAServerTimesOutWithStatus2() throws Exception {
        Path clientFile = contextFile("lonely", "", "01", "");
        Run r = run("client", "--context", clientFile.toString(), "--timeout", "1", "--non", "coap://127.0.0.1:9/hello");
        assertEquals(2, r.status());
    }

    @Test
    void contextFileErrorsNameTheFieldAndNeverTheSecret() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"master_secret\": \"0102zz\", \"sender_id\": \"\", \"recipient_id\": \"01\"}");
        Run r = run("client", "--context", bad.toString(), "coap://127.0.0.1:9/x");
        assertTrue(r.status() != 0);
        assertTrue(!r.err().contains("0102zz"), r.err());
        Path unknown = dir.resolve("unknown.json");
        Files.writeString(unknown, "{\"master_secret\": \"01\", \"sender_id\": \"\", \"recipient_id\": \"01\", \"sender\": 1}");
        Run u = run("client", "--context", unknown.toString(), "coap://127.0.0.1:9/x");
        assertTrue(u.err().contains("unknown field 'sender'"), u.err());
    }

    @Test
    void senderIdTooLongForTheAeadIsRefusedAtLoad() throws Exception {
        Path f = contextFile("long", "0102030405060708", "01", "");
        Run r = run("client", "--context", f.toString(), "coap://127.0.0.1:9/x");
        assertTrue(r.status() != 0);
        assertTrue(r.err().contains("Sender ID longer than 7 bytes"), r.err());
    }
}
