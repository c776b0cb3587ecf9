package dev.coterie.proxy;

import dev.coterie.keystore.Hex;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;

/**
 * RFC 8075 for the proxy's HTTP front end: an HTTP/1.1 request to a Hosting HTTP URI becomes a
 * CoAP request with Proxy-Uri naming the Target CoAP URI, and each CoAP answer an HTTP response.
 * No I/O here; {@link HttpFrontEnd} does that.
 *
 * <ul>
 * <li>URI (HC-01, HC-02): the default template {+tu} only: the request target is the
 * configured path prefix followed by the target CoAP URI; {@code %5B} / {@code %5D} around an
 * IPv6 literal are decoded; a target that is not {@code coap://} is 400. The other templates of
 * Section 5.4 (query forms, enhanced form) are not supported: their URIs are 400 too.
 * <li>Media types (HC-03): Content-Type to Content-Format by {@link #FORMATS}; an unmappable
 * one, a Content-Encoding, or {@code application/coap-payload} (no pass-through) is 415; Accept
 * becomes the Accept option of the most preferred mappable type, {@code *}{@code /*} and
 * unmappable ones are dropped. Back: Content-Format to Content-Type, an unknown one as
 * {@code application/coap-payload;cf=N}.
 * <li>Codes (HC-04) by {@link #status}; a diagnostic payload (HC-05) becomes the body, as
 * text/plain, never the reason phrase.
 * <li>ETags as {@code "hex"} (the CoAP ETag's bytes in lowercase hex), If-Match and
 * If-None-Match with them or {@code *}; Max-Age as {@code Cache-Control: max-age=N} (and as
 * Retry-After on a 5.03).
 * <li>OSCORE (RFC 8613 Section 11): the OSCORE header field (base64url without padding,
 * {@code AA} for an empty option) of a POST with an application/oscore body becomes the OSCORE
 * option and the ciphertext payload, with no Content-Format; a response with the OSCORE option
 * goes back with the field and {@code Content-Type: application/oscore}.
 * <li>Groups (GPX-12, {@link StructuredFields}): Multicast-Timeout, Group-ETag and Reply-From.
 * </ul>
 */
final class HttpMapping {
    /** A CoAP request is answered with this when the HTTP request cannot be mapped. */
    static final class Refused extends Exception {
        final HttpResponseStatus status;

        Refused(HttpResponseStatus status, String why) {
            super(why, null, false, false);
            this.status = status;
        }
    }

    /**
     * The CoAP request an HTTP request maps to, and what the mapping of its answers needs.
     *
     * @param multicastTimeout T' from a well-formed Multicast-Timeout field, or null
     * @param conditional whether the request asked to validate (ETags or Group-ETags): 2.03 is 304 then
     * @param fromHeaders whether an option came from a client header field (a 4.02 is 400 then, else 500)
     */
    record Mapped(Request coap, ForwardTarget target, Long multicastTimeout, boolean conditional, boolean fromHeaders) {
    }

