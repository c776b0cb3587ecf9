package dev.coterie.proxy;

import dev.coterie.oscore.ReplyFrom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The HTTP fields of group requests through an HTTP-to-CoAP proxy (draft-ietf-core-groupcomm-proxy
 * Section 9, digest 5.6, GPX-12): Reply-From and Group-ETag are RFC 9651 Structured Field Lists
 * whose members are Byte Sequences ({@code :base64:}), Multicast-Timeout is {@code *DIGIT}. Every
 * parser here returns null for a field of any other shape, which its caller then ignores as a
 * whole; none throws on what a peer sent.
 *
 * <p>The List parser follows RFC 9651 Section 4.2.1: members separated by commas with optional
 * white space, no trailing comma, nothing after the last member. A member that is not a Byte
 * Sequence (an Inner List, a String, a Token, a number, ...) is another shape. Parameters on a
 * member are parsed (so that a malformed one fails the field, as RFC 9651 says) and then
 * ignored, as RFC 9651 asks of parameters a field does not define.
 */
public final class StructuredFields {
    /** The Group-ETag option's length bounds (as ETag's, RFC 7252 5.10.6). */
    static final int GROUP_ETAG_MIN = 1;
    static final int GROUP_ETAG_MAX = 8;

    private StructuredFields() {
    }

