package dev.coterie.oscore;

import java.io.ByteArrayOutputStream;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;

/**
 * The transport-independent part of a CoAP message, as 'ph_req' and 'last_notif' carry it
 * (observe-multicast-notifications Section 4.2; digest 6.2, OMN-03): the code (one byte), every
 * option in CoAP option encoding (deltas from 0, in order), and, when there is a payload, 0xFF
 * and the payload. No version, type, Token or Message ID.
 *
 * <p>Parsing is strict: options in the wire encoding only (the reserved nibble 15 outside the
 * payload marker is refused), a payload marker is followed by at least one byte (RFC 7252
 * Section 3), every option with a definition is checked against it (length, format, not
 * repeated when it is not repeatable), an unrecognised critical option is refused and an
 * unrecognised elective one ignored (RFC 7252 Section 5.4.1). Errors never repeat the input.
 */
public final class TransportIndependent {
    private TransportIndependent() {
    }

    /** code ‖ options ‖ [0xFF ‖ payload] of {@code m}. */
    public static byte[] encode(Message m) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(m.getRawCode());
        int last = 0;
        for (Option o : m.getOptions().asSortedList()) {
            byte[] v = o.getValue();
            int delta = o.getNumber() - last;
            last = o.getNumber();
            int dn = nibble(delta);
            int ln = nibble(v.length);
            out.write(dn << 4 | ln);
            extended(out, dn, delta);
            extended(out, ln, v.length);
            out.writeBytes(v);
        }
        byte[] p = m.getPayload();
        if (p != null && p.length > 0) {
            out.write(0xff);
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static int nibble(int v) {
        return v < 13 ? v : v < 269 ? 13 : 14;
    }

    private static void extended(ByteArrayOutputStream out, int nibble, int v) {
        if (nibble == 13) {
            out.write(v - 13);
        } else if (nibble == 14) {
            out.write((v - 269) >> 8);
            out.write(v - 269);
        }
    }

    /**
     * Parses a ph_req (a request code is required) into a request without Token, type or
     * addresses; {@code registry} knows the extension options.
     */
    public static Request request(byte[] b, OptionRegistry registry, String what) {
        Parsed p = parse(b, registry, what);
        if (!CoAP.isRequest(p.code)) {
            throw new IllegalArgumentException(what + ": code " + CoAP.formatCode(p.code) + " is not a request code");
        }
        CoAP.Code code;
        try {
            code = CoAP.Code.valueOf(p.code);
        } catch (RuntimeException e) { // Californium's MessageFormatException for an unknown method
            throw new IllegalArgumentException(what + ": unknown method code " + CoAP.formatCode(p.code));
        }
        Request r = new Request(code);
        r.setOptions(p.options);
        r.setPayload(p.payload);
        return r;
    }

    /** Parses a last_notif (a response code is required) into a response without Token or type. */
    public static Response response(byte[] b, OptionRegistry registry, String what) {
        Parsed p = parse(b, registry, what);
        if (!CoAP.isResponse(p.code)) {
            throw new IllegalArgumentException(what + ": code " + CoAP.formatCode(p.code) + " is not a response code");
        }
        CoAP.ResponseCode code;
        try {
            code = CoAP.ResponseCode.valueOf(p.code);
        } catch (RuntimeException e) { // Californium's MessageFormatException for 3.xx and unknown codes
            throw new IllegalArgumentException(what + ": unknown response code " + CoAP.formatCode(p.code));
        }
        Response r = new Response(code);
        r.setOptions(p.options);
        r.setPayload(p.payload);
        return r;
    }

    private record Parsed(int code, OptionSet options, byte[] payload) {
    }

    private static Parsed parse(byte[] b, OptionRegistry registry, String what) {
        if (b == null || b.length == 0) {
            throw new IllegalArgumentException(what + ": empty (the code byte is missing)");
        }
        int code = b[0] & 0xff;
        OptionSet options = new OptionSet();
        int pos = 1;
        int number = 0;
        byte[] payload = new byte[0];
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        while (pos < b.length) {
            int head = b[pos] & 0xff;
            if (head == 0xff) {
                if (pos + 1 >= b.length) {
                    throw new IllegalArgumentException(what + ": a payload marker without payload (RFC 7252 Section 3)");
                }
                payload = java.util.Arrays.copyOfRange(b, pos + 1, b.length);
                break;
            }
            pos++;
            int[] delta = {head >> 4};
            int[] len = {head & 0x0f};
            pos = ext(b, pos, delta, what, "delta");
            pos = ext(b, pos, len, what, "length");
            if (len[0] > b.length - pos) {
                throw new IllegalArgumentException(what + ": an option runs past the end");
            }
            number += delta[0];
            if (number > 65535) {
                throw new IllegalArgumentException(what + ": option number out of range");
            }
            byte[] v = java.util.Arrays.copyOfRange(b, pos, pos + len[0]);
            pos += len[0];
            OptionDefinition def = registry.getDefinitionByNumber(number);
            if (def == null) {
                if (org.eclipse.californium.core.coap.OptionNumberRegistry.isCritical(number)) {
                    throw new IllegalArgumentException(what + ": unrecognised critical option " + number);
                }
                continue; // an unrecognised elective option is ignored (RFC 7252 Section 5.4.1)
            }
            if (def.isSingleValue() && !seen.add(number)) {
                throw new IllegalArgumentException(what + ": option " + number + " is not repeatable");
            }
            try {
                options.addOption(new Option(def, v));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": option " + number + " is malformed");
            }
        }
        return new Parsed(code, options, payload);
    }

    private static int ext(byte[] b, int pos, int[] v, String what, String field) {
        if (v[0] == 15) {
            throw new IllegalArgumentException(what + ": reserved option " + field + " nibble 15");
        }
        if (v[0] == 13) {
            if (pos >= b.length) {
                throw new IllegalArgumentException(what + ": an option's extended " + field + " runs past the end");
            }
            v[0] = 13 + (b[pos] & 0xff);
            return pos + 1;
        }
        if (v[0] == 14) {
            if (pos + 1 >= b.length) {
                throw new IllegalArgumentException(what + ": an option's extended " + field + " runs past the end");
            }
            v[0] = 269 + ((b[pos] & 0xff) << 8 | (b[pos + 1] & 0xff));
            return pos + 2;
        }
        return pos;
    }

    /** Whether two messages have the same transport-independent bytes (OMN-13's byte comparison). */
    public static boolean same(Message a, Message b) {
        return java.util.Arrays.equals(encode(a), encode(b));
    }
}
