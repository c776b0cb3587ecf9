package dev.coterie.app;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.ReplyFrom;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.keystore.Hex;
import dev.coterie.proxy.StructuredFields;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * The demo's web client: a Group OSCORE group-mode GET sealed here, carried to the proxy's HTTP
 * front end as RFC 8613 Section 11 says (POST, the OSCORE header field, an application/oscore
 * body), the group's responses back as one multipart/mixed of application/http parts
 * (groupcomm-proxy Section 9), each part turned back into the protected CoAP response it
 * translates and verified end to end. The front end never holds a group key.
 */
final class DemoHttpRead {
    private final ExtensionOptionRegistry registry;
    private final PrintStream out;

    DemoHttpRead(ExtensionOptionRegistry registry, PrintStream out) {
        this.registry = registry;
        this.out = out;
    }

    /** @return the number of parts that verified as 2.05 responses of a group member */
    int run(String front, String target, RequestProtector groupMode, long tPrime) throws Exception {
        Request plain = new Request(CoAP.Code.GET, CoAP.Type.CON);
        plain.getOptions().setProxyUri(target);
        ProtectionPipeline pipeline = new ProtectionPipeline(registry, InnerObserve.EMPTY, true);
        ProtectionPipeline.LayeredRequest sealed;
        try {
            sealed = pipeline.protectRequest(plain, List.of(groupMode), -1, null);
        } catch (OscoreException e) {
            out.println("      request not sent: " + e.getMessage());
            return 0;
        }
        Request wire = sealed.wire();
        byte[] oscore = wire.getOptions().getOscore();
        HttpRequest http = HttpRequest.newBuilder(URI.create("http://" + front + "/hc/" + target))
                .timeout(Duration.ofSeconds(tPrime + 10))
                .header("OSCORE", oscore.length == 0 ? "AA" : Base64.getUrlEncoder().withoutPadding().encodeToString(oscore))
                .header("Content-Type", "application/oscore")
                .header("Multicast-Timeout", Long.toString(tPrime))
                .POST(HttpRequest.BodyPublishers.ofByteArray(wire.getPayload()))
                .build();
        HttpResponse<byte[]> answer = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build().send(http, HttpResponse.BodyHandlers.ofByteArray());
        String type = answer.headers().firstValue("Content-Type").orElse("");
        out.println("      |<-- HTTP " + answer.statusCode() + " " + type);
        List<String> parts = parts(type, new String(answer.body(), StandardCharsets.ISO_8859_1));
        if (answer.statusCode() != 200 || parts == null) {
            out.println("      |        not a multipart answer of the group");
            return 0;
        }
        int verified = 0;
        for (String part : parts) {
            verified += part(part, pipeline, sealed) ? 1 : 0;
        }
        return verified;
    }

    /** One application/http part: its response rebuilt as the protected CoAP response and verified. */
    private boolean part(String part, ProtectionPipeline pipeline, ProtectionPipeline.LayeredRequest sealed) {
        int headEnd = part.indexOf("\r\n\r\n");
        String message = headEnd < 0 ? "" : part.substring(headEnd + 4);
        int bodyAt = message.indexOf("\r\n\r\n");
        if (!part.startsWith("Content-Type: application/http\r\n") || bodyAt < 0) {
            out.println("      |   a part that is no application/http response");
            return false;
        }
        String[] lines = message.substring(0, bodyAt).split("\r\n");
        byte[] body = message.substring(bodyAt + 4).getBytes(StandardCharsets.ISO_8859_1);
        String oscoreField = field(lines, "OSCORE");
        String replyFromField = field(lines, "Reply-From");
        String from;
        try {
            byte[] rf = replyFromField == null ? null : StructuredFields.replyFrom(replyFromField);
            from = rf == null ? "(no Reply-From)" : ReplyFrom.decode(rf).target().toUri();
        } catch (IllegalArgumentException e) {
            from = "(malformed Reply-From)";
        }
        if (!lines[0].startsWith("HTTP/1.1 200") || oscoreField == null) {
            out.println("      |   " + lines[0] + ", Reply-From " + from + ": not a protected response");
            return false;
        }
        Response r = new Response(CoAP.ResponseCode.CHANGED);
        r.getOptions().setOscore(oscoreField.equals("AA") ? new byte[0] : Base64.getUrlDecoder().decode(oscoreField));
        r.setPayload(body);
        r.setSourceContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", 0)));
        try {
            ProtectionPipeline.LayeredResponse lr = pipeline.unprotectResponse(r, sealed.identifiers());
            Response p = lr.plain();
            OscorePeer peer = lr.last().peer();
            String kid = peer == null || peer.kid() == null ? "?" : Hex.encode(peer.kid());
            out.println(String.format("      |<-- part: %s %s \"%s\", Reply-From %s%n      |        member %s (%s), verified end to end",
                    p.getCode(), p.getCode().name(), ClientRun.payload(p.getPayload()), from, kid,
                    peer == null ? "?" : peer.mode().label()));
            return p.getCode() == CoAP.ResponseCode.CONTENT;
        } catch (OscoreException e) {
            out.println("      |   part from " + from + " rejected: " + e.getMessage());
            return false;
        }
    }

    private static String field(String[] lines, String name) {
        String prefix = name.toLowerCase(Locale.ROOT) + ":";
        for (String l : lines) {
            if (l.toLowerCase(Locale.ROOT).startsWith(prefix)) {
                return l.substring(prefix.length()).trim();
            }
        }
        return null;
    }

    /** The parts of a multipart/mixed body (RFC 2046 Section 5.1), or null when it is not one. */
    static List<String> parts(String contentType, String body) {
        String prefix = "multipart/mixed; boundary=";
        if (!contentType.startsWith(prefix)) {
            return null;
        }
        String delimiter = "--" + contentType.substring(prefix.length());
        String first = delimiter + "\r\n";
        String close = "\r\n" + delimiter + "--\r\n";
        if (!body.startsWith(first) || !body.endsWith(close)) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (String p : body.substring(first.length(), body.length() - close.length()).split(
                java.util.regex.Pattern.quote("\r\n" + delimiter + "\r\n"), -1)) {
            out.add(p);
        }
        return out;
    }
}
