package dev.coterie.oscore;

import dev.coterie.keystore.CborReader;
import dev.coterie.keystore.CborWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A CRI, the CBOR form of a URI (draft-ietf-core-href-27, digest Section 11):
 * {@code [scheme, authority, path, query, fragment]} with trailing default sections left out.
 * The scheme is a scheme-id (-1 - scheme-number: coap is -1) or, as an optional feature, text;
 * the authority is null (a root-based path without authority), true (rootless) or
 * {@code [?userinfo, host, ?port]}, where host is an IP address as a 4- or 16-byte string
 * (optionally with a zone-id text) or a host name as lowercase text labels without dots.
 *
 * <p>Decoding is strict (CRI-04: definite lengths only; no explicit trailing defaults; every
 * section of its type); errors never repeat the input. Encoding leaves the port out when it is
 * the scheme's default (CRI-03).
 */
public record Cri(Object scheme, Authority authority, List<String> path, List<String> query, String fragment) {

    /** scheme-id of the schemes with a default port (CRI-02: scheme-id = -1 - scheme-number). */
    private static final Map<Long, Integer> DEFAULT_PORTS = Map.of(-1L, 5683, -2L, 5684, -3L, 80, -4L, 443, -7L, 5683,
            -8L, 5684, -25L, 80, -26L, 443);
    private static final Map<Long, String> SCHEME_NAMES = Map.of(-1L, "coap", -2L, "coaps", -3L, "http", -4L, "https",
            -5L, "urn", -6L, "did", -7L, "coap+tcp", -8L, "coaps+tcp", -25L, "coap+ws", -26L, "coaps+ws");

    /**
     * The authority: absent ({@code null} for a root-based path, {@link #ROOTLESS} for a rootless
     * one), or a host with optional user information and port ({@code port} -1 when absent).
     */
    public record Authority(String userinfo, byte[] ip, String zone, List<String> labels, int port) {
        public boolean isIp() {
            return ip != null;
        }

