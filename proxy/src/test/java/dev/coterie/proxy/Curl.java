package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * curl as the HTTP client of the front end's tests: a real, independent HTTP/1.1 implementation.
 * {@link #ensure()} runs tests/scripts/ensure-curl.sh (which installs Debian's curl when it is
 * missing and we are root) and fails the test when curl cannot be had, so that nothing skips
 * silently. Every run is bounded (curl's --max-time, then a kill).
 */
final class Curl {
    /** What one run received: the status line, the header fields in order, the body. */
    record Reply(int exit, String statusLine, List<String[]> headers, byte[] body, String log) {
        int status() {
            String[] p = statusLine.split(" ", 3);
            return p.length < 2 ? -1 : Integer.parseInt(p[1]);
        }

        String reason() {
            String[] p = statusLine.split(" ", 3);
            return p.length < 3 ? "" : p[2];
        }

        /** The value of the one field {@code name} (case-insensitive), null when absent; fails when repeated. */
        String header(String name) {
            String v = null;
            for (String[] h : headers) {
                if (h[0].equalsIgnoreCase(name)) {
                    if (v != null) {
                        fail("field " + name + " repeated: " + this);
                    }
                    v = h[1];
                }
            }
            return v;
        }

        /** The field names received, lower case, in order. */
        List<String> names() {
            return headers.stream().map(h -> h[0].toLowerCase(Locale.ROOT)).toList();
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            StringBuilder b = new StringBuilder(statusLine).append('\n');
            headers.forEach(h -> b.append(h[0]).append(": ").append(h[1]).append('\n'));
            return b.append('\n').append(text()).append("\n(curl exit ").append(exit).append(") ").append(log).toString();
        }
    }

    private final String curl;

    private Curl(String curl) {
        this.curl = curl;
    }

    static Curl ensure() throws Exception {
        Path script = null;
        for (Path p : List.of(Path.of("..", "tests", "scripts", "ensure-curl.sh"), Path.of("tests", "scripts", "ensure-curl.sh"))) {
            if (Files.isRegularFile(p)) {
                script = p.toAbsolutePath();
            }
        }
        if (script == null) {
            fail("tests/scripts/ensure-curl.sh not found from " + Path.of("").toAbsolutePath());
        }
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                fail("ensure-curl.sh did not finish in 10 minutes");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.exitValue() != 0) {
                fail("curl is needed for the HTTP front end tests and could not be installed:\n" + out);
            }
            for (String line : out.split("\n")) {
                if (line.startsWith("CURL=")) {
                    return new Curl(line.substring(5).trim());
                }
            }
            fail("ensure-curl.sh did not name curl:\n" + out);
            return null;
        } finally {
            p.destroyForcibly();
        }
    }

    /** Starts curl without waiting (for a request kept in flight); the caller destroys it. */
    Process start(Path dir, List<String> args, String url) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(curl, "-sS", "-g", "--path-as-is", "--max-time", "15"));
        cmd.addAll(args);
        cmd.add(url);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(Files.createTempFile(dir, "bg", ".log").toFile())
                .start();
    }

    /** One request: curl's own options {@code args} (-X, -H, --data-binary, ...), then the URL. */
    Reply run(Path dir, List<String> args, String url) throws Exception {
        Path headers = Files.createTempFile(dir, "headers", ".txt");
        Path body = Files.createTempFile(dir, "body", ".bin");
        List<String> cmd = new ArrayList<>(List.of(curl, "-sS", "-g", "--path-as-is", "--max-time", "15",
                "-D", headers.toString(), "-o", body.toString()));
        cmd.addAll(args);
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            if (!p.waitFor(25, TimeUnit.SECONDS)) {
                fail("curl did not end in 25 s: " + cmd);
            }
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return parse(p.exitValue(), Files.readString(headers, StandardCharsets.ISO_8859_1), Files.readAllBytes(body), log);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The last header block curl wrote (a 100 Continue comes before the real one). */
    static Reply parse(int exit, String dump, byte[] body, String log) {
        String[] blocks = dump.split("\r\n\r\n");
        String last = "";
        for (String b : blocks) {
            if (!b.isBlank()) {
                last = b;
            }
        }
        String[] lines = last.split("\r\n");
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.add(new String[] {lines[i].substring(0, c), lines[i].substring(c + 1).trim()});
            }
        }
        return new Reply(exit, lines.length == 0 ? "" : lines[0], headers, body, log);
    }
}