    /** A translated HTTP response: status, header fields in order, body (empty for none). */
    record Translated(HttpResponseStatus status, List<Map.Entry<String, String>> headers, byte[] body) {
        String header(String name) {
            for (Map.Entry<String, String> h : headers) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    return h.getValue();
                }
            }
            return null;
        }
    }

    /** A Content-Format, its media type and the parameter that tells it apart (or null). */
    private record Format(int number, String type, String param, String value) {
        String text() {
            return param == null ? type : type + ";" + param + "=" + (param.equals("charset") ? value : "\"" + value + "\"");
        }
    }

    /** The CoAP Content-Formats this proxy maps (IANA CoAP Content-Formats registry). */
    static final List<Format> FORMATS = List.of(
            new Format(0, "text/plain", "charset", "utf-8"),
            new Format(16, "application/cose", "cose-type", "cose-encrypt0"),
            new Format(17, "application/cose", "cose-type", "cose-mac0"),
            new Format(18, "application/cose", "cose-type", "cose-sign1"),
            new Format(19, "application/ace+cbor", null, null),
            new Format(21, "image/gif", null, null),
            new Format(22, "image/jpeg", null, null),
            new Format(23, "image/png", null, null),
            new Format(40, "application/link-format", null, null),
            new Format(41, "application/xml", null, null),
            new Format(42, "application/octet-stream", null, null),
            new Format(47, "application/exi", null, null),
            new Format(50, "application/json", null, null),
            new Format(51, "application/json-patch+json", null, null),
            new Format(52, "application/merge-patch+json", null, null),
            new Format(60, "application/cbor", null, null),
            new Format(61, "application/cwt", null, null),
            new Format(62, "application/multipart-core", null, null),
            new Format(63, "application/cbor-seq", null, null),
            new Format(96, "application/cose", "cose-type", "cose-encrypt"),
            new Format(97, "application/cose", "cose-type", "cose-mac"),
            new Format(98, "application/cose", "cose-type", "cose-sign"),
            new Format(101, "application/cose-key", null, null),
            new Format(102, "application/cose-key-set", null, null),
            new Format(110, "application/senml+json", null, null),
            new Format(111, "application/sensml+json", null, null),
            new Format(112, "application/senml+cbor", null, null),
            new Format(113, "application/sensml+cbor", null, null),
            new Format(256, "application/coap-group+json", null, null),
            new Format(10001, "application/oscore", null, null));

    static final String OSCORE_TYPE = "application/oscore";
    static final String COAP_PAYLOAD = "application/coap-payload";
    static final String TEXT = "text/plain;charset=utf-8";
    /** The longest Proxy-Uri (RFC 7252 5.10.2). */
    static final int MAX_PROXY_URI = 1034;
    /** CoAP's default Max-Age (RFC 7252 5.10.5). */
    static final long DEFAULT_MAX_AGE = 60;

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String prefix;
    private final ForwardTarget.Numbers numbers;
    private final boolean groupsConfigured;

    /**
     * @param groupsConfigured whether the proxy forwards to groups: without, a multicast target
     *     is 403 (RFC 8075 Section 9, HC-06)
     */
    HttpMapping(String prefix, ForwardTarget.Numbers numbers, boolean groupsConfigured) {
        this.prefix = prefix;
        this.numbers = numbers;
        this.groupsConfigured = groupsConfigured;
    }

    /* ------------------------------------------------------------------------- HTTP to CoAP */

    /** The CoAP request for an HTTP request (method, request target as received, header fields, body). */
    Mapped request(String method, String requestTarget, HttpHeaders headers, byte[] body) throws Refused {
        CoAP.Code code = switch (method) {
            case "GET" -> CoAP.Code.GET;
            case "POST" -> CoAP.Code.POST;
            case "PUT" -> CoAP.Code.PUT;
            case "DELETE" -> CoAP.Code.DELETE;
            case "FETCH" -> CoAP.Code.FETCH;
            case "PATCH" -> CoAP.Code.PATCH;
            case "iPATCH" -> CoAP.Code.IPATCH;
            default -> throw new Refused(HttpResponseStatus.NOT_IMPLEMENTED, "method " + method + " is not mapped to CoAP");
        };
        String uri = targetUri(requestTarget, prefix);
        Request r = new Request(code, CoAP.Type.CON);
        byte[] token = new byte[8];
        RANDOM.nextBytes(token);
        r.setToken(Token.fromProvider(token));
        r.setMID(0);
        OptionSet o = r.getOptions();
        o.setProxyUri(uri);
        ForwardTarget target;
        try {
            target = ForwardTarget.checked(ForwardTarget.forward(r, numbers));
        } catch (ForwardTarget.Refusal e) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the target CoAP URI is not usable: " + e.getMessage());
        }
        if (!groupsConfigured && !target.hostIsName() && isMulticast(target.origin().host())) {
            throw new Refused(HttpResponseStatus.FORBIDDEN, "this proxy does not forward to multicast targets");
        }
        boolean fromHeaders = false;
        String encoding = headers.get("Content-Encoding");
        if (encoding != null && !encoding.trim().equalsIgnoreCase("identity")) {
            throw new Refused(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Encoding is not mapped to CoAP");
        }
        if (body.length > 0 && (code == CoAP.Code.GET || code == CoAP.Code.DELETE)) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "a " + method + " request carries no body here");
        }
        List<String> oscore = headers.getAll("OSCORE");
        String contentType = headers.get("Content-Type");
        MediaType type = contentType == null ? null : MediaType.parse(contentType);
        if (contentType != null && type == null) {
            throw new Refused(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type is not a media type");
        }
        if (!oscore.isEmpty()) {
            o.setOscore(oscoreOption(oscore, code, type));
            fromHeaders = true;
        } else if (type != null) {
            if (type.type.equals(OSCORE_TYPE)) {
                throw new Refused(HttpResponseStatus.BAD_REQUEST, "an application/oscore body needs the OSCORE header field");
            }
            int cf = contentFormat(type);
            if (body.length > 0) {
                o.setContentFormat(cf);
                fromHeaders = true;
            }
        }
        if (body.length > 0) {
            r.setPayload(body);
        }
        Integer accept = accept(headers.getAll("Accept"));
        if (accept != null) {
            o.setAccept(accept);
            fromHeaders = true;
        }
        fromHeaders |= preconditions(r, headers);
        boolean conditional = o.getETagCount() > 0;
        List<String> mt = headers.getAll("Multicast-Timeout");
        Long tPrime = mt.size() == 1 ? StructuredFields.multicastTimeout(mt.get(0).trim()) : null;
        if (tPrime != null) {
            o.addOption(new Option(numbers.multicastTimeout(), tPrime));
            fromHeaders = true;
        }
        List<String> ge = headers.getAll("Group-ETag");
        List<byte[]> groupEtags = ge.isEmpty() ? null : StructuredFields.groupEtagsOfRequest(String.join(", ", ge));
        if (groupEtags != null) {
            for (byte[] tag : groupEtags) {
                o.addOption(new Option(numbers.groupEtag(), tag));
            }
            conditional = true;
            fromHeaders = true;
        }
        // Reply-From is a response field: in a request it means nothing and is never forwarded
        return new Mapped(r, target, tPrime, conditional, fromHeaders);
    }

    /**
     * The target CoAP URI in a request target: {@code prefix} then the URI ({+tu}), brackets
     * percent-decoded. Absolute-form request targets ({@code http://proxy/hc/...}) count by their
     * path.
     */
    static String targetUri(String requestTarget, String prefix) throws Refused {
        String path = requestTarget;
        int scheme = path.indexOf("://");
        if (scheme > 0 && !path.startsWith("/")) {
            int slash = path.indexOf('/', scheme + 3);
            path = slash < 0 ? "/" : path.substring(slash);
        }
        if (!path.startsWith(prefix)) {
            throw new Refused(HttpResponseStatus.NOT_FOUND, "not a Hosting HTTP URI of this proxy (they start with " + prefix
                    + ")");
        }
        String t = path.substring(prefix.length()).replace("%5B", "[").replace("%5b", "[").replace("%5D", "]")
                .replace("%5d", "]");
        if (!t.regionMatches(true, 0, "coap://", 0, 7)) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the Hosting HTTP URI must name a coap:// target after " + prefix
                    + " (template {+tu}, e.g. " + prefix + "coap://host/path)");
        }
        t = "coap://" + t.substring(7);
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (c <= 0x20 || c >= 0x7f || c == '#') {
                throw new Refused(HttpResponseStatus.BAD_REQUEST, "the target CoAP URI has a character a URI does not");
            }
        }
        if (t.length() > MAX_PROXY_URI) {
            throw new Refused(HttpResponseStatus.REQUEST_URI_TOO_LONG, "the target CoAP URI is longer than Proxy-Uri can carry");
        }
        return t;
    }

    private static boolean isMulticast(String ipLiteral) {
        try {
            return InetAddress.getByName(ipLiteral).isMulticastAddress(); // a checked literal: nothing is looked up
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** RFC 8613 11.3: the OSCORE option of the field (AA for empty), for a POST with an application/oscore body. */
    private static byte[] oscoreOption(List<String> fields, CoAP.Code code, MediaType type) throws Refused {
        if (fields.size() != 1) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "one OSCORE header field, not " + fields.size());
        }
        if (code != CoAP.Code.POST) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the OSCORE header field comes with POST only (RFC 8613 11.1)");
        }
        if (type == null || !type.type.equals(OSCORE_TYPE)) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "a request with the OSCORE header field has an application/oscore "
                    + "body");
        }
        String v = fields.get(0).trim();
        if (v.length() < 2 || !v.matches("[A-Za-z0-9_-]+")) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the OSCORE header field is two or more base64url characters");
        }
        byte[] value;
        try {
            value = Base64.getUrlDecoder().decode(v);
        } catch (IllegalArgumentException e) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the OSCORE header field is not base64url");
        }
        if (!Base64.getUrlEncoder().withoutPadding().encodeToString(value).equals(v)) {
            throw new Refused(HttpResponseStatus.BAD_REQUEST, "the OSCORE header field is not base64url in its one form");
        }
        return value.length == 1 && value[0] == 0 ? new byte[0] : value;
    }

    /** The Content-Format of a request's media type, or 415. */
    private static int contentFormat(MediaType t) throws Refused {
        if (t.type.equals(COAP_PAYLOAD)) {
            throw new Refused(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "application/coap-payload is not passed through");
        }
        Integer cf = formatOf(t);
        if (cf == null) {
            throw new Refused(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, "Content-Type " + t.type
                    + " has no CoAP Content-Format here");
        }
        return cf;
    }

    /** The Content-Format of {@code t}, or null: text/plain with charset utf-8 or none; cose by cose-type. */
    static Integer formatOf(MediaType t) {
        for (Format f : FORMATS) {
            if (!f.type.equals(t.type)) {
                continue;
            }
            if (f.param == null) {
                return f.number;
            }
            String v = t.params.get(f.param);
            if (f.param.equals("charset") ? v == null || v.equalsIgnoreCase(f.value) : f.value.equals(v)) {
                return f.number;
            }
        }
        return null;
    }

    /** The Accept option for the most preferred mappable media range, or null (none, all unmappable, or only *&#47;*). */
    static Integer accept(List<String> fields) {
        Integer best = null;
        double bestQ = 0;
        for (String field : fields) {
            for (String range : splitOutsideQuotes(field, ',')) {
                MediaType t = MediaType.parse(range);
                if (t == null) {
                    continue;
                }
                double q = 1;
                String qs = t.params.get("q");
                if (qs != null) {
                    try {
                        q = Double.parseDouble(qs);
                    } catch (NumberFormatException e) {
                        continue;
                    }
                }
                Integer cf = formatOf(t);
                if (cf != null && q > bestQ) {
                    best = cf;
                    bestQ = q;
                }
            }
        }
        return best;
    }

    /**
     * If-Match and If-None-Match: {@code *} as the CoAP options of that name, entity tags as
     * ETag values (If-Match as If-Match options; If-None-Match of a GET or FETCH as ETag options,
     * a validation request). A tag that is not {@code "hex"} of 1 to 8 bytes cannot name a CoAP
     * representation: it is dropped, and an If-Match left with none is 412.
     *
     * @return whether an option was added
     */
    private static boolean preconditions(Request r, HttpHeaders headers) throws Refused {
        OptionSet o = r.getOptions();
        boolean added = false;
        List<String> ifMatch = headers.getAll("If-Match");
        if (!ifMatch.isEmpty()) {
            List<String> tags = entityTags(ifMatch);
            if (tags.contains("*")) {
                o.addIfMatch(new byte[0]);
            } else {
                for (String t : tags) {
                    byte[] e = t.startsWith("W/") ? null : etag(t);
                    if (e != null) {
                        o.addIfMatch(e);
                    }
                }
                if (o.getIfMatchCount() == 0) {
                    throw new Refused(HttpResponseStatus.PRECONDITION_FAILED, "no entity tag of If-Match can match a CoAP "
                            + "representation");
                }
            }
            added = true;
        }
        List<String> ifNoneMatch = headers.getAll("If-None-Match");
        if (!ifNoneMatch.isEmpty()) {
            List<String> tags = entityTags(ifNoneMatch);
            if (tags.contains("*")) {
                o.setIfNoneMatch(true);
                added = true;
            } else if (r.getCode() == CoAP.Code.GET || r.getCode() == CoAP.Code.FETCH) {
                for (String t : tags) {
                    byte[] e = etag(t.startsWith("W/") ? t.substring(2) : t); // If-None-Match compares weakly
                    if (e != null) {
                        o.addETag(e);
                        added = true;
                    }
                }
            }
        }
        return added;
    }

    /** The members of an If-Match / If-None-Match field: "*" or entity tags as written. */
    private static List<String> entityTags(List<String> fields) {
        List<String> out = new ArrayList<>();
        for (String f : fields) {
            for (String t : splitOutsideQuotes(f, ',')) {
                String s = t.trim();
                if (!s.isEmpty()) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    /** The CoAP ETag an entity tag {@code "hex"} stands for, or null. */
    static byte[] etag(String tag) {
        if (tag.length() < 4 || tag.charAt(0) != '"' || tag.charAt(tag.length() - 1) != '"') {
            return null;
        }
        String hex = tag.substring(1, tag.length() - 1);
        if (hex.length() % 2 != 0 || hex.length() > 16 || !hex.matches("[0-9a-f]+")) {
            return null;
        }
        return Hex.decode(hex);
    }

    static String entityTag(byte[] etag) {
        return "\"" + Hex.encode(etag).toLowerCase(Locale.ROOT) + "\"";
    }

    /* ------------------------------------------------------------------------- CoAP to HTTP */

    /** RFC 8075 Table 2 (HC-04) and RFC 8768 (5.08 to 508). */
    static HttpResponseStatus status(int raw, boolean payload, boolean conditional, boolean fromHeaders) {
        int cls = raw >> 5;
        int detail = raw & 0x1f;
        if (cls == 2) {
            return switch (detail) {
                case 1 -> HttpResponseStatus.CREATED;
                case 2, 4 -> payload ? HttpResponseStatus.OK : HttpResponseStatus.NO_CONTENT;
                case 3 -> conditional ? HttpResponseStatus.NOT_MODIFIED : HttpResponseStatus.OK;
                case 31 -> HttpResponseStatus.BAD_GATEWAY; // 2.31 belongs to block-wise, which never surfaces
                default -> HttpResponseStatus.OK;
            };
        }
        if (cls == 4) {
            return switch (detail) {
                case 0 -> HttpResponseStatus.BAD_REQUEST;
                case 1, 3 -> HttpResponseStatus.FORBIDDEN; // 4.01: HTTP 401 needs WWW-Authenticate, which CoAP has not
                case 2 -> fromHeaders ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.INTERNAL_SERVER_ERROR;
                case 4 -> HttpResponseStatus.NOT_FOUND;
                case 5 -> new HttpResponseStatus(400, "CoAP server returned 4.05 (Method Not Allowed)");
                case 6 -> HttpResponseStatus.NOT_ACCEPTABLE;
                case 8 -> HttpResponseStatus.BAD_GATEWAY; // block-wise again
                case 9 -> HttpResponseStatus.CONFLICT;
                case 12 -> HttpResponseStatus.PRECONDITION_FAILED;
                case 13 -> HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE;
                case 15 -> HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE;
                case 22 -> HttpResponseStatus.UNPROCESSABLE_ENTITY;
                case 29 -> HttpResponseStatus.TOO_MANY_REQUESTS;
                default -> HttpResponseStatus.BAD_REQUEST;
            };
        }
        if (cls == 5) {
            return switch (detail) {
                case 1 -> HttpResponseStatus.NOT_IMPLEMENTED;
                case 2, 5 -> HttpResponseStatus.BAD_GATEWAY; // 5.05: the HC proxy's own CoAP proxy refused
                case 3 -> HttpResponseStatus.SERVICE_UNAVAILABLE;
                case 4 -> HttpResponseStatus.GATEWAY_TIMEOUT;
                case 8 -> new HttpResponseStatus(508, "Loop Detected");
                default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
            };
        }
        return HttpResponseStatus.BAD_GATEWAY; // not a response code
    }

    /** The HTTP response for one CoAP response to {@code m}. */
    Translated response(Response coap, Mapped m) {
        OptionSet o = coap.getOptions();
        byte[] payload = coap.getPayload() == null ? new byte[0] : coap.getPayload();
        int raw = coap.getRawCode();
        HttpResponseStatus status = status(raw, payload.length > 0, m.conditional(), m.fromHeaders());
        List<Map.Entry<String, String>> h = new ArrayList<>();
        boolean noBody = status.code() == 204 || status.code() == 304;
        if (o.hasOscore()) {
            byte[] v = o.getOscore();
            h.add(Map.entry("OSCORE", v.length == 0 ? "AA" : Base64.getUrlEncoder().withoutPadding().encodeToString(v)));
            if (!noBody) {
                h.add(Map.entry("Content-Type", OSCORE_TYPE));
            }
        } else if (o.hasContentFormat() && !noBody) {
            h.add(Map.entry("Content-Type", mediaType(o.getContentFormat())));
        } else if (payload.length > 0 && raw >> 5 >= 4) {
            h.add(Map.entry("Content-Type", TEXT)); // a diagnostic payload (RFC 7252 5.5.2)
        }
        if (o.getETagCount() > 0) {
            h.add(Map.entry("ETag", entityTag(o.getETags().get(0))));
        }
        boolean cacheable = raw == CoAP.ResponseCode.CONTENT.value || raw == CoAP.ResponseCode.VALID.value;
        if (o.hasMaxAge()) {
            h.add(Map.entry("Cache-Control", "max-age=" + o.getMaxAge()));
        } else if (o.hasOscore()) {
            h.add(Map.entry("Cache-Control", "no-cache")); // RFC 8613 11.1: not useful from a cache
        } else if (cacheable) {
            h.add(Map.entry("Cache-Control", "max-age=" + DEFAULT_MAX_AGE));
        }
        if (raw == CoAP.ResponseCode.SERVICE_UNAVAILABLE.value) {
            h.add(Map.entry("Retry-After", String.valueOf(o.hasMaxAge() ? o.getMaxAge() : DEFAULT_MAX_AGE)));
        }
        if (o.getLocationPathCount() > 0 || o.getLocationQueryCount() > 0) {
            h.add(Map.entry("Location", location(o, m.target())));
        }
        List<byte[]> groupEtags = new ArrayList<>();
        for (Option opt : o.getOthers()) {
            int n = opt.getNumber();
            if (n == numbers.replyFrom()) {
                String rf = StructuredFields.replyFrom(opt.getValue());
                if (rf != null) {
                    h.add(Map.entry("Reply-From", rf));
                }
            } else if (n == numbers.groupEtag()) {
                groupEtags.add(opt.getValue());
            } else if (n == numbers.multicastTimeout()) {
                long v = 0;
                for (byte b : opt.getValue()) {
                    v = (v << 8) | (b & 0xff);
                }
                h.add(Map.entry("Multicast-Timeout", String.valueOf(v)));
            }
        }
        if (groupEtags.size() == 1) {
            h.add(Map.entry("Group-ETag", StructuredFields.byteSequenceList(groupEtags)));
        }
        return new Translated(status, h, noBody ? new byte[0] : payload);
    }

    /** The Hosting HTTP URI (as an absolute path) of a Location-Path / Location-Query on the target's origin. */
    private String location(OptionSet o, ForwardTarget target) {
        String host = target.origin().host();
        StringBuilder b = new StringBuilder(prefix).append("coap://")
                .append(host.indexOf(':') >= 0 ? "%5B" + host + "%5D" : host);
        if (target.origin().port() != 5683) {
            b.append(':').append(target.origin().port());
        }
        b.append('/').append(o.getLocationPathString());
        if (o.getLocationQueryCount() > 0) {
            b.append('?').append(o.getLocationQueryString());
        }
        return b.toString();
    }

    /** The media type of a Content-Format; an unknown one is application/coap-payload;cf=N (RFC 8075 5.5.2). */
    static String mediaType(int cf) {
        for (Format f : FORMATS) {
            if (f.number == cf) {
                return f.text();
            }
        }
        return COAP_PAYLOAD + ";cf=" + cf;
    }

    /**
     * The answer to a group request (groupcomm-proxy Section 9, GPX-12) once T' ran out: 204 when
     * no server answered, else one 200 multipart/mixed whose parts are application/http, each one
     * translated response with its Reply-From ({@code latest}: the latest response of each
     * server, in the order the servers first answered).
     */
    Translated collection(Collection<Response> latest, Mapped m) {
        if (latest.isEmpty()) {
            return new Translated(HttpResponseStatus.NO_CONTENT, List.of(), new byte[0]);
        }
        List<byte[]> parts = new ArrayList<>();
        for (Response r : latest) {
            parts.add(serialize(response(r, m)));
        }
        String boundary = boundary(parts);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(ascii("--" + boundary + "\r\nContent-Type: application/http\r\n\r\n"));
            out.writeBytes(p);
            out.writeBytes(ascii("\r\n"));
        }
        out.writeBytes(ascii("--" + boundary + "--\r\n"));
        return new Translated(HttpResponseStatus.OK, List.of(Map.entry("Content-Type", "multipart/mixed; boundary=" + boundary)),
                out.toByteArray());
    }

    /** A boundary that occurs in no part (RFC 2046 5.1.1: at most 70 characters). */
    private static String boundary(List<byte[]> parts) {
        while (true) {
            byte[] r = new byte[12];
            RANDOM.nextBytes(r);
            String b = "coterie-" + Hex.encode(r).toLowerCase(Locale.ROOT);
            boolean clash = false;
            for (byte[] p : parts) {
                clash |= new String(p, StandardCharsets.ISO_8859_1).contains(b);
            }
            if (!clash) {
                return b;
            }
        }
    }

    /** One response as an HTTP/1.1 message (RFC 9112): status line, fields, Content-Length, body. */
    static byte[] serialize(Translated t) {
        StringBuilder b = new StringBuilder("HTTP/1.1 ").append(t.status().code()).append(' ')
                .append(t.status().reasonPhrase()).append("\r\n");
        for (Map.Entry<String, String> h : t.headers()) {
            b.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        if (t.status().code() != 204 && t.status().code() != 304) {
            b.append("Content-Length: ").append(t.body().length).append("\r\n");
        }
        b.append("\r\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ascii(b.toString()));
        out.writeBytes(t.body());
        return out.toByteArray();
    }

    /** An answer of the front end itself: the status and, as text, why (never in the reason phrase). */
    static Translated error(HttpResponseStatus status, String why) {
        List<Map.Entry<String, String>> h = new ArrayList<>();
        h.add(Map.entry("Content-Type", TEXT));
        return new Translated(status, h, why.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** {@code s} split at {@code sep} where it is not inside a quoted string. */
    static List<String> splitOutsideQuotes(String s, char sep) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted && c == '\\' && i + 1 < s.length()) {
                cur.append(c).append(s.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == sep && !quoted) {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        return out;
    }

    /** A media type (lower case) with its parameters (names lower case, values unquoted). */
    record MediaType(String type, Map<String, String> params) {
        static MediaType parse(String s) {
            List<String> pieces = splitOutsideQuotes(s, ';');
            String t = pieces.get(0).trim().toLowerCase(Locale.ROOT);
            int slash = t.indexOf('/');
            if (slash <= 0 || slash == t.length() - 1 || t.indexOf('/', slash + 1) >= 0 || !t.matches("[a-z0-9!#$&^_.+*-]+/[a-z0-9!#$&^_.+*-]+")) {
                return null;
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < pieces.size(); i++) {
                String p = pieces.get(i).trim();
                if (p.isEmpty()) {
                    continue;
                }
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    return null;
                }
                String v = p.substring(eq + 1).trim();
                if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
                    v = v.substring(1, v.length() - 1).replaceAll("\\\\(.)", "$1");
                }
                params.put(p.substring(0, eq).trim().toLowerCase(Locale.ROOT), v);
            }
            return new MediaType(t, params);
        }
    }
}
