package dev.coterie.oscore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.coap.option.OptionDefinition;
import org.eclipse.californium.core.coap.option.OptionRegistry;

/**
 * The OSCORE plaintext (RFC 8613 Section 5.3): Code, the class-E options encoded like CoAP
 * options with deltas counted among themselves, and 0xFF plus payload if there is one.
 */
public final class Plaintext {
    final int code;
    final List<Option> options;
    final byte[] payload;
    final int unrecognizedCritical;

    public int code() { return code; }
    public List<Option> options() { return options; }
    public byte[] payload() { return payload; }

    /**
     * The first inner option that RFC 7252 Section 5.4.1 makes fatal: an unrecognized critical
     * option, or a supernumerary occurrence of a critical non-repeatable one (Section 5.4.5
     * treats it like an unrecognized option); -1 if none. Unrecognized elective options are kept,
     * supernumerary elective ones dropped: the first occurrence wins.
     */
    public int unrecognizedCritical() { return unrecognizedCritical; }

    private Plaintext(int code, List<Option> options, byte[] payload, int unrecognizedCritical) {
        this.code = code;
        this.options = options;
        this.payload = payload;
        this.unrecognizedCritical = unrecognizedCritical;
    }

    public static byte[] encode(int code, List<Option> inner, byte[] payload) {
        int size = 1 + (payload.length > 0 ? 1 + payload.length : 0);
        for (Option o : inner) {
            size += 5 + o.getLength();
        }
        byte[] out = new byte[size];
        out[0] = (byte) code;
        int p = 1;
        p = writeOptions(inner, out, p);
        if (payload.length > 0) {
            out[p++] = (byte) 0xff;
            System.arraycopy(payload, 0, out, p, payload.length);
            p += payload.length;
        }
        return p == out.length ? out : Arrays.copyOf(out, p);
    }

    /** CoAP option encoding (RFC 7252 Section 3.1) of options already sorted by number. */
    public static int writeOptions(List<Option> options, byte[] out, int p) {
        int last = 0;
        for (Option o : options) {
            int delta = o.getNumber() - last;
            last = o.getNumber();
            byte[] v = o.getValue();
            int hp = p++;
            int dn = nibble(delta);
            int ln = nibble(v.length);
            out[hp] = (byte) ((dn << 4) | ln);
            p = extended(delta, dn, out, p);
            p = extended(v.length, ln, out, p);
            System.arraycopy(v, 0, out, p, v.length);
            p += v.length;
        }
        return p;
    }

    public static byte[] encodeOptions(List<Option> options) {
        int size = 0;
        for (Option o : options) {
            size += 5 + o.getLength();
        }
        byte[] out = new byte[size];
        int p = writeOptions(options, out, 0);
        return Arrays.copyOf(out, p);
    }

    private static int nibble(int v) {
        return v < 13 ? v : (v < 269 ? 13 : 14);
    }

    private static int extended(int v, int nibble, byte[] out, int p) {
        if (nibble == 13) {
            out[p++] = (byte) (v - 13);
        } else if (nibble == 14) {
            int x = v - 269;
            out[p++] = (byte) (x >>> 8);
            out[p++] = (byte) x;
        }
        return p;
    }

    /** Parses a decrypted plaintext; any malformation is a {@link OscoreException.DecodeFailure}. */
    public static Plaintext decode(byte[] pt, OptionRegistry registry) throws OscoreException.DecodeFailure {
        if (pt.length < 1) {
            throw new OscoreException.DecodeFailure("empty plaintext");
        }
        int code = pt[0] & 0xff;
        List<Option> options = new ArrayList<>();
        int p = 1;
        int number = 0;
        int previous = -1;
        int unrecognizedCritical = -1;
        byte[] payload = new byte[0];
        while (p < pt.length) {
            int b = pt[p++] & 0xff;
            if (b == 0xff) {
                if (p == pt.length) {
                    throw new OscoreException.DecodeFailure("payload marker without payload in plaintext");
                }
                payload = Arrays.copyOfRange(pt, p, pt.length);
                break;
            }
            int[] cursor = {p};
            int delta = readExtended(b >>> 4, pt, cursor);
            int length = readExtended(b & 0x0f, pt, cursor);
            p = cursor[0];
            if (p + length > pt.length) {
                throw new OscoreException.DecodeFailure("option runs past the plaintext");
            }
            number += delta;
            if (number > 65535) {
                throw new OscoreException.DecodeFailure("option number out of range in plaintext");
            }
            byte[] value = Arrays.copyOfRange(pt, p, p + length);
            p += length;
            boolean repeated = number == previous;
            previous = number;
            OptionDefinition def = registry.getDefinitionByNumber(code, number);
            if (def == null || (repeated && def.isSingleValue())) {
                // unrecognized, or a supernumerary occurrence treated like one (RFC 7252 5.4.1, 5.4.5)
                if ((number & 1) != 0) {
                    if (unrecognizedCritical < 0) {
                        unrecognizedCritical = number;
                    }
                    continue;
                }
                if (def != null) {
                    continue;
                }
                def = new OpaqueOptionDefinition(number, "Unknown-" + number, false);
            }
            try {
                Option option = def.create(value);
                // what Californium's OptionSet refuses or cannot give back (a Block option of 4 bytes, a Size2 of
                // 2^31 or more, which it keeps in an int) would throw later, when the message is delivered or
                // relayed: refuse it here, before any replay window or Response Number moved
                OptionSet scratch = new OptionSet();
                scratch.addOption(option);
                scratch.asSortedList();
                options.add(option);
            } catch (IllegalArgumentException e) {
                throw new OscoreException.DecodeFailure("inner option " + number + " has an invalid value");
            }
        }
        return new Plaintext(code, options, payload, unrecognizedCritical);
    }

    private static int readExtended(int nibble, byte[] pt, int[] cursor) throws OscoreException.DecodeFailure {
        int p = cursor[0];
        if (nibble < 13) {
            return nibble;
        }
        if (nibble == 13) {
            if (p >= pt.length) {
                throw new OscoreException.DecodeFailure("truncated option header in plaintext");
            }
            cursor[0] = p + 1;
            return (pt[p] & 0xff) + 13;
        }
        if (nibble == 14) {
            if (p + 1 >= pt.length) {
                throw new OscoreException.DecodeFailure("truncated option header in plaintext");
            }
            cursor[0] = p + 2;
            return ((pt[p] & 0xff) << 8 | (pt[p + 1] & 0xff)) + 269;
        }
        throw new OscoreException.DecodeFailure("reserved option nibble 15 in plaintext");
    }

    public static void addAll(OptionSet set, List<Option> options) {
        for (Option o : options) {
            set.addOption(o);
        }
    }
}