    /** The members of {@code field} when it is a List of Byte Sequences, or null (RFC 9651 4.2). */
    public static List<byte[]> byteSequences(String field) {
        if (field == null) {
            return null;
        }
        Parser p = new Parser(field);
        try {
            p.spaces();
            List<byte[]> out = new ArrayList<>();
            while (!p.atEnd()) {
                out.add(p.byteSequence());
                p.parameters();
                p.ows();
                if (p.atEnd()) {
                    return out;
                }
                p.expect(',');
                p.ows();
                if (p.atEnd()) {
                    return null; // a trailing comma
                }
            }
            return out;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code members} as an RFC 9651 List of Byte Sequences ({@code :base64:}, with padding). */
    public static String byteSequenceList(List<byte[]> members) {
        StringBuilder b = new StringBuilder();
        for (byte[] m : members) {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(':').append(Base64.getEncoder().encodeToString(m)).append(':');
        }
        return b.toString();
    }

    /**
     * The Reply-From field for an option value: each CBOR item of the sequence (the target CRI,
     * then the reference if there is one) as a Byte Sequence of its own. Null when the value is
     * not a well-formed Reply-From (the proxy then leaves the field out).
     */
    public static String replyFrom(byte[] option) {
        List<byte[]> items = replyFromItems(option);
        return items == null ? null : byteSequenceList(items);
    }

    /** The option value a Reply-From field stands for: 1 or 2 members, one CBOR item each; else null. */
    public static byte[] replyFrom(String field) {
        List<byte[]> members = byteSequences(field);
        if (members == null || members.isEmpty() || members.size() > 2) {
            return null;
        }
        byte[] value = members.size() == 1 ? members.get(0) : concat(members.get(0), members.get(1));
        List<byte[]> items = replyFromItems(value);
        if (items == null || items.size() != members.size() || !Arrays.equals(items.get(0), members.get(0))) {
            return null; // the members must be the items one by one, not another cut of the same bytes
        }
        return value;
    }

    /** The items of a Reply-From value, each as its bytes, or null when it does not decode strictly. */
    static List<byte[]> replyFromItems(byte[] value) {
        ReplyFrom rf;
        try {
            rf = ReplyFrom.decode(value);
        } catch (IllegalArgumentException e) {
            return null;
        }
        byte[] target = rf.target().encode();
        if (target.length > value.length || !Arrays.equals(target, Arrays.copyOf(value, target.length))) {
            return null; // not in the one encoding this proxy splits on
        }
        if (target.length == value.length) {
            return List.of(target);
        }
        return List.of(target, Arrays.copyOfRange(value, target.length, value.length));
    }

    /**
     * The Group-ETag values of a request's field (one or more members, each 1 to 8 bytes), or
     * null for any other shape.
     */
    public static List<byte[]> groupEtagsOfRequest(String field) {
        List<byte[]> members = byteSequences(field);
        if (members == null || members.isEmpty()) {
            return null;
        }
        for (byte[] m : members) {
            if (m.length < GROUP_ETAG_MIN || m.length > GROUP_ETAG_MAX) {
                return null;
            }
        }
        return members;
    }

    /** The Group-ETag value of a response's field (exactly one member of 1 to 8 bytes), or null. */
    public static byte[] groupEtagOfResponse(String field) {
        List<byte[]> members = groupEtagsOfRequest(field);
        return members == null || members.size() != 1 ? null : members.get(0);
    }

    /** The Multicast-Timeout of {@code field} ({@code *DIGIT}, empty meaning 0, at most 2^32 - 1), or null. */
    public static Long multicastTimeout(String field) {
        if (field == null) {
            return null;
        }
        if (field.isEmpty()) {
            return 0L;
        }
        if (field.length() > 10) {
            return null;
        }
        long v = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            v = v * 10 + (c - '0');
        }
        return v <= 0xFFFFFFFFL ? v : null; // the option is a uint of 0 to 4 bytes
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** RFC 9651 Section 4.2, as far as these fields need it; every failure is an IllegalArgumentException. */
    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        boolean atEnd() {
            return i >= s.length();
        }

        char peek() {
            return atEnd() ? '\0' : s.charAt(i);
        }

        void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected " + c);
            }
            i++;
        }

        void spaces() {
            while (peek() == ' ') {
                i++;
            }
        }

        void ows() {
            while (peek() == ' ' || peek() == '\t') {
                i++;
            }
        }

        /** 4.2.7: ":" base64 ":"; missing padding is accepted, as RFC 9651 asks. */
        byte[] byteSequence() {
            expect(':');
            int end = s.indexOf(':', i);
            if (end < 0) {
                throw new IllegalArgumentException("unclosed Byte Sequence");
            }
            String b64 = s.substring(i, end);
            for (int k = 0; k < b64.length(); k++) {
                char c = b64.charAt(k);
                boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
                        || c == '=';
                if (!ok) {
                    throw new IllegalArgumentException("not base64");
                }
            }
            i = end + 1;
            return Base64.getDecoder().decode(b64); // IllegalArgumentException for a misplaced '='
        }

        /** 4.2.3.2: *( ";" *SP key [ "=" bare-item ] ), values checked and dropped. */
        void parameters() {
            while (peek() == ';') {
                i++;
                spaces();
                key();
                if (peek() == '=') {
                    i++;
                    bareItem();
                }
            }
        }

        void key() {
            char c = peek();
            if (!(c >= 'a' && c <= 'z' || c == '*')) {
                throw new IllegalArgumentException("a key starts with a lowercase letter or *");
            }
            while (true) {
                c = peek();
                if (c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '*') {
                    i++;
                } else {
                    return;
                }
            }
        }

        /** Any bare item (4.2.3.1), well-formed or an exception. */
        void bareItem() {
            char c = peek();
            if (c == '-' || c >= '0' && c <= '9') {
                number();
            } else if (c == '"') {
                quoted(false);
            } else if (c == ':') {
                byteSequence();
            } else if (c == '?') {
                i++;
                char v = peek();
                if (v != '0' && v != '1') {
                    throw new IllegalArgumentException("a Boolean is ?0 or ?1");
                }
                i++;
            } else if (c == '@') {
                i++;
                number();
            } else if (c == '%') {
                quoted(true);
            } else if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '*') {
                token();
            } else {
                throw new IllegalArgumentException("not a bare item");
            }
        }

        void number() {
            if (peek() == '-') {
                i++;
            }
            int digits = 0;
            while (peek() >= '0' && peek() <= '9') {
                i++;
                digits++;
            }
            if (digits == 0 || digits > 15) {
                throw new IllegalArgumentException("an Integer has 1 to 15 digits");
            }
            if (peek() == '.') {
                i++;
                int frac = 0;
                while (peek() >= '0' && peek() <= '9') {
                    i++;
                    frac++;
                }
                if (digits > 12 || frac == 0 || frac > 3) {
                    throw new IllegalArgumentException("a Decimal has at most 12 and 3 digits");
                }
            }
        }

        /** A String (4.2.5: \" and \\ escaped) or, with {@code display}, a Display String (4.2.10: %xx escaped). */
        void quoted(boolean display) {
            if (display) {
                expect('%');
            }
            expect('"');
            while (true) {
                if (atEnd()) {
                    throw new IllegalArgumentException("an unclosed string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return;
                }
                if (c < 0x20 || c > 0x7e) {
                    throw new IllegalArgumentException("a string is printable ASCII");
                }
                if (!display && c == '\\') {
                    char e = peek();
                    if (e != '"' && e != '\\') {
                        throw new IllegalArgumentException("a String escapes only \" and \\");
                    }
                    i++;
                } else if (display && c == '%') {
                    for (int k = 0; k < 2; k++) {
                        char h = peek();
                        if (!(h >= '0' && h <= '9' || h >= 'a' && h <= 'f')) {
                            throw new IllegalArgumentException("a Display String escape is % and two lowercase hex digits");
                        }
                        i++;
                    }
                }
            }
        }

        void token() {
            i++;
            while (!atEnd()) {
                char c = s.charAt(i);
                if (c > 0x20 && c < 0x7f && "\"(),;<=>?@[\\]{}".indexOf(c) < 0 || c == ':' || c == '/') {
                    i++;
                } else {
                    return;
                }
            }
        }
    }
}
