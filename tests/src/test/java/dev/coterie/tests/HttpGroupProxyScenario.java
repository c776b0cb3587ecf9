package dev.coterie.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.keystore.Hex;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import dev.coterie.proxy.StructuredFields;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): the three scripted
 * servers of {@link GroupProxyScenario} on the group 224.0.1.187:5683, a Coterie proxy with its
 * HTTP front end on 127.0.0.1:8080, and curl (its path is the argument) as the HTTP client, run
 * here, inside the namespace (groupcomm-proxy Section 9, GPX-12). Prints "CHECK ok NAME" per
 * check and "SCENARIO OK" when all passed.
 */
public final class HttpGroupProxyScenario {
    private static final String HC = "http://127.0.0.1:8080/hc/";
    private static final List<String> failures = new ArrayList<>();
    private static String curl;
    private static Path dir;

    private HttpGroupProxyScenario() {
    }

    public static void main(String[] args) {
        try {
            curl = args[0];
            dir = Files.createTempDirectory("http-group");
            run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.out.println(failures.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED: " + failures);
        System.exit(failures.isEmpty() ? 0 : 1);
    }

    static void check(boolean ok, String name, Object detail) {
        if (ok) {
            System.out.println("CHECK ok   " + name);
        } else {
            System.out.println("CHECK FAIL " + name + ": " + detail);
            failures.add(name);
        }
    }

    /** One curl run: the status line, the header block as received, the body. */
    record Reply(String statusLine, String headers, byte[] body) {
        String header(String name) {
            Matcher m = Pattern.compile("(?im)^" + Pattern.quote(name) + ": (.*)$").matcher(headers);
            return m.find() ? m.group(1).trim() : null;
        }

        String text() {
            return new String(body, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return headers + "\n" + text();
        }
    }

    static Reply curl(String path, String... headers) throws Exception {
        Path h = Files.createTempFile(dir, "h", ".txt");
        Path b = Files.createTempFile(dir, "b", ".bin");
        List<String> cmd = new ArrayList<>(List.of(curl, "-sS", "-g", "--path-as-is", "--max-time", "15", "-D", h.toString(),
                "-o", b.toString()));
        for (String x : headers) {
            cmd.add("-H");
            cmd.add(x);
        }
        cmd.add(HC + path);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        if (!p.waitFor(25, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("curl did not end: " + cmd);
        }
        String head = Files.readString(h, StandardCharsets.ISO_8859_1).trim();
        return new Reply(head.lines().findFirst().orElse(""), head, Files.readAllBytes(b));
    }

    /** The parts of a multipart/mixed body (RFC 2046 5.1), or null when it is not one with that boundary. */
    static List<String> parts(Reply r) {
        String type = r.header("Content-Type");
        String prefix = "multipart/mixed; boundary=";
        if (type == null || !type.startsWith(prefix)) {
            return null;
        }
        String delimiter = "--" + type.substring(prefix.length());
        String body = r.text();
        String first = delimiter + "\r\n";
        String close = "\r\n" + delimiter + "--\r\n";
        if (!body.startsWith(first) || !body.endsWith(close)) {
            return null;
        }
        List<String> out = new ArrayList<>(List.of(body.substring(first.length(), body.length() - close.length())
                .split(Pattern.quote("\r\n" + delimiter + "\r\n"), -1)));
        java.util.Collections.sort(out);
        return out;
    }

    /** The Reply-From field of server {@code index} (127.0.0.1:570N), from the option value written out by hand. */
    static String replyFromField(int index) {
        return ":" + Base64.getEncoder().encodeToString(Hex.decode(GroupProxyScenario.replyFromHex(5700 + index))) + ":";
    }

    private static void run() throws Exception {
        List<GroupProxyScenario.Server> servers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            servers.add(new GroupProxyScenario.Server(i));
        }
        String yaml = String.join("\n",
                "listen: [\"127.0.0.1:5600\"]",
                "forward_proxy: true",
                "groups:",
                "  - {name: lights, host: lights.example, address: 224.0.1.187, port: 5683, interface: lo,",
                "     members: [\"127.0.0.1:5701\", \"127.0.0.1:5702\", \"127.0.0.1:5703\"]}",
                "http: {listen: \"127.0.0.1:8080\", unauthenticated: allow}",
                "access:",
                "  - client: unauthenticated",
                "    allow: [{group: lights}]",
                "");
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "http-group.yaml", Path.of("."));
        try (ProxyServer proxy = new ProxyServer(cfg, List.of(), Map.of()).start()) {
            collection(servers);
            zero(servers);
            missing(servers);
            revalidation(servers);
            check(proxy.groupCollections() == 0, "GPX_12 every collection ended", proxy.groupCollections());
        } finally {
            servers.forEach(GroupProxyScenario.Server::close);
        }
    }

    /** One multipart/mixed with a part per server, each its translated response with its own Reply-From. */
    private static void collection(List<GroupProxyScenario.Server> servers) throws Exception {
        Reply r = curl("coap://lights.example/light", "Multicast-Timeout: 1");
        List<String> parts = parts(r);
        List<String> expected = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            expected.add("Content-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\n"
                    + "Cache-Control: max-age=0\r\nReply-From: " + replyFromField(i) + "\r\nContent-Length: 2\r\n\r\ns" + i);
        }
        check(r.statusLine().equals("HTTP/1.1 200 OK") && expected.equals(parts),
                "GPX_12 one 200 multipart/mixed with three application/http parts, each with its server's Reply-From", r);
        boolean decoded = parts != null;
        for (int i = 1; parts != null && i <= 3; i++) {
            Matcher m = Pattern.compile("Reply-From: (.*)\r\n").matcher(parts.get(i - 1));
            decoded &= m.find() && Hex.encode(StructuredFields.replyFrom(m.group(1))).equals(GroupProxyScenario.replyFromHex(5700 + i));
        }
        check(decoded, "GPX_12 each part's Reply-From is a List of Byte Sequences that decodes to the server's CRI", parts);
        check(GroupProxyScenario.total(servers, "light") == 3 && GroupProxyScenario.total(servers, "with-multicast-timeout") == 0,
                "GPX_12 the group got the request once per server, without Multicast-Timeout",
                GroupProxyScenario.total(servers, "light"));

        Reply ignored = curl("coap://lights.example/light", "Multicast-Timeout: 1", "Reply-From: :giCC:, token");
        check(expected.equals(parts(ignored)), "GPX_12 a Reply-From field in a request (here a malformed one) is ignored",
                ignored);
        Reply none = curl("coap://lights.example/nobody", "Multicast-Timeout: 1");
        check(none.statusLine().equals("HTTP/1.1 204 No Content") && none.body().length == 0
                        && GroupProxyScenario.total(servers, "nobody") == 3,
                "GPX_12 no response within T': 204", none);
        Reply other = curl("coap://224.0.1.188/light", "Multicast-Timeout: 1");
        check(other.statusLine().equals("HTTP/1.1 403 Forbidden") && other.text().equals("Forwarding not authorised"),
                "HC_06 a multicast address that is not a configured group: 403 (the proxy's 4.01)", other);
    }

    private static void zero(List<GroupProxyScenario.Server> servers) throws Exception {
        int before = GroupProxyScenario.total(servers, "light");
        Reply r = curl("coap://lights.example/light", "Multicast-Timeout: 0");
        Reply empty = curl("coap://lights.example/light", "Multicast-Timeout;"); // curl's way to send an empty field
        Thread.sleep(300); // let the servers' answers arrive: the proxy drops them
        check(r.statusLine().equals("HTTP/1.1 204 No Content") && r.body().length == 0
                        && empty.statusLine().equals("HTTP/1.1 204 No Content"),
                "GPX_12 T' = 0 (and an empty Multicast-Timeout): 204 right after the request went out", r + " / " + empty);
        check(GroupProxyScenario.total(servers, "light") == before + 6, "GPX_12 with T' = 0 the group still got the request",
                GroupProxyScenario.total(servers, "light") - before);
    }

    private static void missing(List<GroupProxyScenario.Server> servers) throws Exception {
        int before = GroupProxyScenario.total(servers, "light");
        Reply r = curl("coap://lights.example/light");
        check(r.statusLine().equals("HTTP/1.1 400 Bad Request") && "0".equals(r.header("Multicast-Timeout"))
                        && r.text().equals("a group request needs Multicast-Timeout"),
                "GPX_12 no Multicast-Timeout: 400 with Multicast-Timeout: 0 and the diagnostic", r);
        boolean all = true;
        StringBuilder seen = new StringBuilder();
        for (String bad : List.of("1s", "-1", "1, 2", "0x1")) {
            Reply b = curl("coap://lights.example/light", "Multicast-Timeout: " + bad);
            all &= b.statusLine().equals("HTTP/1.1 400 Bad Request") && "0".equals(b.header("Multicast-Timeout"));
            seen.append(bad).append(" -> ").append(b.statusLine()).append("; ");
        }
        check(all, "GPX_12 a malformed Multicast-Timeout is ignored as a whole (then it is missing: 400)", seen);
        check(GroupProxyScenario.total(servers, "light") == before, "GPX_12 none of them reached the group",
                GroupProxyScenario.total(servers, "light") - before);
    }

    private static final Pattern CACHED = Pattern.compile("Content-Type: application/http\r\n\r\nHTTP/1\\.1 200 OK\r\n"
            + "Content-Type: text/plain;charset=utf-8\r\nCache-Control: max-age=(\\d+)\r\nReply-From: (:[A-Za-z0-9+/=]+:)\r\n"
            + "(?:Group-ETag: (:[A-Za-z0-9+/=]+:)\r\n)?Content-Length: 5\r\n\r\ns(\\d) v1");

    /** The Group-ETag fields of the parts (null for a part without one); null when a part is not a cached lamp's. */
    private static List<String> tags(List<String> parts) {
        if (parts == null || parts.size() != 3) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Matcher m = CACHED.matcher(parts.get(i));
            if (!m.matches() || !m.group(2).equals(replyFromField(i + 1)) || !m.group(4).equals(String.valueOf(i + 1))
                    || Integer.parseInt(m.group(1)) > 30) {
                return null;
            }
            out.add(m.group(3));
        }
        return out;
    }

