package dev.coterie.proxy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * An address prefix in CIDR notation ({@code 10.0.0.0/8}, {@code ::1/128}): the source addresses
 * a client hop context is usable from (OCP-09). Parsed strictly and without any name lookup: an
 * IPv4 prefix is a dotted quad without leading zeros, an IPv6 prefix the RFC 4291 text form
 * without a zone; the length is required, and no bit past it may be set. An IPv4 prefix matches
 * only IPv4 sources and an IPv6 prefix only IPv6 sources; an IPv4-mapped IPv6 prefix is refused
 * (Java reports such a source as IPv4: write the prefix as IPv4).
 */
public final class SourcePrefix {
    private static final Pattern OCTET = Pattern.compile("0|[1-9][0-9]{0,2}");
    private static final Pattern HEXTET = Pattern.compile("[0-9a-fA-F]{1,4}");

    private final byte[] network;
    private final int length;

    private SourcePrefix(byte[] network, int length) {
        this.network = network;
        this.length = length;
    }

    /** {@code ADDRESS/LENGTH}; an {@link IllegalArgumentException} says what is wrong with it. */
    public static SourcePrefix parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("needs a prefix length: ADDRESS/LENGTH (e.g. 10.0.0.0/8, ::1/128)");
        }
        if (text.indexOf('/', slash + 1) >= 0) {
            throw new IllegalArgumentException("more than one '/'");
        }
        String addr = text.substring(0, slash);
        String len = text.substring(slash + 1);
        byte[] bytes = addr.indexOf(':') >= 0 ? ipv6(addr) : ipv4(addr);
        if (bytes == null) {
            throw new IllegalArgumentException(addr.indexOf(':') >= 0 ? "not an IPv6 address" : "not an IPv4 address (a dotted quad)");
        }
        int bits = bytes.length * 8;
        if (!len.matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(len) > bits) {
            throw new IllegalArgumentException("the prefix length must be a whole number from 0 to " + bits);
        }
        int n = Integer.parseInt(len);
        for (int i = n; i < bits; i++) {
            if ((bytes[i / 8] & (0x80 >>> (i % 8))) != 0) {
                throw new IllegalArgumentException("host bits are set past /" + n + " (the network is " + network(bytes, n) + ")");
            }
        }
        if (bytes.length == 16 && isV4Mapped(bytes)) {
            throw new IllegalArgumentException("an IPv4-mapped IPv6 prefix; write it as an IPv4 prefix");
        }
        return new SourcePrefix(bytes, n);
    }

    /** Whether {@code a} lies in this prefix (false for null and for the other address family). */
    public boolean matches(InetAddress a) {
        if (a == null) {
            return false;
        }
        byte[] b = a.getAddress();
        if (b.length != network.length) {
            return false;
        }
        int full = length / 8;
        for (int i = 0; i < full; i++) {
            if (b[i] != network[i]) {
                return false;
            }
        }
        int rest = length % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (b[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SourcePrefix p && p.length == length && java.util.Arrays.equals(p.network, network);
    }

    @Override
    public int hashCode() {
        return 31 * java.util.Arrays.hashCode(network) + length;
    }

    /** The canonical text: {@code 10.0.0.0/8}, {@code ::1/128} (java.net's IPv6 form). */
    @Override
    public String toString() {
        return text(network) + "/" + length;
    }

    private static String network(byte[] bytes, int n) {
        byte[] net = bytes.clone();
        for (int i = n; i < net.length * 8; i++) {
            net[i / 8] &= (byte) ~(0x80 >>> (i % 8));
        }
        return text(net) + "/" + n;
    }

    private static String text(byte[] bytes) {
        try {
            return InetAddress.getByAddress(bytes).getHostAddress(); // from bytes: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    /** A dotted quad, or null. */
    private static byte[] ipv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            if (!OCTET.matcher(parts[i]).matches()) {
                return null;
            }
            int v = Integer.parseInt(parts[i]);
            if (v > 255) {
                return null;
            }
            out[i] = (byte) v;
        }
        return out;
    }

    /** RFC 4291 Section 2.2 text (with "::" at most once and an optional trailing dotted quad), or null. */
    private static byte[] ipv6(String s) {
        int dc = s.indexOf("::");
        if (dc >= 0 && s.indexOf("::", dc + 1) >= 0) {
            return null;
        }
        String head = dc < 0 ? s : s.substring(0, dc);
        String tail = dc < 0 ? "" : s.substring(dc + 2);
        // a trailing dotted quad ends the address: the last group of the head without "::", of the tail with it
        java.util.List<Integer> h = hextets(head, dc < 0);
        java.util.List<Integer> t = hextets(tail, true);
        if (h == null || t == null) {
            return null;
        }
        int groups = h.size() + t.size();
        if (dc < 0 ? groups != 8 : groups > 7) {
            return null;
        }
        byte[] out = new byte[16];
        int i = 0;
        for (int g : h) {
            out[i++] = (byte) (g >>> 8);
            out[i++] = (byte) g;
        }
        i = 16 - 2 * t.size();
        for (int g : t) {
            out[i++] = (byte) (g >>> 8);
            out[i++] = (byte) g;
        }
        return out;
    }

    /**
     * The 16-bit groups of one side of "::" (empty text: none); a dotted quad is allowed as the
     * last element only where it ends the address ({@code mayEndWithIpv4}). Null when malformed.
     */
    private static java.util.List<Integer> hextets(String s, boolean mayEndWithIpv4) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        if (s.isEmpty()) {
            return out;
        }
        String[] parts = s.split(":", -1);
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            if (i == parts.length - 1 && mayEndWithIpv4 && p.indexOf('.') >= 0) {
                byte[] v4 = ipv4(p);
                if (v4 == null) {
                    return null;
                }
                out.add(((v4[0] & 0xff) << 8) | (v4[1] & 0xff));
                out.add(((v4[2] & 0xff) << 8) | (v4[3] & 0xff));
            } else if (HEXTET.matcher(p).matches()) {
                out.add(Integer.parseInt(p, 16));
            } else {
                return null;
            }
        }
        return out;
    }
}
