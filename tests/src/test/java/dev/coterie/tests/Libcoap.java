package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * libcoap's command-line tools (Debian package libcoap3-bin) as an independent CoAP peer. {@link
 * #ensure()} runs tests/scripts/ensure-libcoap.sh, which installs the package when it is missing
 * and names the binaries (Debian 12 has only coap-client-notls, coap-server-notls and their
 * (D)TLS twins); it fails the caller when libcoap cannot be had, so CI notices instead of
 * skipping. Every process gets a bounded wait and is killed in a finally block.
 */
final class Libcoap {
    /** What a finished coap-client run left: exit code, its log (stdout and stderr) and the body it saved. */
    record Run(int exit, String log, byte[] body) {
        /** The codes of the responses it received, in order ("2.31", "2.04", ...), read from its -v 7 PDU log. */
        List<String> responseCodes() {
            List<String> out = new ArrayList<>();
            Matcher m = PDU.matcher(log);
            while (m.find()) {
                if (Character.isDigit(m.group(2).charAt(0))) {
                    out.add(m.group(2));
                }
            }
            return out;
        }

        /** The PDUs it logged as sent: requests ("GET", "PUT", ...) with their option lists. */
        List<String> sentRequests() {
            List<String> out = new ArrayList<>();
            Matcher m = PDU.matcher(log);
            while (m.find()) {
                if (!Character.isDigit(m.group(2).charAt(0))) {
                    out.add(m.group(0));
                }
            }
            return out;
        }

        String lastCode() {
            List<String> c = responseCodes();
            return c.isEmpty() ? "none" : c.get(c.size() - 1);
        }

        String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** libcoap's PDU dump: "v:1 t:ACK c:2.05 i:c23e {01} [ ... ]" */
    private static final Pattern PDU = Pattern.compile("(?m)v:1 t:(CON|NON|ACK|RST) c:([0-9A-Z.]+) i:[0-9a-f]+ \\{[0-9a-f]*\\}(?: \\[[^\\]]*\\])?");

    final String client;
    final String server;
    final String version;
    /** The OpenSSL builds (TLS), or null when the script found none with TLS support. */
    private final String tlsClient;
    private final String tlsServer;

    private Libcoap(String client, String server, String version, String tlsClient, String tlsServer) {
        this.client = client;
        this.server = server;
        this.version = version;
        this.tlsClient = tlsClient;
        this.tlsServer = tlsServer;
    }

    /** The same tools built with OpenSSL (coaps+tcp); fails the test when they are missing. */
    Libcoap tls() {
        if (tlsClient == null || tlsServer == null) {
            fail("libcoap3-bin has no coap-client-openssl/coap-server-openssl with TLS support");
        }
        return new Libcoap(tlsClient, tlsServer, version, tlsClient, tlsServer);
    }

    /** Installs (if needed, as root) and finds libcoap, or fails the test with the script's reason. */
    static Libcoap ensure() {
        Path script = scriptPath();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true);
        String out;
        int exit;
        Process p = null;
        try {
            p = pb.start();
            p.getOutputStream().close();
            // apt-get update and install on a fresh machine: minutes, not more
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                fail("ensure-libcoap.sh did not finish in 10 minutes");
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            exit = p.exitValue();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + script + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + script, e);
        } finally {
            if (p != null) {
                p.destroyForcibly();
            }
        }
        if (exit != 0) {
            fail("libcoap (Debian package libcoap3-bin) is needed for this interop test and could not be installed;"
                    + " ensure-libcoap.sh exited " + exit + ":\n" + out);
        }
        String client = value(out, "COAP_CLIENT");
        String server = value(out, "COAP_SERVER");
        String version = value(out, "LIBCOAP_VERSION");
        if (client == null || server == null || version == null) {
            fail("ensure-libcoap.sh did not name the binaries:\n" + out);
        }
        return new Libcoap(client, server, version, value(out, "COAP_CLIENT_TLS"), value(out, "COAP_SERVER_TLS"));
    }

    private static String value(String out, String key) {
        Matcher m = Pattern.compile("(?m)^" + key + "=(\\S+)$").matcher(out);
        return m.find() ? m.group(1) : null;
    }

    /** tests/scripts/ensure-libcoap.sh, from the module directory (Surefire's) or the reactor root. */
    static Path scriptPath() {
        for (Path p : List.of(Path.of("scripts", "ensure-libcoap.sh"), Path.of("tests", "scripts", "ensure-libcoap.sh"))) {
            if (Files.isRegularFile(p)) {
                return p.toAbsolutePath();
            }
        }
        throw new AssertionError("tests/scripts/ensure-libcoap.sh not found from " + Path.of("").toAbsolutePath());
    }

    /**
     * Runs coap-client with {@code args} (before the URI), -v 7 so that it logs every PDU, -B so it
     * gives up by itself, and -o so the body lands in a file; kills it if it outlives {@code seconds}.
     */
    Run client(Path dir, int seconds, List<String> args, String uri) throws Exception {
        Path body = Files.createTempFile(dir, "body", ".bin");
        Path log = Files.createTempFile(dir, "log", ".txt");
        List<String> cmd = new ArrayList<>(List.of(client, "-v", "7", "-B", String.valueOf(seconds), "-o", body.toString()));
        cmd.addAll(args);
        cmd.add(uri);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            p.getOutputStream().close();
            if (!p.waitFor(seconds + 10L, TimeUnit.SECONDS)) {
                fail("coap-client did not end within " + (seconds + 10) + " s: " + cmd);
            }
            return new Run(p.exitValue(), Files.readString(log, StandardCharsets.ISO_8859_1), Files.readAllBytes(body));
        } finally {
            p.destroyForcibly();
        }
    }

    /**
     * Starts coap-server on 127.0.0.1:{@code port} with -v 7, so it logs every PDU it gets, to
     * {@code log} (line-buffered through stdbuf, so nothing is lost when it is killed).
     */
    Process startServer(int port, Path log, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/stdbuf"))) {
            cmd.addAll(List.of("/usr/bin/stdbuf", "-oL", "-eL"));
        }
        cmd.addAll(List.of(server, "-A", "127.0.0.1", "-p", String.valueOf(port), "-v", "7"));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        p.getOutputStream().close();
        return p;
    }

    /** The requests a coap-server logged as received (its PDU dumps with a method code). */
    static List<String> receivedRequests(String serverLog) {
        List<String> out = new ArrayList<>();
        Matcher m = PDU.matcher(serverLog);
        while (m.find()) {
            if (!Character.isDigit(m.group(2).charAt(0))) {
                out.add(m.group(0));
            }
        }
        return out;
    }

    static void stop(Process p) throws InterruptedException {
        if (p == null) {
            return;
        }
        p.destroy();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }
}
