package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP front end (RFC 8075) with curl as the client and a plain CoAP origin on loopback:
 * exact status lines, header fields and bodies, each refusal next to its positive control.
 */
class HttpFrontEndTest {
    private static Curl curl;

    @TempDir
    Path dir;
    private Origin origin;

    @BeforeAll
    static void curl() throws Exception {
        curl = Curl.ensure();
    }

    @BeforeEach
    void start() {
        origin = new Origin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    static String config(String access, String http) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 2000}\n"
                + "http: {listen: '127.0.0.1:0', unauthenticated: allow" + http + "}\naccess:\n" + access;
    }

    static final String ANYONE = "  - {client: unauthenticated, allow: [{origin: '*'}]}\n";

    private String base(ProxyFixture f) {
        InetSocketAddress a = f.proxy.httpAddress();
        return "http://127.0.0.1:" + a.getPort() + "/hc/";
    }

    private String target(String path) {
        return "coap://127.0.0.1:" + origin.port() + path;
    }

    @Test
    void HC_01_aGetThroughTheFrontEndReachesThePlainOrigin_exactResponse() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            Curl.Reply r = curl.run(dir, List.of(), base(f) + target("/sensors/temp"));
            assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.toString());
            assertEquals(List.of("content-type", "cache-control", "content-length"), r.names(), r.toString());
            assertEquals("text/plain;charset=utf-8", r.header("Content-Type"));
            assertEquals("max-age=60", r.header("Cache-Control"));
            assertEquals("4", r.header("Content-Length"));
            assertEquals("21.5", r.text());
            Request got = origin.last();
            assertEquals(org.eclipse.californium.core.coap.CoAP.Code.GET, got.getCode());
            assertEquals(List.of("sensors", "temp"), got.getOptions().getUriPath());
            assertFalse(got.getOptions().hasProxyUri(), "the proxy consumed Proxy-Uri");
            assertEquals(1.0, f.proxy.metrics().httpAnswers("2xx"));
        }
    }

    @Test
    void HC_02_anIpv6LiteralInPercentEncodedBracketsReachesTheOrigin() throws Exception {
        org.eclipse.californium.core.CoapServer v6 = new org.eclipse.californium.core.CoapServer(
                dev.coterie.oscore.OscoreEndpointBuilder.defaultConfiguration());
        v6.addEndpoint(new org.eclipse.californium.core.network.CoapEndpoint.Builder()
                .setInetSocketAddress(new InetSocketAddress("::1", 0)).build());
        java.util.List<Request> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        v6.add(new org.eclipse.californium.core.CoapResource("light") {
            @Override
            public void handleGET(org.eclipse.californium.core.server.resources.CoapExchange e) {
                seen.add(e.advanced().getRequest());
                e.respond(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT, "on");
            }
        });
        v6.start();
        String cfg = config(ANYONE, "").replace("forward_proxy: true\n", "forward_proxy: true\nupstream_bind: '[::1]:0'\n");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            int port = v6.getEndpoints().get(0).getAddress().getPort();
            Curl.Reply r = curl.run(dir, List.of(), base(f) + "coap://%5B::1%5D:" + port + "/light?on");
            assertEquals(200, r.status(), r.toString());
            assertEquals("on", r.text());
            assertEquals(List.of("on"), seen.get(0).getOptions().getUriQuery());
            // the same literal without brackets is not a URI authority: 400, nothing sent
            Curl.Reply bare = curl.run(dir, List.of(), base(f) + "coap://::1:" + port + "/light");
            assertEquals(400, bare.status(), bare.toString());
            assertEquals(1, seen.size());
        } finally {
            v6.destroy();
        }
    }

    @Test
    void HC_01_anythingButTheTemplateTuWithACoapTargetIsRefused() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            String port = "127.0.0.1:" + f.proxy.httpAddress().getPort();
            Curl.Reply noScheme = curl.run(dir, List.of(), "http://" + port + "/hc/127.0.0.1:" + origin.port() + "/sensors/temp");
            assertEquals(400, noScheme.status(), noScheme.toString());
            assertEquals("text/plain;charset=utf-8", noScheme.header("Content-Type"));
            assertTrue(noScheme.text().startsWith("the Hosting HTTP URI must name a coap:// target after /hc/"), noScheme.text());
            Curl.Reply query = curl.run(dir, List.of(), "http://" + port + "/hc/?target_uri=" + target("/sensors/temp"));
            assertEquals(400, query.status(), "the simple form with a query is not supported: " + query);
            Curl.Reply coaps = curl.run(dir, List.of(), "http://" + port + "/hc/coaps://127.0.0.1:" + origin.port() + "/x");
            assertEquals(400, coaps.status(), coaps.toString());
            Curl.Reply elsewhere = curl.run(dir, List.of(), "http://" + port + "/other/" + target("/sensors/temp"));
            assertEquals(404, elsewhere.status(), elsewhere.toString());
            assertEquals(0, origin.received.size(), "nothing was forwarded");
            // positive control: the same target under the prefix
            assertEquals(200, curl.run(dir, List.of(), "http://" + port + "/hc/" + target("/sensors/temp")).status());
            // the scheme is case-insensitive; absolute-form request targets count by their path
            assertEquals(200, curl.run(dir, List.of(), "http://" + port + "/hc/COAP://127.0.0.1:" + origin.port()
                    + "/sensors/temp").status());
        }
    }

    @Test
    void HC_03_contentTypeBecomesContentFormat_anUnmappableOneIs415() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            Curl.Reply ok = curl.run(dir, List.of("-H", "Content-Type: application/json", "--data-binary", "{\"on\":true}"),
                    base(f) + target("/echo"));
            assertEquals("HTTP/1.1 200 OK", ok.statusLine(), "2.04 with a payload is 200: " + ok);
            assertEquals("{\"on\":true}", ok.text());
            assertEquals(List.of("content-length"), ok.names(), "the echo has no Content-Format: " + ok);
            assertEquals(org.eclipse.californium.core.coap.CoAP.Code.POST, origin.last().getCode());
            assertEquals(50, origin.last().getOptions().getContentFormat());
            int before = origin.received.size();
            for (String type : List.of("text/html", "application/coap-payload;cf=99", "text/plain;charset=iso-8859-1",
                    "no-slash", "application/x-www-form-urlencoded")) {
                Curl.Reply r = curl.run(dir, List.of("-H", "Content-Type: " + type, "--data-binary", "x"), base(f) + target("/echo"));
                assertEquals(415, r.status(), type + ": " + r);
                assertEquals("Unsupported Media Type", r.reason());
            }
            Curl.Reply gzip = curl.run(dir, List.of("-H", "Content-Type: text/plain", "-H", "Content-Encoding: gzip",
                    "--data-binary", "x"), base(f) + target("/echo"));
            assertEquals(415, gzip.status(), gzip.toString());
            assertEquals(before, origin.received.size(), "none of the refused requests was forwarded");
            // positive control: text/plain without a charset is text/plain;charset=utf-8
            Curl.Reply text = curl.run(dir, List.of("-H", "Content-Type: text/plain", "--data-binary", "x"), base(f) + target("/echo"));
            assertEquals(200, text.status(), text.toString());
            assertEquals(0, origin.last().getOptions().getContentFormat());
        }
    }

    @Test
    void HC_03_acceptBecomesTheAcceptOptionOfTheMostPreferredMappableType() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            String url = base(f) + target("/sensors/temp");
            curl.run(dir, List.of("-H", "Accept: text/html, application/cbor;q=0.5, application/json;q=0.4"), url);
            assertEquals(60, origin.last().getOptions().getAccept(), "text/html is dropped, cbor is preferred over json");
            curl.run(dir, List.of("-H", "Accept: */*"), url + "?all");
            assertFalse(origin.last().getOptions().hasAccept(), "*/* is no Accept option");
            curl.run(dir, List.of("-H", "Accept: text/html, image/webp"), url + "?none");
            assertFalse(origin.last().getOptions().hasAccept(), "only unmappable types: no Accept option");
            curl.run(dir, List.of("-H", "Accept: application/json;q=0, text/plain"), url + "?q0");
            assertEquals(0, origin.last().getOptions().getAccept(), "q=0 is not acceptable");
        }
    }

    @Test
    void HC_03_etagsAndPreconditions() throws Exception {
        origin.etag = new byte[] {(byte) 0xa1, (byte) 0xb2};
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, "") + "cache: {enabled: false}\n")) {
            String url = base(f) + target("/sensors/temp");
            Curl.Reply full = curl.run(dir, List.of(), url);
            assertEquals(200, full.status());
            assertEquals("\"a1b2\"", full.header("ETag"));
            Curl.Reply valid = curl.run(dir, List.of("-H", "If-None-Match: \"ffff\", \"a1b2\""), url);
            assertEquals("HTTP/1.1 304 Not Modified", valid.statusLine(), valid.toString());
            assertEquals("\"a1b2\"", valid.header("ETag"));
            assertEquals(0, valid.body().length);
            assertEquals(2, origin.last().getOptions().getETagCount(), "both tags went as ETag options");
            Curl.Reply other = curl.run(dir, List.of("-H", "If-None-Match: \"not-hex\""), url);
            assertEquals(200, other.status(), "a tag no CoAP ETag can be is dropped: an unconditional GET");
        }
    }

    /** curl's --data-binary says application/x-www-form-urlencoded unless told otherwise (which would be 415). */
    static final String OCTETS = "Content-Type: application/octet-stream";

    /** A raw origin that answers 2.04 to everything and records what it got. */
    private static RawOrigin changed() throws Exception {
        return new RawOrigin(r -> RawOrigin.ack(r, 0x44, new byte[0]));
    }

    @Test
    void HC_03_methodsAndPreconditionsMapOneToOne_anUnmappableIfMatchIs412() throws Exception {
        try (RawOrigin raw = changed(); ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            String url = base(f) + "coap://127.0.0.1:" + raw.port() + "/doc";
            for (String m : List.of("PUT", "DELETE", "FETCH", "PATCH", "iPATCH", "POST")) {
                List<String> args = m.equals("DELETE") ? List.of("-X", m) : List.of("-X", m, "-H", OCTETS, "--data-binary", "v");
                Curl.Reply r = curl.run(dir, args, url);
                assertEquals("HTTP/1.1 204 No Content", r.statusLine(), m + ": 2.04 without a payload is 204: " + r);
                assertEquals(List.of(), r.names(), m + ": " + r);
                assertEquals(m.toUpperCase(java.util.Locale.ROOT), raw.received.get(raw.received.size() - 1).getCode().name(), m);
            }
            for (String m : List.of("HEAD", "OPTIONS", "TRACE")) {
                int before = raw.received.size();
                Curl.Reply r = curl.run(dir, m.equals("HEAD") ? List.of("-I") : List.of("-X", m), url);
                assertEquals(501, r.status(), m + ": " + r);
                assertEquals(before, raw.received.size(), m + " is not forwarded");
            }
            Curl.Reply any = curl.run(dir, List.of("-X", "PUT", "-H", OCTETS, "-H", "If-Match: *", "--data-binary", "1"), url);
            assertEquals(204, any.status(), any.toString());
            assertArrayEquals(new byte[0], raw.received.get(raw.received.size() - 1).getOptions().getIfMatch().get(0));
            Curl.Reply tag = curl.run(dir, List.of("-X", "PUT", "-H", OCTETS, "-H", "If-Match: \"0102\", \"zz\"", "--data-binary", "1"), url);
            assertEquals(204, tag.status(), tag.toString());
            List<byte[]> ifMatch = raw.received.get(raw.received.size() - 1).getOptions().getIfMatch();
            assertEquals(1, ifMatch.size(), "the tag that is no CoAP ETag is dropped");
            assertArrayEquals(new byte[] {1, 2}, ifMatch.get(0));
            int before = raw.received.size();
            Curl.Reply never = curl.run(dir, List.of("-X", "PUT", "-H", OCTETS, "-H", "If-Match: \"zz\"", "--data-binary", "1"), url);
            assertEquals(412, never.status(), never.toString());
            assertEquals(before, raw.received.size(), "an If-Match that no representation can match is not forwarded");
            Curl.Reply create = curl.run(dir, List.of("-X", "PUT", "-H", OCTETS, "-H", "If-None-Match: *", "--data-binary", "1"), url);
            assertEquals(204, create.status(), create.toString());
            assertTrue(raw.received.get(raw.received.size() - 1).getOptions().hasIfNoneMatch());
            Curl.Reply getBody = curl.run(dir, List.of("-X", "GET", "--data-binary", "1"), url);
            assertEquals(400, getBody.status(), "a GET with a body: " + getBody);
        }
    }

    /** What a row of Table 2 is asked with and must give. */
    private record Row(String path, List<String> args, int status, String reason) {
    }

    /**
     * The origin's answer to /c/CDD (code C.DD) or /c/CDDp (with the payload "body"): error codes
     * carry the diagnostic "why C.DD"; 2.01 a Location-Path items/7, 2.05 the unknown
     * Content-Format 9999, 5.03 Max-Age 7.
     */
    private static byte[] coded(Request r) {
        String seg = r.getOptions().getUriPath().get(1);
        int cls = seg.charAt(0) - '0';
        int detail = Integer.parseInt(seg.substring(1, 3));
        int code = cls << 5 | detail;
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        int last = 0;
        if (code == 0x41) {
            o.writeBytes(RawOrigin.option(0, 8, "items".getBytes()));
            o.writeBytes(RawOrigin.option(8, 8, "7".getBytes()));
            last = 8;
        }
        if (code == 0x45) {
            o.writeBytes(RawOrigin.option(last, 12, new byte[] {0x27, 0x0f}));
        }
        if (code == 0xa3) {
            o.writeBytes(RawOrigin.option(last, 14, new byte[] {7}));
        }
        String payload = cls >= 4 ? "why " + cls + "." + seg.substring(1, 3) : seg.endsWith("p") ? "body" : null;
        if (payload != null) {
            o.write(0xff);
            o.writeBytes(payload.getBytes());
        }
        return RawOrigin.ack(r, code, o.toByteArray());
    }

    @Test
    void HC_04_HC_05_theResponseCodeTableRowByRow_diagnosticsInTheBody() throws Exception {
        java.util.Map<String, List<Row>> rows = new java.util.LinkedHashMap<>();
        rows.put("2.01", List.of(new Row("201", List.of(), 201, "Created")));
        rows.put("2.02", List.of(new Row("202p", List.of(), 200, "OK"), new Row("202", List.of(), 204, "No Content")));
        rows.put("2.03", List.of(new Row("203", List.of("-H", "If-None-Match: \"01\""), 304, "Not Modified"),
                new Row("203", List.of(), 200, "OK")));
        rows.put("2.04", List.of(new Row("204p", List.of(), 200, "OK"), new Row("204", List.of(), 204, "No Content")));
        rows.put("2.05", List.of(new Row("205p", List.of(), 200, "OK")));
        rows.put("2.31", List.of(new Row("231", List.of(), 502, "Bad Gateway")));
        rows.put("4.00", List.of(new Row("400", List.of(), 400, "Bad Request")));
        rows.put("4.01", List.of(new Row("401", List.of(), 403, "Forbidden")));
        rows.put("4.02", List.of(new Row("402", List.of("-H", "Accept: application/json"), 400, "Bad Request"),
                new Row("402", List.of(), 500, "Internal Server Error")));
        rows.put("4.03", List.of(new Row("403", List.of(), 403, "Forbidden")));
        rows.put("4.04", List.of(new Row("404", List.of(), 404, "Not Found")));
        rows.put("4.05", List.of(new Row("405", List.of(), 400, "CoAP server returned 4.05 (Method Not Allowed)")));
        rows.put("4.06", List.of(new Row("406", List.of(), 406, "Not Acceptable")));
        rows.put("4.08", List.of(new Row("408", List.of(), 502, "Bad Gateway")));
        rows.put("4.12", List.of(new Row("412", List.of(), 412, "Precondition Failed")));
        rows.put("4.13", List.of(new Row("413", List.of(), 413, "Request Entity Too Large")));
        rows.put("4.15", List.of(new Row("415", List.of(), 415, "Unsupported Media Type")));
        rows.put("5.00", List.of(new Row("500", List.of(), 500, "Internal Server Error")));
        rows.put("5.01", List.of(new Row("501", List.of(), 501, "Not Implemented")));
        rows.put("5.02", List.of(new Row("502", List.of(), 502, "Bad Gateway")));
        rows.put("5.03", List.of(new Row("503", List.of(), 503, "Service Unavailable")));
        rows.put("5.04", List.of(new Row("504", List.of(), 504, "Gateway Timeout")));
        rows.put("5.05", List.of(new Row("505", List.of(), 502, "Bad Gateway")));
        com.fasterxml.jackson.databind.JsonNode table = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(getClass().getResourceAsStream("/vectors/rfc8075-examples.json")).get("response_code_mapping");
        java.util.Set<String> listed = new java.util.LinkedHashSet<>();
        try (RawOrigin raw = new RawOrigin(HttpFrontEndTest::coded); ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            for (com.fasterxml.jackson.databind.JsonNode row : table) {
                String coap = row.get("coap").asText();
                String http = row.get("http").asText();
                listed.add(coap);
                List<Row> cases = rows.get(coap);
                assertNotNull(cases, "no test case for the table's row " + coap);
                for (Row c : cases) {
                    boolean na = http.equals("N/A");
                    assertTrue(na && c.status() == 502 || http.contains(String.valueOf(c.status())),
                            coap + ": " + c.status() + " is not what the table says (" + http + ")");
                    Curl.Reply r = curl.run(dir, c.args(), base(f) + "coap://127.0.0.1:" + raw.port() + "/c/" + c.path());
                    String why = coap + " " + c + ": " + r;
                    assertEquals("HTTP/1.1 " + c.status() + " " + c.reason(), r.statusLine(), why);
                    if (coap.startsWith("4") || coap.startsWith("5")) {
                        // HC-05: the diagnostic is the body, as text, and never the reason phrase
                        assertEquals("why " + coap, r.text(), why);
                        assertEquals("text/plain;charset=utf-8", r.header("Content-Type"), why);
                        assertFalse(r.reason().contains("why"), why);
                    } else if (c.status() == 204 || c.status() == 304) {
                        assertEquals(0, r.body().length, why);
                        assertNull(r.header("Content-Length"), why);
                    } else if (c.path().endsWith("p")) {
                        assertEquals("body", r.text(), why);
                    }
                }
            }
            assertEquals(rows.keySet(), listed, "every row of Table 2 is tested, and only those");
            // the rows' other fields
            Curl.Reply created = curl.run(dir, List.of(), base(f) + "coap://127.0.0.1:" + raw.port() + "/c/201");
            assertEquals("/hc/coap://127.0.0.1:" + raw.port() + "/items/7", created.header("Location"), created.toString());
            Curl.Reply unknown = curl.run(dir, List.of(), base(f) + "coap://127.0.0.1:" + raw.port() + "/c/205p?again");
            assertEquals("application/coap-payload;cf=9999", unknown.header("Content-Type"), unknown.toString());
            assertEquals("max-age=60", unknown.header("Cache-Control"), "no Max-Age: CoAP's default 60 s");
            Curl.Reply busy = curl.run(dir, List.of(), base(f) + "coap://127.0.0.1:" + raw.port() + "/c/503?again");
            assertEquals("7", busy.header("Retry-After"), busy.toString());
            assertEquals("max-age=7", busy.header("Cache-Control"), busy.toString());
        }
    }

    @Test
    void HC_05_theProxysOwnRefusalsCarryTheirDiagnosticAsTheBody() throws Exception {
        String onlyKid = "  - {client: {kid: '0c'}, allow: [{origin: '*'}]}\n";
        try (ProxyFixture f = new ProxyFixture(config(onlyKid, ""))) {
            Curl.Reply r = curl.run(dir, List.of(), base(f) + target("/sensors/temp"));
            assertEquals("HTTP/1.1 403 Forbidden", r.statusLine(), "4.01 is 403: " + r);
            assertEquals("Forwarding not authorised", r.text());
            assertEquals(List.of("content-type", "cache-control", "content-length"), r.names(), r.toString());
            assertEquals("max-age=0", r.header("Cache-Control"), "the proxy's own error: Max-Age 0");
            assertEquals(0, origin.received.size());
        }
    }

    @Test
    void HC_06_aMulticastTargetIs403WhenTheProxyHasNoGroups() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            Curl.Reply r = curl.run(dir, List.of("-H", "Multicast-Timeout: 2"), base(f) + "coap://224.0.1.187/light");
            assertEquals("HTTP/1.1 403 Forbidden", r.statusLine(), r.toString());
            assertEquals("this proxy does not forward to multicast targets", r.text());
            Curl.Reply v6 = curl.run(dir, List.of(), base(f) + "coap://%5Bff02::fd%5D/light");
            assertEquals(403, v6.status(), v6.toString());
            assertEquals(0.0, f.proxy.metrics().count(ProxyMetrics.Outcome.NOT_A_FORWARD_PROXY), "refused before the forwarder");
            // positive control: a unicast target of the same proxy
            assertEquals(200, curl.run(dir, List.of(), base(f) + target("/sensors/temp")).status());
        }
    }

    @Test
    void HC_07_anOriginThatNeverAnswersIs504AtTheUpstreamTimeout() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, "").replace("upstream_timeout_ms: 2000", "upstream_timeout_ms: 500"))) {
            Curl.Reply r = curl.run(dir, List.of(), base(f) + target("/slow"));
            assertEquals("HTTP/1.1 504 Gateway Timeout", r.statusLine(), r.toString());
            assertEquals(1, origin.received.size(), "the request reached the origin");
            assertEquals(200, curl.run(dir, List.of(), base(f) + target("/sensors/temp")).status(), "positive control");
        }
    }

    @Test
    void HC_08_theFrontEndRunsOnlyWithUnauthenticatedAllow_itsClientsAreUnauthenticated() throws Exception {
        for (String http : List.of("{listen: '127.0.0.1:0'}", "{listen: '127.0.0.1:0', unauthenticated: deny}",
                "{listen: '127.0.0.1:0', unauthenticated: true}")) {
            ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                    () -> ProxyFixture.config("forward_proxy: true\nhttp: " + http + "\n"));
            assertTrue(e.getMessage().contains("'http.unauthenticated': must be 'allow'"), e.getMessage());
            assertTrue(e.getMessage().contains("RFC 8075 asks an HC proxy to authenticate by default"), e.getMessage());
        }
        ProxyConfig ok = ProxyFixture.config("forward_proxy: true\nhttp: {listen: '127.0.0.1:8080', unauthenticated: allow}\n");
        assertEquals(new ProxyConfig.Http(new InetSocketAddress("127.0.0.1", 8080), "/hc/", 65536, 100, 30), ok.http());
        // the access list decides for "unauthenticated": positive control in HC_01, refusal in HC_05
        try (ProxyFixture f = new ProxyFixture(config("  - {client: unauthenticated, allow: [{origin: '127.0.0.1:1'}]}\n", ""))) {
            assertEquals(403, curl.run(dir, List.of(), base(f) + target("/sensors/temp")).status());
        }
    }

    /** Waits (bounded) until {@code condition} holds; false if it never did within 10 s. */
    private static boolean eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return condition.getAsBoolean();
    }

    @Test
    void LIMITS_aBodyPastMaxBodyBytesIs413_oneAtTheLimitIsForwarded() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ", max_body_bytes: 16"))) {
            Curl.Reply big = curl.run(dir, List.of("-H", OCTETS, "--data-binary", "12345678901234567"), base(f) + target("/echo"));
            assertEquals("HTTP/1.1 413 Request Entity Too Large", big.statusLine(), big.toString());
            assertEquals(0, origin.received.size());
            Curl.Reply ok = curl.run(dir, List.of("-H", OCTETS, "--data-binary", "1234567890123456"), base(f) + target("/echo"));
            assertEquals(200, ok.status(), ok.toString());
            assertEquals("1234567890123456", ok.text());
        }
    }

    @Test
    void LIMITS_aConnectionPastMaxConnectionsGetsOne503AndIsClosed() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ", max_connections: 1"))) {
            java.util.function.IntSupplier open = () -> f.proxy.metrics().httpConnections().get();
            try (java.net.Socket held = new java.net.Socket("127.0.0.1", f.proxy.httpAddress().getPort())) {
                assertTrue(eventually(() -> open.getAsInt() == 1), "the held connection is open");
                Curl.Reply r = curl.run(dir, List.of(), base(f) + target("/sensors/temp"));
                assertEquals("HTTP/1.1 503 Service Unavailable", r.statusLine(), r.toString());
                assertEquals("close", r.header("Connection"));
                assertEquals("too many connections", r.text());
                assertEquals(1.0, f.proxy.metrics().httpConnectionsRefused());
            }
            assertTrue(eventually(() -> open.getAsInt() == 0), "the held connection closed");
            assertEquals(200, curl.run(dir, List.of(), base(f) + target("/sensors/temp")).status(), "positive control");
            assertEquals(1, origin.received.size(), "only the positive control was forwarded");
        }
    }

    @Test
    void LIMITS_anIdleConnectionIsClosed_notOneWithARequestInProgress() throws Exception {
        String cfg = config(ANYONE, ", idle_timeout_s: 1").replace("upstream_timeout_ms: 2000", "upstream_timeout_ms: 2500");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            try (java.net.Socket idle = new java.net.Socket("127.0.0.1", f.proxy.httpAddress().getPort())) {
                idle.setSoTimeout(10_000);
                assertEquals(-1, idle.getInputStream().read(), "the server closed the idle connection");
            }
            // a request that takes longer than the idle timeout: answered (504 at the upstream timeout), not cut off
            Curl.Reply slow = curl.run(dir, List.of(), base(f) + target("/slow"));
            assertEquals(504, slow.status(), slow.toString());
            assertEquals(0, slow.exit());
        }
    }

    @Test
    void LIMITS_requestsInFlightAreTheProxysExchangeLimit_past503WithRetryAfter() throws Exception {
        String cfg = config(ANYONE, "").replace("limits: {upstream_timeout_ms: 2000}", "limits: {upstream_timeout_ms: 3000, exchanges: 1}");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            Process held = curl.start(dir, List.of(), base(f) + target("/slow"));
            try {
                assertTrue(eventually(() -> f.proxy.metrics().inFlight().get() == 1), "the slow request holds the one exchange");
                Curl.Reply r = curl.run(dir, List.of(), base(f) + target("/sensors/temp"));
                assertEquals("HTTP/1.1 503 Service Unavailable", r.statusLine(), r.toString());
                assertEquals("5", r.header("Retry-After"), "limits.retry_after_s: " + r);
                assertEquals("too many exchanges in flight", r.text());
                assertTrue(held.waitFor(20, java.util.concurrent.TimeUnit.SECONDS));
            } finally {
                held.destroyForcibly();
            }
            assertTrue(eventually(() -> f.proxy.metrics().inFlight().get() == 0));
            assertEquals(200, curl.run(dir, List.of(), base(f) + target("/sensors/temp")).status(), "positive control");
        }
    }

    @Test
    void LIMITS_anOverlongRequestLineIs414_overlongHeaderFieldsAre431() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""))) {
            Curl.Reply line = curl.run(dir, List.of(), base(f) + target("/sensors/temp?" + "q".repeat(HttpFrontEnd.MAX_LINE)));
            assertEquals(414, line.status(), line.toString());
            Curl.Reply fields = curl.run(dir, List.of("-H", "X-Big: " + "v".repeat(HttpFrontEnd.MAX_HEADERS)),
                    base(f) + target("/sensors/temp"));
            assertEquals(431, fields.status(), fields.toString());
            Curl.Reply target = curl.run(dir, List.of(), base(f) + target("/sensors/temp?" + "q".repeat(1100)));
            assertEquals(414, target.status(), "a target longer than Proxy-Uri can carry: " + target);
            assertEquals("the target CoAP URI is longer than Proxy-Uri can carry", target.text());
            assertEquals(0, origin.received.size());
            assertEquals(200, curl.run(dir, List.of(), base(f) + target("/sensors/temp?q")).status(), "positive control");
        }
    }

    @Test
    void CONFIG_theHttpSectionIsCheckedFieldByField() throws Exception {
        String ok = "{listen: '127.0.0.1:8080', unauthenticated: allow";
        java.util.Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("forward_proxy: false\nhttp: " + ok + "}", "field 'http': the HTTP front end maps every request to a "
                + "forward-proxy request (Proxy-Uri): it needs forward_proxy: true");
        bad.put("forward_proxy: true\nhttp: {listen: '127.0.0.1', unauthenticated: allow}", "field 'http.listen': needs a port");
        bad.put("forward_proxy: true\nhttp: " + ok + ", path_prefix: hc}", "field 'http.path_prefix': must be an absolute path");
        bad.put("forward_proxy: true\nhttp: " + ok + ", path_prefix: '/hc'}", "field 'http.path_prefix': must be an absolute path");
        bad.put("forward_proxy: true\nhttp: " + ok + ", max_connections: 0}", "field 'http.max_connections': must be between 1");
        bad.put("forward_proxy: true\nhttp: " + ok + ", max_body_bytes: -1}", "field 'http.max_body_bytes': must be between 0");
        bad.put("forward_proxy: true\nhttp: " + ok + ", idle_timeout_s: 0}", "field 'http.idle_timeout_s': must be between 1");
        bad.put("forward_proxy: true\nhttp: " + ok + ", tls: true}", "field 'http.tls': unknown field");
        for (java.util.Map.Entry<String, String> e : bad.entrySet()) {
            ConfigException x = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class,
                    () -> ProxyFixture.config(e.getKey()), e.getKey());
            assertTrue(x.getMessage().contains(e.getValue()), e.getKey() + " -> " + x.getMessage());
        }
        ProxyConfig c = ProxyFixture.config("forward_proxy: true\nhttp: {listen: '[::1]:8081', unauthenticated: allow, "
                + "path_prefix: /, max_body_bytes: 0, max_connections: 7, idle_timeout_s: 9}");
        assertEquals(new ProxyConfig.Http(new InetSocketAddress("::1", 8081), "/", 0, 7, 9), c.http());
        assertNull(ProxyFixture.config("forward_proxy: true").http(), "no http section: no front end");
        assertEquals(List.of("http"), ProxyServer.restartOnly(ProxyFixture.config("forward_proxy: true"), c),
                "the front end changes only with a restart");
    }

    @Test
    void LIMITS_pipelinedRequestsAreAnsweredOneAfterTheOtherInOrder() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(ANYONE, ""));
             java.net.Socket s = new java.net.Socket("127.0.0.1", f.proxy.httpAddress().getPort())) {
            s.setSoTimeout(10_000);
            String two = "GET /hc/" + target("/sensors/temp") + " HTTP/1.1\r\nHost: p\r\n\r\n"
                    + "GET /elsewhere HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(two.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            String got = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            int first = got.indexOf("HTTP/1.1 200 OK\r\n");
            int second = got.indexOf("HTTP/1.1 404 Not Found\r\n");
            assertTrue(first == 0 && second > first && got.indexOf("21.5") < second, got);
            assertTrue(got.endsWith("not a Hosting HTTP URI of this proxy (they start with /hc/)"), got);
        }
    }
}
