package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.coterie.app.Coterie;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * CoAP over TCP and TLS (RFC 8323) against libcoap 4.3.1 as the independent peer, loopback only:
 * libcoap's coap-client against {@code coterie server --tcp-bind/--tls-bind}, the Coterie client
 * against libcoap's coap-server over coap+tcp and coaps+tcp, and TLS handshakes with the wrong
 * certificate refused without leaking anything. Certificates are made in the test with keytool
 * into an owner-only temporary directory.
 */
@Timeout(180)
class TcpInteropTest {
    static final String MASTER_SECRET = "0102030405060708090a0b0c0d0e0f10";
    static final String STORE_PASS = "tcp-test-pass";
    static Libcoap libcoap;

    @TempDir
    Path dir;

    @BeforeAll
    static void libcoapIsThere() {
        libcoap = Libcoap.ensure();
    }

    /** A self-signed EC certificate for CN and the SANs, as PKCS#12 plus its certificate and key in PEM, all owner-only. */
    record Credential(Path p12, Path certPem, Path keyPem, String keyBase64) {
    }

    Credential credential(String name, String san) throws Exception {
        Path p12 = dir.resolve(name + ".p12");
        run(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair", "-keyalg", "EC", "-groupname",
                "secp256r1", "-alias", name, "-dname", "CN=" + name, "-ext", "SAN=" + san, "-validity", "2", "-keystore",
                p12.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASS);
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12)) {
            ks.load(in, STORE_PASS.toCharArray());
        }
        Key key = ks.getKey(name, STORE_PASS.toCharArray());
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Path cert = dir.resolve(name + ".pem");
        Files.writeString(cert, "-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(ks.getCertificate(name).getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        Path keyPem = dir.resolve(name + ".key.pem");
        Files.writeString(keyPem, "-----BEGIN PRIVATE KEY-----\n" + b64.encodeToString(key.getEncoded()) + "\n-----END PRIVATE KEY-----\n");
        for (Path p : List.of(p12, cert, keyPem)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        }
        return new Credential(p12, cert, keyPem, Base64.getEncoder().encodeToString(key.getEncoded()));
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "keytool did not end");
        assertEquals(0, p.exitValue(), out);
    }

    Path contextFile(String name, String sender, String recipient) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  \"master_secret\": \"" + MASTER_SECRET + "\",\n  \"master_salt\": \"9e7ca92223786340\",\n"
                + "  \"sender_id\": \"" + sender + "\",\n  \"recipient_id\": \"" + recipient + "\",\n  \"replay_window\": 32,\n"
                + "  \"state_dir\": \"" + dir.resolve(name + "-state") + "\"\n}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /** {@code coterie server} in a JVM of its own; its stdout and stderr collected. */
    static final class ServerProcess implements AutoCloseable {
        final Process process;
        private final StringBuilder out = new StringBuilder();

        ServerProcess(String passEnv, String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Coterie.class.getName(), "server"));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().put(passEnv, STORE_PASS);
            process = pb.start();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null;) {
                        synchronized (this) {
                            out.append(l).append('\n');
                            notifyAll();
                        }
                    }
                } catch (Exception ended) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        /** The port of the listener printed as "listening on SCHEME://HOST:PORT". */
        synchronized int port(String scheme) throws InterruptedException {
            Pattern p = Pattern.compile("listening on " + Pattern.quote(scheme) + "://[^:]+:(\\d+)");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                Matcher m = p.matcher(out);
                if (m.find()) {
                    return Integer.parseInt(m.group(1));
                }
                if (System.nanoTime() > deadline || !process.isAlive()) {
                    fail("no " + scheme + " listener; output: " + out);
                }
                wait(200);
            }
        }

        synchronized String output() {
            return out.toString();
        }

        @Override
        public void close() throws Exception {
            Libcoap.stop(process);
        }
    }

    record Cli(int status, String out) {
    }

    /** {@code coterie client ARGS} in this JVM, stdout and stderr together. */
    static synchronized Cli client(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        try {
            PrintStream p = new PrintStream(o, true, StandardCharsets.UTF_8);
            System.setOut(p);
            System.setErr(p);
            List<String> a = new ArrayList<>(List.of("client"));
            a.addAll(List.of(args));
            int status = Coterie.execute(a.toArray(String[]::new));
            return new Cli(status, o.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void assertNothingSecret(String text, Credential... creds) {
        assertFalse(text.contains(MASTER_SECRET), "the master secret appears");
        assertFalse(text.contains(STORE_PASS), "the key store password appears");
        for (Credential c : creds) {
            assertFalse(text.contains(c.keyBase64().substring(0, 40)), "a private key appears");
        }
    }

    @Test
    void TCP_libcoapClientAgainstCoterieServerOverTcpAndTls() throws Exception {
        Credential server = credential("localhost", "ip:127.0.0.1,dns:localhost");
        Credential other = credential("other", "ip:127.0.0.1");
        try (ServerProcess s = new ServerProcess("TCP_TEST_PASS", "--context", contextFile("server", "01", "").toString(),
                "--bind", "127.0.0.1:0", "--tcp-bind", "127.0.0.1:0", "--tls-bind", "127.0.0.1:0",
                "--tls-keystore", server.p12().toString(), "--tls-keystore-pass-env", "TCP_TEST_PASS")) {
            int tcp = s.port("coap+tcp");
            int tls = s.port("coaps+tcp");

            // libcoap over coap+tcp: Coterie's CSM arrives first, the unprotected GET is answered 4.01 "OSCORE required"
            Libcoap.Run r = libcoap.client(dir, 5, List.of("-m", "get"), "coap+tcp://127.0.0.1:" + tcp + "/hello");
            assertTrue(r.log().contains("c:CSM i:0000 {} [ Max-Message-Size:1152, Block-Wise-Transfer: ]"), r.log());
            assertEquals("4.01", r.lastCode(), r.log());
            assertTrue(r.log().contains(":: 'OSCORE required'"), r.log());

            // the same over coaps+tcp (TLS, libcoap checking the server against its certificate)
            Libcoap.Run t = libcoap.tls().client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString()),
                    "coaps+tcp://127.0.0.1:" + tls + "/hello");
            assertEquals("4.01", t.lastCode(), t.log());
            assertTrue(t.log().contains(":: 'OSCORE required'"), t.log());

            // Coterie's client with OSCORE over both: 2.05 Hello World!
            Path clientCtx = contextFile("client", "", "01");
            Cli c = client("--context", clientCtx.toString(), "coap+tcp://127.0.0.1:" + tcp + "/hello");
            assertEquals(0, c.status(), c.out());
            assertTrue(c.out().startsWith("2.05 CONTENT\n"), c.out());
            assertTrue(c.out().contains("Hello World!"), c.out());
            Cli ct = client("--context", clientCtx.toString(), "--tls-trust", server.certPem().toString(),
                    "coaps+tcp://localhost:" + tls + "/hello");
            assertEquals(0, ct.status(), ct.out());
            assertTrue(ct.out().contains("Hello World!"), ct.out());

            // the wrong certificate: the handshake is refused, nothing is sent, nothing secret is printed
            Cli wrong = client("--context", clientCtx.toString(), "--tls-trust", other.certPem().toString(), "--timeout", "5",
                    "coaps+tcp://localhost:" + tls + "/hello");
            assertEquals(2, wrong.status(), wrong.out());
            assertTrue(wrong.out().contains("request not sent") && wrong.out().contains("PKIX"), wrong.out());
            assertFalse(wrong.out().contains("Hello World!"));
            assertNothingSecret(wrong.out() + s.output() + r.log() + t.log(), server, other);
        }
    }

    @Test
    void TCP_coterieClientAgainstLibcoapServerOverTcpAndTls() throws Exception {
        Credential cert = credential("libcoap", "ip:127.0.0.1");
        Credential other = credential("other", "ip:127.0.0.1");
        int port = freePort();
        Path log = dir.resolve("coap-server.log");
        // the OpenSSL build listens on PORT for UDP and TCP, and PORT+1 for DTLS and TLS
        Process server = libcoap.tls().startServer(port, log, "-c", cert.certPem().toString(), "-j", cert.keyPem().toString());
        try {
            String banner = "This is a test server made with libcoap";
            Cli c = null;
            for (int i = 0; i < 50; i++) { // until coap-server is up
                c = client("--no-oscore", "--timeout", "3", "coap+tcp://127.0.0.1:" + port + "/");
                if (c.status() == 0) {
                    break;
                }
                Thread.sleep(100);
            }
            assertEquals(0, c.status(), c.out());
            assertTrue(c.out().contains("UNPROTECTED 2.05 CONTENT"), c.out());
            assertTrue(c.out().contains(banner), c.out());

            Cli t = client("--no-oscore", "--timeout", "5", "--tls-trust", cert.certPem().toString(),
                    "coaps+tcp://127.0.0.1:" + (port + 1) + "/");
            assertEquals(0, t.status(), t.out());
            assertTrue(t.out().contains("UNPROTECTED 2.05 CONTENT") && t.out().contains(banner), t.out());

            // libcoap's certificate checked against the wrong one: refused, nothing sent
            Cli wrong = client("--no-oscore", "--timeout", "5", "--tls-trust", other.certPem().toString(),
                    "coaps+tcp://127.0.0.1:" + (port + 1) + "/");
            assertEquals(2, wrong.status(), wrong.out());
            assertFalse(wrong.out().contains(banner));
            assertNothingSecret(wrong.out(), cert, other);
            // what coap-server saw: our CSM before the GETs
            String seen = Files.readString(log, StandardCharsets.ISO_8859_1);
            int csm = seen.indexOf("c:CSM i:0000 {} [ Max-Message-Size:1152, Block-Wise-Transfer: ]");
            int get = seen.indexOf("c:GET");
            assertTrue(csm >= 0 && get > csm, seen);
        } finally {
            Libcoap.stop(server);
        }
    }

    @Test
    void TCP_tlsClientCertificatesAreRequiredAndCheckedWithTlsClientTrust() throws Exception {
        Credential server = credential("localhost", "ip:127.0.0.1,dns:localhost");
        Credential member = credential("member", "dns:member");
        Credential stranger = credential("stranger", "dns:stranger");
        try (ServerProcess s = new ServerProcess("TCP_TEST_PASS", "--context", contextFile("server", "01", "").toString(),
                "--bind", "127.0.0.1:0", "--tls-bind", "127.0.0.1:0", "--tls-keystore", server.p12().toString(),
                "--tls-keystore-pass-env", "TCP_TEST_PASS", "--tls-client-trust", member.certPem().toString())) {
            String uri = "coaps+tcp://127.0.0.1:" + s.port("coaps+tcp") + "/hello";
            Libcoap tls = libcoap.tls();
            // positive control: the trusted client certificate gets through the handshake to the 4.01 of the OSCORE layer
            Libcoap.Run ok = tls.client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString(), "-c",
                    member.certPem().toString(), "-j", member.keyPem().toString()), uri);
            assertEquals("4.01", ok.lastCode(), ok.log());
            // another certificate, and none at all: the handshake is refused, no CoAP message is answered
            Libcoap.Run other = tls.client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString(), "-c",
                    stranger.certPem().toString(), "-j", stranger.keyPem().toString()), uri);
            assertEquals("none", other.lastCode(), other.log());
            assertFalse(other.log().contains("OSCORE required"), other.log());
            Libcoap.Run none = tls.client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString()), uri);
            assertEquals("none", none.lastCode(), none.log());
            assertNothingSecret(s.output() + ok.log() + other.log() + none.log(), server, member, stranger);
        }
    }

    /** The frame the server sends first and, if it closes, what came before the close: hex of each byte. */
    private static String readUntilClosed(java.net.Socket s) throws Exception {
        StringBuilder hex = new StringBuilder();
        try {
            for (int b; (b = s.getInputStream().read()) >= 0;) {
                hex.append(String.format("%02x", b));
            }
        } catch (java.net.SocketException reset) {
            // closed
        }
        return hex.toString();
    }

    @Test
    void TCP_theServersTcpLimitsFromTheCommandLineAreEnforced() throws Exception {
        try (ServerProcess s = new ServerProcess("UNUSED", "--context", contextFile("server", "01", "").toString(),
                "--bind", "127.0.0.1:0", "--tcp-bind", "127.0.0.1:0", "--tcp-max-connections", "1",
                "--tcp-frame-timeout", "700", "--tcp-max-message-size", "200")) {
            int port = s.port("coap+tcp");
            java.net.InetSocketAddress at = new java.net.InetSocketAddress("127.0.0.1", port);
            try (java.net.Socket first = new java.net.Socket()) {
                first.connect(at, 5000);
                first.setSoTimeout(10_000);
                // the CSM announces --tcp-max-message-size: Max-Message-Size 200 (c8), Block-Wise-Transfer
                assertEquals("30e121c820", dev.coterie.keystore.Hex.encode(first.getInputStream().readNBytes(5)));
                // --tcp-max-connections 1: a second connection is closed on arrival, nothing sent on it
                try (java.net.Socket second = new java.net.Socket()) {
                    second.connect(at, 5000);
                    second.setSoTimeout(10_000);
                    assertEquals("", readUntilClosed(second));
                }
                // --tcp-frame-timeout 700: the first never sent a CSM, so it is aborted
                String abort = readUntilClosed(first);
                assertTrue(abort.contains(dev.coterie.keystore.Hex.encode("no CSM within 700 ms".getBytes(StandardCharsets.UTF_8))),
                        abort);
                assertTrue(abort.startsWith("d0") && abort.startsWith("e5", 4), abort);
            }
            // positive control: with the first gone, a new connection is served (it gets the CSM)
            String got = "";
            for (int i = 0; i < 50 && got.isEmpty(); i++) { // the server may notice the close a moment later
                try (java.net.Socket third = new java.net.Socket()) {
                    third.connect(at, 5000);
                    third.setSoTimeout(10_000);
                    got = dev.coterie.keystore.Hex.encode(third.getInputStream().readNBytes(5));
                }
                if (got.isEmpty()) {
                    Thread.sleep(100);
                }
            }
            assertEquals("30e121c820", got);
        }
    }
}
