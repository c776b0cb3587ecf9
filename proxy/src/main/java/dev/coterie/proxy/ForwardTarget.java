package dev.coterie.proxy;

import dev.coterie.oscore.Cri;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProxyUriSplit;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;

/**
 * Where a request goes: the origin (host, port, whether the host was a name) and the Uri-Path
 * and Uri-Query of the forwarded request, from the forward-proxy options (RFC 7252 Section
 * 5.7.2: Proxy-Uri, or Proxy-Scheme with Uri-Host/Uri-Port; href: Proxy-Cri, Proxy-Scheme-Number)
 * or a reverse-proxy route. A request that cannot be resolved is a {@link Refusal} with the code
 * the proxy answers.
 */
public record ForwardTarget(ProxyConfig.Origin origin, boolean hostIsName, List<String> path, List<String> query,
                            String viaRoute) {
    // the host checks below run for every forwarded request: plain loops, no regular expressions

    /** [0-9.]+ */
    private static boolean digitsAndDots(String h) {
        if (h.isEmpty()) {
            return false;
        }
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if ((c < '0' || c > '9') && c != '.') {
                return false;
            }
        }
        return true;
    }

    /** 0x[0-9a-fA-F.x]+ */
    private static boolean hexish(String h) {
        if (h.length() < 3 || !h.startsWith("0x")) {
            return false;
        }
        for (int i = 2; i < h.length(); i++) {
            char c = h.charAt(i);
            boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == 'x';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** [0-9]{1,3}(\.[0-9]{1,3}){3} */
    static boolean dottedQuad(String h) {
        int groups = 0;
        int digits = 0;
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            if (c >= '0' && c <= '9') {
                if (++digits > 3) {
                    return false;
                }
            } else if (c == '.' && digits > 0 && groups < 3) {
                groups++;
                digits = 0;
            } else {
                return false;
            }
        }
        return groups == 3 && digits > 0;
    }

    /** The longest Uri-Path or Uri-Query value (RFC 7252 Section 5.10). */
    static final int MAX_SEGMENT = 255;

    public ForwardTarget {
        path = List.copyOf(path);
        query = List.copyOf(query);
    }

    /**
     * {@code t}, checked for forwarding: no "." or ".." path segment (the access list compares
     * segments, and an origin that resolves them would serve another path than the one
     * allowed), no segment or argument longer than an option can carry, and an IP-literal host
     * in its one canonical form (so "127.1" and "127.0.0.1" are the same origin everywhere).
     */
    static ForwardTarget checked(ForwardTarget t) throws Refusal {
        for (String seg : t.path()) {
            if (seg.equals(".") || seg.equals("..")) {
                throw new Refusal(ResponseCode.BAD_REQUEST, "dot segments in the target path are not forwarded");
            }
            if (seg.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT) {
                throw new Refusal(ResponseCode.BAD_OPTION, "a target path segment is longer than 255 bytes");
            }
        }
        for (String q : t.query()) {
            if (q.getBytes(StandardCharsets.UTF_8).length > MAX_SEGMENT) {
                throw new Refusal(ResponseCode.BAD_OPTION, "a target query argument is longer than 255 bytes");
            }
        }
        String host = t.origin().host();
        if (!t.hostIsName() || looksNumeric(host)) {
            String canonical = canonicalIp(host);
            if (canonical == null) {
                throw new Refusal(ResponseCode.BAD_OPTION, "the target host is not a valid IP address");
            }
            return new ForwardTarget(t.origin().withHost(canonical), false, t.path(), t.query(), t.viaRoute());
        }
        return t;
    }

    /** Digits and dots only (IPv4 in any of the forms resolvers accept), or a colon (IPv6). */
    static boolean looksNumeric(String host) {
        return host.indexOf(':') >= 0 || digitsAndDots(host) || hexish(host);
    }

    /** The canonical text of an IP literal (java.net's), or null when it is not one. */
    static String canonicalIp(String host) {
        if (host.indexOf(':') < 0 && !dottedQuad(host)) {
            return null; // only dotted-quad IPv4: "127.1", "2130706433" and hex forms are refused, not guessed
        }
        try {
            return InetAddress.getByName(host).getHostAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Why a request is not forwarded, and with what code. */
    public static final class Refusal extends Exception {
        private final ResponseCode code;

        public Refusal(ResponseCode code, String why) {
            super(why, null, false, false);
            this.code = code;
        }

        public ResponseCode code() {
            return code;
        }
    }

    /** The option numbers this class reads. */
    public record Numbers(int proxyCri, int proxySchemeNumber, int listenToMulticastResponses, int multicastTimeout,
                          int replyFrom, int groupEtag, int feedbackDivider) {
        public static Numbers of(ExtensionOptionRegistry r) {
            return new Numbers(r.byName(ExtensionOptionRegistry.PROXY_CRI).number(),
                    r.byName(ExtensionOptionRegistry.PROXY_SCHEME_NUMBER).number(),
                    r.byName(ExtensionOptionRegistry.LISTEN_TO_MULTICAST_RESPONSES).number(),
                    r.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT).number(),
                    r.byName(ExtensionOptionRegistry.REPLY_FROM).number(),
                    r.byName(ExtensionOptionRegistry.GROUP_ETAG).number(),
                    r.byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number());
        }
    }

    public String uri() {
        StringBuilder sb = new StringBuilder();
        if (!origin.tcp()) {
            sb.append("coap://"); // Origin.toString() carries the scheme of the TCP ones
        }
        sb.append(origin).append('/');
        sb.append(String.join("/", path));
        if (!query.isEmpty()) {
            sb.append('?').append(String.join("&", query));
        }
        return sb.toString();
    }

    /**
     * The option {@code number} among the options Californium keeps apart, or null. (OptionSet's
     * own hasOption(int) builds an option definition for every unregistered number it is asked
     * about: too slow for every forwarded request.)
     */
    static Option other(OptionSet o, int number) {
        for (Option opt : o.getOthers()) {
            if (opt.getNumber() == number) {
                return opt;
            }
        }
        return null;
    }

    /** Whether {@code r} carries forward-proxy options (incoming-request algorithm step 1/2). */
    public static boolean hasProxyOptions(Request r, Numbers n) {
        OptionSet o = r.getOptions();
        return o.hasProxyUri() || o.hasProxyScheme() || other(o, n.proxyCri()) != null || other(o, n.proxySchemeNumber()) != null;
    }

    /** The target of a request with forward-proxy options. */
    public static ForwardTarget forward(Request r, Numbers n) throws Refusal {
        OptionSet o = r.getOptions();
        boolean cri = other(o, n.proxyCri()) != null;
        boolean schemeNumber = other(o, n.proxySchemeNumber()) != null;
        if (o.hasProxyScheme() && schemeNumber) {
            throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Scheme and Proxy-Scheme-Number together");
        }
        if (cri) {
            if (o.hasProxyUri() || o.hasUriHost() || o.hasUriPort() || o.getURIPathCount() > 0 || o.getURIQueryCount() > 0
                    || o.hasProxyScheme() || schemeNumber) {
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Cri with other URI options");
            }
            Cri c;
            try {
                c = Cri.decode(other(o, n.proxyCri()).getValue(), "Proxy-Cri");
            } catch (IllegalArgumentException e) {
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Cri is not a well-formed CRI");
            }
            String scheme = ProxyConfig.Origin.proxied(c.schemeName());
            if (scheme == null) {
                throw new Refusal(ResponseCode.PROXY_NOT_SUPPORTED, "scheme " + c.schemeName() + " is not proxied");
            }
            if (c.authority() == null || c.authority() == Cri.ROOTLESS || c.fragment() != null) {
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Cri needs a host and no fragment");
            }
            String host = c.authority().host();
            if (host.startsWith("[")) {
                host = host.substring(1, host.indexOf(']'));
            }
            int port = c.authority().port() < 0 ? ProxyConfig.Origin.defaultPort(scheme) : c.authority().port();
            return new ForwardTarget(new ProxyConfig.Origin(host.toLowerCase(Locale.ROOT), port, scheme), !c.authority().isIp(),
                    c.path(), c.query(), null);
        }
        if (o.hasProxyUri()) {
            if (o.hasUriHost() || o.hasUriPort() || o.getURIPathCount() > 0 || o.getURIQueryCount() > 0) {
                // RFC 7252 5.10.2: Proxy-Uri MUST take precedence; a client MUST NOT mix them. Treat as malformed.
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Uri with Uri-Host, Uri-Port, Uri-Path or Uri-Query");
            }
            String uri = o.getProxyUri();
            ProxyUriSplit.Parts parts;
            try {
                parts = ProxyUriSplit.split(uri);
            } catch (IllegalArgumentException e) {
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Uri: " + e.getMessage());
            }
            String outer = parts.outerProxyUri();
            int colon = outer.indexOf("://");
            String scheme = ProxyConfig.Origin.proxied(outer.substring(0, colon));
            if (scheme == null) {
                throw new Refusal(ResponseCode.PROXY_NOT_SUPPORTED, "scheme " + outer.substring(0, colon) + " is not proxied");
            }
            ProxyConfig.Origin origin = authority(outer.substring(colon + 3), scheme);
            return new ForwardTarget(origin, isName(origin.host()), strings(parts.uriPath()), strings(parts.uriQuery()), null);
        }
        // Proxy-Scheme or Proxy-Scheme-Number with the Uri-* options
        String scheme;
        if (o.hasProxyScheme()) {
            scheme = ProxyConfig.Origin.proxied(o.getProxyScheme());
            if (scheme == null) {
                throw new Refusal(ResponseCode.PROXY_NOT_SUPPORTED, "scheme " + o.getProxyScheme().toLowerCase(Locale.ROOT)
                        + " is not proxied");
            }
        } else {
            byte[] v = other(o, n.proxySchemeNumber()).getValue();
            long num = 0;
            for (byte b : v) {
                num = (num << 8) | (b & 0xff);
            }
            // scheme numbers (href, digest section 11): 0 coap, 6 coap+tcp, 7 coaps+tcp
            scheme = num == 0 ? ProxyConfig.Origin.COAP : num == 6 ? ProxyConfig.Origin.COAP_TCP
                    : num == 7 ? ProxyConfig.Origin.COAPS_TCP : null;
            if (scheme == null) {
                throw new Refusal(ResponseCode.PROXY_NOT_SUPPORTED, "scheme number " + num + " is not proxied");
            }
        }
        if (!o.hasUriHost()) {
            throw new Refusal(ResponseCode.BAD_REQUEST, "Proxy-Scheme without Uri-Host");
        }
        String host = o.getUriHost().toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = o.hasUriPort() ? o.getUriPort() : ProxyConfig.Origin.defaultPort(scheme);
        return new ForwardTarget(new ProxyConfig.Origin(host, port, scheme), isName(host), o.getUriPath(), o.getUriQuery(),
                null);
    }

    /** The reverse-proxy route {@code r} matches, with its target, or null. */
    public static ForwardTarget reverse(Request r, List<ProxyConfig.Route> routes) {
        OptionSet o = r.getOptions();
        String host = o.hasUriHost() ? o.getUriHost().toLowerCase(Locale.ROOT) : null;
        List<String> path = o.getUriPath();
        for (ProxyConfig.Route route : routes) {
            if (route.uriHost() != null && !route.uriHost().equals(host)) {
                continue;
            }
            if (!startsWith(path, route.pathPrefix())) {
                continue;
            }
            List<String> rest = route.stripPrefix() ? path.subList(route.pathPrefix().size(), path.size()) : path;
            ProxyConfig.Origin origin = route.origin();
            return new ForwardTarget(origin, isName(origin.host()), List.copyOf(rest), o.getUriQuery(), route.name());
        }
        return null;
    }

    static boolean startsWith(List<String> path, List<String> prefix) {
        if (prefix.size() > path.size()) {
            return false;
        }
        for (int i = 0; i < prefix.size(); i++) {
            if (!prefix.get(i).equals(path.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** The origin's address; a name is resolved here (an unresolvable one is 5.02). */
    public InetAddress address() throws Refusal {
        return resolve(origin);
    }

    /** The address of {@code o}'s host; 5.02 when it does not resolve. */
    static InetAddress resolve(ProxyConfig.Origin o) throws Refusal {
        try {
            return InetAddress.getByName(o.host());
        } catch (UnknownHostException e) {
            throw new Refusal(ResponseCode.BAD_GATEWAY, "cannot resolve the origin host");
        }
    }

    private static ProxyConfig.Origin authority(String a, String scheme) throws Refusal {
        int at = a.lastIndexOf('@');
        if (at >= 0) {
            a = a.substring(at + 1);
        }
        String host;
        int port = ProxyConfig.Origin.defaultPort(scheme);
        if (a.startsWith("[")) {
            int end = a.indexOf(']');
            if (end < 0) {
                throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Uri has an unclosed IPv6 literal");
            }
            host = a.substring(1, end);
            if (end + 1 < a.length()) {
                port = port(a.substring(end + 2));
            }
        } else {
            int c = a.indexOf(':');
            host = c < 0 ? a : a.substring(0, c);
            if (c >= 0) {
                port = port(a.substring(c + 1));
            }
        }
        if (host.isEmpty()) {
            throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Uri has no host");
        }
        return new ProxyConfig.Origin(host.toLowerCase(Locale.ROOT), port, scheme);
    }

    private static int port(String s) throws Refusal {
        try {
            int p = Integer.parseInt(s);
            if (p < 1 || p > 65535) {
                throw new NumberFormatException();
            }
            return p;
        } catch (NumberFormatException e) {
            throw new Refusal(ResponseCode.BAD_OPTION, "Proxy-Uri has an invalid port");
        }
    }

    static boolean isName(String host) {
        return !(host.indexOf(':') >= 0 || dottedQuad(host));
    }

    private static List<String> strings(List<Option> options) {
        List<String> out = new ArrayList<>();
        for (Option opt : options) {
            out.add(new String(opt.getValue(), StandardCharsets.UTF_8));
        }
        return out;
    }

    /** The option numbers of the forward-proxy options, which the forwarded request never carries. */
    static boolean isForwardProxyOption(int number, Numbers n) {
        return number == OptionNumberRegistry.PROXY_URI || number == OptionNumberRegistry.PROXY_SCHEME
                || number == n.proxyCri() || number == n.proxySchemeNumber();
    }
}