        /** The host as a URI would write it: a name with dots, or the IP literal. */
        public String host() {
            if (ip == null) {
                return String.join(".", labels);
            }
            try {
                String a = java.net.InetAddress.getByAddress(ip).getHostAddress();
                return ip.length == 16 ? "[" + a + (zone != null ? "%25" + zone : "") + "]" : a;
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** The authority "true": a rootless path, no authority. */
    public static final Authority ROOTLESS = new Authority(null, null, null, List.of(), -2);

    public Cri {
        path = path == null ? List.of() : List.copyOf(path);
        query = query == null ? List.of() : List.copyOf(query);
    }

    /** The scheme's name (coap, coaps, ...), for a scheme-id or a text scheme. */
    public String schemeName() {
        return scheme instanceof Long id ? SCHEME_NAMES.getOrDefault(id, "scheme-" + (-1 - id)) : (String) scheme;
    }

    /** The scheme's default port, or -1 if it has none known here. */
    public int defaultPort() {
        return scheme instanceof Long id ? DEFAULT_PORTS.getOrDefault(id, -1) : -1;
    }

    /** Decodes a CRI strictly; anything else is an {@link IllegalArgumentException} naming the position. */
    public static Cri decode(byte[] cbor, String what) {
        CborReader r = new CborReader(cbor, what);
        Cri c = read(r, what);
        r.end();
        return c;
    }

    /** Reads one CRI from {@code r} strictly (an item of a CBOR sequence: Reply-From, tp_info); items may follow it. */
    static Cri read(CborReader r, String what) {
        int n = r.readArrayHeader();
        if (n < 1 || n > 5) {
            throw r.error("a CRI has 1 to 5 sections, not " + n);
        }
        Object scheme;
        if (r.peekMajorType() == CborReader.NINT) {
            long id = r.readInteger();
            scheme = id;
        } else if (r.peekMajorType() == CborReader.TEXT) {
            String s = r.readText();
            if (!s.matches("[a-z][a-z0-9+.-]*")) {
                throw r.error("a text scheme must be a lowercase URI scheme name");
            }
            scheme = s;
        } else {
            throw r.error("the scheme must be a negative integer (a scheme-id) or text, found " + r.peekKind());
        }
        Authority authority = null;
        if (n >= 2) {
            if (r.peekSimple(22)) {
                r.readNull();
            } else if (r.peekSimple(21)) {
                r.readBoolean();
                authority = ROOTLESS;
            } else {
                authority = authority(r);
            }
        }
        List<String> path = n >= 3 ? texts(r, "path") : List.of();
        List<String> query = n >= 4 ? texts(r, "query") : List.of();
        String fragment = null;
        if (n == 5) {
            if (r.peekSimple(22)) {
                throw r.error("a trailing null fragment must be left out");
            }
            fragment = r.readText();
        }
        // trailing sections equal to their defaults are left out in interchange (href Section 5.1)
        if (n == 4 && query.isEmpty() || n == 3 && path.isEmpty() || n == 2 && authority == null) {
            throw new IllegalArgumentException(what + ": a trailing default section must be left out");
        }
        return new Cri(scheme, authority, path, query, fragment);
    }

    static Authority authority(CborReader r) {
        int n = r.readArrayHeader();
        int read = 0;
        String userinfo = null;
        if (n > 0 && r.peekSimple(20)) {
            r.readBoolean();
            userinfo = r.readText();
            read += 2;
        }
        if (read >= n) {
            throw r.error("an authority needs a host");
        }
        byte[] ip = null;
        String zone = null;
        List<String> labels = new ArrayList<>();
        if (r.peekMajorType() == CborReader.BYTES) {
            ip = r.readBytes();
            read++;
            if (ip.length != 4 && ip.length != 16) {
                throw r.error("an IP address host is 4 or 16 bytes, not " + ip.length);
            }
            if (read < n && r.peekMajorType() == CborReader.TEXT) {
                zone = r.readText();
                read++;
            }
        } else {
            while (read < n && r.peekMajorType() == CborReader.TEXT) {
                String label = r.readText();
                read++;
                if (label.isEmpty() || label.indexOf('.') >= 0 || !label.equals(label.toLowerCase(java.util.Locale.ROOT))) {
                    throw r.error("a host-name label is non-empty lowercase text without dots");
                }
                labels.add(label);
            }
            if (labels.isEmpty()) {
                throw r.error("the host must be an IP address (byte string) or text labels, found " + r.peekKind());
            }
        }
        int port = -1;
        if (read < n) {
            long p = r.readInteger();
            read++;
            if (p < 0 || p > 65535) {
                throw r.error("port out of range");
            }
            port = (int) p;
        }
        if (read != n) {
            throw r.error("unexpected items after the port of an authority");
        }
        return new Authority(userinfo, ip, zone, List.copyOf(labels), port);
    }

    private static List<String> texts(CborReader r, String section) {
        if (r.peekSimple(22)) {
            throw r.error("the " + section + " of a CRI is an array, not null");
        }
        int n = r.readArrayHeader();
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(r.readText());
        }
        return out;
    }

    /** The CRI of scheme and authority only, with the default port left out: the outer Proxy-Cri of a split. */
    public Cri schemeAndAuthority() {
        Authority a = authority;
        if (a != null && a != ROOTLESS && a.port() == defaultPort()) {
            a = new Authority(a.userinfo(), a.ip(), a.zone(), a.labels(), -1);
        }
        return new Cri(scheme, a, List.of(), List.of(), null);
    }

    /** Encodes with trailing default sections left out. */
    public byte[] encode() {
        int sections = fragment != null ? 5 : !query.isEmpty() ? 4 : !path.isEmpty() ? 3 : authority != null ? 2 : 1;
        CborWriter w = new CborWriter(64).array(sections);
        if (scheme instanceof Long id) {
            w.integer(id);
        } else {
            w.text((String) scheme);
        }
        if (sections >= 2) {
            if (authority == null) {
                w.nil();
            } else if (authority == ROOTLESS) {
                w.bool(true);
            } else {
                writeAuthority(w, authority);
            }
        }
        if (sections >= 3) {
            w.array(path.size());
            path.forEach(w::text);
        }
        if (sections >= 4) {
            w.array(query.size());
            query.forEach(w::text);
        }
        if (sections == 5) {
            w.text(fragment);
        }
        return w.toByteArray();
    }

    /** An authority as href Section 5.1 writes it: [?userinfo, host, ?port]. */
    static void writeAuthority(CborWriter w, Authority a) {
        int items = (a.userinfo() != null ? 2 : 0) + (a.isIp() ? 1 + (a.zone() != null ? 1 : 0) : a.labels().size())
                + (a.port() >= 0 ? 1 : 0);
        w.array(items);
        if (a.userinfo() != null) {
            w.bool(false).text(a.userinfo());
        }
        if (a.isIp()) {
            w.bytes(a.ip());
            if (a.zone() != null) {
                w.text(a.zone());
            }
        } else {
            for (String l : a.labels()) {
                w.text(l);
            }
        }
        if (a.port() >= 0) {
            w.integer(a.port());
        }
    }

    /** The URI this CRI stands for (for traces and diagnostics). */
    public String toUri() {
        StringBuilder sb = new StringBuilder(schemeName()).append(':');
        if (authority != null && authority != ROOTLESS) {
            sb.append("//").append(authority.host());
            if (authority.port() >= 0) {
                sb.append(':').append(authority.port());
            }
        }
        for (String seg : path) {
            sb.append('/').append(seg);
        }
        for (int i = 0; i < query.size(); i++) {
            sb.append(i == 0 ? '?' : '&').append(query.get(i));
        }
        if (fragment != null) {
            sb.append('#').append(fragment);
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Cri c && java.util.Arrays.equals(encode(), c.encode());
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(encode());
    }
}