    /** GPX-08/09 through HTTP: a cache-only answer carries a Group-ETag per part; it revalidates with one 304. */
    private static void revalidation(List<GroupProxyScenario.Server> servers) throws Exception {
        Reply fill = curl("coap://lights.example/cached", "Multicast-Timeout: 1");
        List<String> first = tags(parts(fill));
        check(first != null && first.stream().allMatch(t -> t == null) && GroupProxyScenario.total(servers, "cached") == 3,
                "GPX_12 positive control: the first request is forwarded, three parts without Group-ETag", fill);
        Reply cached = curl("coap://lights.example/cached", "Multicast-Timeout: 1");
        List<String> tags = tags(parts(cached));
        String tag = tags == null ? null : tags.get(0);
        check(tag != null && tags.stream().allMatch(tag::equals) && StructuredFields.groupEtagOfResponse(tag) != null
                        && GroupProxyScenario.total(servers, "cached") == 3,
                "GPX_12 from the cache alone: every part carries the set's one Group-ETag", cached);
        Reply valid = curl("coap://lights.example/cached", "Multicast-Timeout: 1", "Group-ETag: :AAAAAAAAAAA=:, " + tag);
        check(valid.statusLine().equals("HTTP/1.1 304 Not Modified") && tag != null && tag.equals(valid.header("Group-ETag"))
                        && valid.body().length == 0 && valid.header("Cache-Control") != null
                        && GroupProxyScenario.total(servers, "cached") == 3,
                "GPX_12 a matching Group-ETag: 304 with that one Group-ETag member and no body", valid);
        Reply malformed = curl("coap://lights.example/cached", "Multicast-Timeout: 1", "Group-ETag: " + tag + ", (1 2)");
        check(malformed.statusLine().equals("HTTP/1.1 200 OK") && tags(parts(malformed)) != null,
                "GPX_12 a malformed Group-ETag field (a member that is no Byte Sequence) is ignored as a whole: 200, three parts",
                malformed);
        Reply oversized = curl("coap://lights.example/cached", "Multicast-Timeout: 1", "Group-ETag: " + tag + ", :AQIDBAUGBwgJ:");
        check(oversized.statusLine().equals("HTTP/1.1 200 OK") && tags(parts(oversized)) != null,
                "GPX_12 a Group-ETag member of 9 bytes makes the field ignored as a whole: 200, three parts", oversized);
    }
}
