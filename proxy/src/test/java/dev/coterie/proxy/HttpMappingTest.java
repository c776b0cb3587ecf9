package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ReplyFrom;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/** RFC 8075's URI template vectors and the group fields' mapping (GPX-12), without the network. */
class HttpMappingTest {
    private static final ForwardTarget.Numbers N = ForwardTarget.Numbers.of(ExtensionOptionRegistry.defaults());
    private final HttpMapping mapping = new HttpMapping("/hc/", N, true);

    /** The path of a hosting URI: what the request line carries (origin-form). */
    private static String path(String hostingUri) {
        int slash = hostingUri.indexOf('/', hostingUri.indexOf("://") + 3);
        return hostingUri.substring(slash);
    }

    @Test
    void HC_01_HC_02_theDefaultTemplateVectorsMapBack_theOtherTemplatesAreRefused() throws Exception {
        JsonNode vectors = new ObjectMapper().readTree(getClass().getResourceAsStream("/vectors/rfc8075-examples.json"))
                .get("vectors");
        int tu = 0;
        int others = 0;
        for (JsonNode v : vectors) {
            String template = v.get("inputs").get("template").asText();
            String hosting = v.get("outputs").get("hosting_http_uri").asText();
            assertEquals("https://p.example.com/hc/", v.get("inputs").get("hc_proxy_uri").asText());
            if (template.equals("{+tu}")) {
                assertEquals(v.get("inputs").get("target_coap_uri").asText(), HttpMapping.targetUri(path(hosting), "/hc/"),
                        v.get("name").asText());
                assertEquals(v.get("inputs").get("target_coap_uri").asText(), HttpMapping.targetUri(hosting, "/hc/"),
                        "an absolute-form request target: " + v.get("name").asText());
                tu++;
            } else {
                // not supported (docs/conformance.md HC-01): the request is refused, never guessed
                HttpMapping.Refused r = assertThrows(HttpMapping.Refused.class, () -> HttpMapping.targetUri(path(hosting), "/hc/"));
                assertEquals(400, r.status.code(), v.get("name").asText());
                others++;
            }
        }
        assertEquals(2, tu, "the default mapping and its IPv6 variant");
        assertEquals(9, others);
    }

    private HttpMapping.Mapped get(String... headers) throws Exception {
        HttpHeaders h = new DefaultHttpHeaders();
        for (int i = 0; i < headers.length; i += 2) {
            h.add(headers[i], headers[i + 1]);
        }
        return mapping.request("GET", "/hc/coap://lights.example/light", h, new byte[0]);
    }

    private static Option option(org.eclipse.californium.core.coap.Message m, int number) {
        return ForwardTarget.other(m.getOptions(), number);
    }

    @Test
    void GPX_12_multicastTimeoutOfTheRequest_aMalformedOneIsIgnored() throws Exception {
        HttpMapping.Mapped ok = get("Multicast-Timeout", "3");
        assertEquals(3L, ok.multicastTimeout());
        assertArrayEquals(new byte[] {3}, option(ok.coap(), N.multicastTimeout()).getValue());
        HttpMapping.Mapped zero = get("Multicast-Timeout", "");
        assertEquals(0L, zero.multicastTimeout());
        assertArrayEquals(new byte[0], option(zero.coap(), N.multicastTimeout()).getValue(), "0 is the empty option");
        for (String bad : List.of("3s", "-3", "3.0", "x")) {
            HttpMapping.Mapped m = get("Multicast-Timeout", bad);
            assertNull(m.multicastTimeout(), bad);
            assertNull(option(m.coap(), N.multicastTimeout()), bad + ": the field is ignored as a whole");
        }
        HttpMapping.Mapped twice = get("Multicast-Timeout", "3", "Multicast-Timeout", "4");
        assertNull(option(twice.coap(), N.multicastTimeout()), "two field lines are no *DIGIT");
    }

    @Test
    void GPX_12_groupEtagsOfTheRequest_aMalformedFieldIsIgnored_replyFromIsNeverForwarded() throws Exception {
        HttpMapping.Mapped ok = get("Group-ETag", ":AQ==:", "Group-ETag", ":AgM=:");
        List<Option> tags = ok.coap().getOptions().getOthers().stream().filter(o -> o.getNumber() == N.groupEtag()).toList();
        assertEquals(2, tags.size(), "two field lines are one list");
        assertArrayEquals(new byte[] {2, 3}, tags.get(1).getValue());
        assertTrue(ok.conditional(), "a 2.03 answers it as 304");
        HttpMapping.Mapped bad = get("Group-ETag", ":AQ==:, :AQIDBAUGBwgJ:");
        assertNull(option(bad.coap(), N.groupEtag()), "one member of 9 bytes: the whole field is ignored");
        assertFalse(bad.conditional());
        HttpMapping.Mapped rf = get("Reply-From", ":giCCRH8AAAEZFkU=:");
        assertNull(option(rf.coap(), N.replyFrom()), "Reply-From is a response field");
    }

    private static Response content(String payload, int server) {
        Response r = new Response(ResponseCode.CONTENT);
        r.getOptions().setContentFormat(0).setMaxAge(0);
        r.getOptions().addOption(new Option(N.replyFrom(), ReplyFrom.of(new InetSocketAddress("127.0.0.1", server)).encode()));
        r.setPayload(payload);
        return r;
    }

    @Test
    void GPX_12_aGroupsResponsesAreOneMultipartMixedOfApplicationHttpParts_exactBytes() throws Exception {
        HttpMapping.Mapped m = get("Multicast-Timeout", "2");
        HttpMapping.Translated t = mapping.collection(List.of(content("s1", 5701), content("s2", 5702)), m);
        assertEquals(200, t.status().code());
        String type = t.header("Content-Type");
        assertTrue(type.startsWith("multipart/mixed; boundary="), type);
        String b = type.substring("multipart/mixed; boundary=".length());
        String part = "Content-Type: application/http\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/plain;charset=utf-8\r\n"
                + "Cache-Control: max-age=0\r\nReply-From: %s\r\nContent-Length: 2\r\n\r\n%s\r\n";
        String expected = "--" + b + "\r\n" + String.format(part, ":giCCRH8AAAEZFkU=:", "s1")
                + "--" + b + "\r\n" + String.format(part, ":giCCRH8AAAEZFkY=:", "s2") + "--" + b + "--\r\n";
        assertEquals(expected, new String(t.body(), StandardCharsets.ISO_8859_1));
        HttpMapping.Translated none = mapping.collection(List.of(), m);
        assertEquals(204, none.status().code(), "no response within T'");
        assertEquals(0, none.body().length);
    }

    @Test
    void GPX_12_revalidationIs304WithOneGroupEtag_twoInAResponseAreLeftOut() throws Exception {
        HttpMapping.Mapped m = get("Multicast-Timeout", "2", "Group-ETag", ":AQIDBAUGBwg=:");
        Response valid = new Response(ResponseCode.VALID);
        valid.getOptions().addOption(new Option(N.groupEtag(), new byte[] {1, 2, 3, 4, 5, 6, 7, 8})).setMaxAge(25);
        HttpMapping.Translated t = mapping.response(valid, m);
        assertEquals(304, t.status().code());
        assertEquals(":AQIDBAUGBwg=:", t.header("Group-ETag"));
        assertEquals("max-age=25", t.header("Cache-Control"));
        assertEquals(0, t.body().length);
        valid.getOptions().addOption(new Option(N.groupEtag(), new byte[] {9}));
        assertNull(mapping.response(valid, m).header("Group-ETag"), "a response has exactly one Group-ETag, or none is mapped");
    }

    @Test
    void GPX_03_aMissingMulticastTimeoutComesBackAsAFieldOf0() throws Exception {
        Response r = new Response(ResponseCode.BAD_REQUEST);
        r.getOptions().addOption(new Option(N.multicastTimeout(), new byte[0])).setContentFormat(0).setMaxAge(0);
        r.setPayload("a group request needs Multicast-Timeout");
        HttpMapping.Translated t = mapping.response(r, get());
        assertEquals(400, t.status().code());
        assertEquals("0", t.header("Multicast-Timeout"));
        assertEquals("a group request needs Multicast-Timeout", new String(t.body(), StandardCharsets.UTF_8));
    }
}
