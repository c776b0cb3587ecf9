package dev.coterie.keystore;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * A strict pull reader for the small CBOR items Coterie accepts from outside (CCS credentials,
 * CRIs in Proxy-Cri and tp_info).
 * It takes definite lengths only, well-formed items only (RFC 8949 Section 5.3.1), valid UTF-8
 * text, integers that fit a Java {@code long}, map keys that are integers or text strings and
 * never repeat, at most {@link #MAX_DEPTH} levels of nesting, and no bytes after the top item.
 *
 * <p>Every declared length is checked against the bytes left before anything is allocated, so a
 * hostile header cannot make it allocate more than the input's size. Error messages name the
 * byte offset and what was wrong, never the bytes themselves.
 */
public final class CborReader {
    /** Deep enough for a CCS (claims, cnf, COSE_Key, key_ops); anything deeper is refused. */
    public static final int MAX_DEPTH = 8;

    public static final int UINT = 0;
    public static final int NINT = 1;
    public static final int BYTES = 2;
    public static final int TEXT = 3;
    public static final int ARRAY = 4;
    public static final int MAP = 5;
    public static final int TAG = 6;
    public static final int SIMPLE = 7;

    /** What {@link #readValue} returns for an item it skipped: only its kind is kept. */
    record Skipped(String kind) {
    }

    private final byte[] in;
    private final String what;
    private int pos;

    /** @param what names the structure in error messages ("Proxy-Cri", "credential", ...) */
    public CborReader(byte[] in, String what) {
        this.in = in;
        this.what = what;
    }

    public int position() {
        return pos;
    }

    public IllegalArgumentException error(String why) {
        return new IllegalArgumentException(what + ": " + why + " (at byte " + pos + ")");
    }

    /** The major type of the next item, without consuming it. */
    public int peekMajorType() {
        if (pos >= in.length) {
            throw error("the input ends where an item should start");
        }
        return (in[pos] & 0xff) >>> 5;
    }

    /** What the next item is ("an integer", "a text string", ...), without consuming it. */
    public String peekKind() {
        peekMajorType();
        return kindName((in[pos] & 0xff) >>> 5, in[pos] & 0x1f);
    }

    /** Reads an item head; returns its argument. Refuses reserved and indefinite lengths. */
    private long head(int expectedMajor) {
        int start = pos;
        int ib = in[pos] & 0xff;
        int major = ib >>> 5;
        int ai = ib & 0x1f;
        if (major != expectedMajor) {
            throw error("expected " + kindName(expectedMajor, ai) + ", found " + kindName(major, ai));
        }
        pos++;
        if (ai < 24) {
            return ai;
        }
        if (ai == 31) {
            pos = start;
            throw error("indefinite-length items are not accepted");
        }
        if (ai > 27) {
            pos = start;
            throw error("reserved additional information " + ai + " (not well-formed)");
        }
        int n = 1 << (ai - 24);
        if (in.length - pos < n) {
            pos = start;
            throw error("the input ends inside an item head");
        }
        long v = 0;
        for (int i = 0; i < n; i++) {
            v = (v << 8) | (in[pos++] & 0xff);
        }
        return v;
    }

    /** An unsigned or negative integer; one outside the range of a long is refused. */
    public long readInteger() {
        int major = peekMajorType();
        if (major != UINT && major != NINT) {
            throw error("expected an integer, found " + kindName(major, in[pos] & 0x1f));
        }
        int start = pos;
        long arg = head(major);
        if (arg < 0) {
            pos = start;
            throw error("integer out of range");
        }
        return major == UINT ? arg : -1 - arg;
    }

    public byte[] readBytes() {
        peekMajorType();
        int len = length(head(BYTES));
        byte[] b = new byte[len];
        System.arraycopy(in, pos, b, 0, len);
        pos += len;
        return b;
    }

    public String readText() {
        peekMajorType();
        int len = length(head(TEXT));
        int start = pos;
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(in, pos, len)).toString();
            pos += len;
            return s;
        } catch (CharacterCodingException e) {
            pos = start;
            throw error("text string is not valid UTF-8");
        }
    }

    /** An array head; returns the number of items (each needs one byte at least). */
    public int readArrayHeader() {
        peekMajorType();
        long n = head(ARRAY);
        if (n < 0 || n > in.length - pos) {
            throw error("an array declares more items than the " + (in.length - pos) + " bytes left can hold");
        }
        return (int) n;
    }

    /** Whether the next item is the simple value {@code v} (20 false, 21 true, 22 null), without consuming it. */
    public boolean peekSimple(int v) {
        return pos < in.length && (in[pos] & 0xff) == (0xe0 | v);
    }

    /** Consumes null (0xf6). */
    public void readNull() {
        if (!peekSimple(22)) {
            throw error("expected null, found " + peekKind());
        }
        pos++;
    }

    /** Consumes true or false. */
    public boolean readBoolean() {
        if (peekSimple(20) || peekSimple(21)) {
            return (in[pos++] & 0xff) == 0xf5;
        }
        throw error("expected true or false, found " + peekKind());
    }

    /** Whether every byte was read. */
    public boolean atEnd() {
        return pos == in.length;
    }

    /** A map head; returns the number of pairs (each needs two bytes at least). */
    public int readMapHeader() {
        peekMajorType();
        long n = head(MAP);
        if (n < 0 || n > (in.length - pos) / 2) {
            throw error("a map declares more pairs than the " + (in.length - pos) + " bytes left can hold");
        }
        return (int) n;
    }

    /**
     * A map key: a {@link Long} or a {@link String}, so that integer 8 and text "8" are different
     * keys. {@code seen} holds this map's keys so far; a repeated key is refused.
     */
    Object readKey(Set<Object> seen) {
        int start = pos;
        int major = peekMajorType();
        Object key;
        if (major == UINT || major == NINT) {
            key = readInteger();
        } else if (major == TEXT) {
            key = readText();
        } else {
            throw error("map keys must be integers or text strings, found " + kindName(major, in[pos] & 0x1f));
        }
        if (!seen.add(key)) {
            pos = start;
            throw error("map key " + describeKey(key) + " appears twice");
        }
        return key;
    }

    /**
     * Reads any item: a {@link Long}, {@code byte[]}, {@link String} or {@link Boolean}; arrays,
     * maps, tags, floats, null and undefined are checked for well-formedness and skipped, and a
     * {@link Skipped} tells which kind it was.
     */
    Object readValue(int depth) {
        int major = peekMajorType();
        int ai = in[pos] & 0x1f;
        switch (major) {
            case UINT:
            case NINT:
                return readInteger();
            case BYTES:
                return readBytes();
            case TEXT:
                return readText();
            case SIMPLE:
                if (ai == 20 || ai == 21) {
                    pos++;
                    return ai == 21;
                }
                skip(depth);
                return new Skipped(kindName(major, ai));
            default:
                skip(depth);
                return new Skipped(kindName(major, ai));
        }
    }

    /** Checks and steps over one item of any kind; {@code depth} is the nesting level it sits at. */
    void skip(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH + " levels");
        }
        int major = peekMajorType();
        int ai = in[pos] & 0x1f;
        switch (major) {
            case UINT:
            case NINT:
                readInteger();
                return;
            case BYTES:
                readBytes();
                return;
            case TEXT:
                readText();
                return;
            case ARRAY: {
                long n = head(ARRAY);
                if (n < 0 || n > in.length - pos) {
                    throw error("an array declares more items than the " + (in.length - pos) + " bytes left can hold");
                }
                for (long i = 0; i < n; i++) {
                    skip(depth + 1);
                }
                return;
            }
            case MAP: {
                int n = readMapHeader();
                Set<Object> seen = new HashSet<>();
                for (int i = 0; i < n; i++) {
                    readKey(seen);
                    skip(depth + 1);
                }
                return;
            }
            case TAG:
                head(TAG);
                skip(depth + 1);
                return;
            default:
                simple(ai);
        }
    }

    private void simple(int ai) {
        int start = pos;
        if (ai == 31) {
            throw error("a break code outside an indefinite-length item (not well-formed)");
        }
        if (ai > 27) {
            throw error("reserved additional information " + ai + " (not well-formed)");
        }
        long v = head(SIMPLE);
        if (ai == 24 && v < 32) {
            pos = start;
            throw error("simple value " + v + " in two bytes (not well-formed)");
        }
    }

    /** Checks and steps over the next item, whatever it is (a map value this reader's caller does not know). */
    public void skipItem() {
        skip(1);
    }

    /** The next item's bytes, as they are, after checking it is well-formed (a value kept for whoever understands it). */
    public byte[] readRawItem() {
        int start = pos;
        skip(1);
        byte[] b = new byte[pos - start];
        System.arraycopy(in, start, b, 0, b.length);
        return b;
    }

    /**
     * A map key (integer or text; see {@code readKey}), refusing one already in {@code seen}.
     */
    public Object readMapKey(Set<Object> seen) {
        return readKey(seen);
    }

    /** Whether the next item is a float (half, single or double precision). */
    public boolean peekFloat() {
        if (pos >= in.length) {
            return false;
        }
        int b = in[pos] & 0xff;
        return b == 0xf9 || b == 0xfa || b == 0xfb;
    }

    /** A half, single or double precision float. */
    public double readFloat() {
        if (!peekFloat()) {
            throw error("expected a float, found " + peekKind());
        }
        int b = in[pos] & 0xff;
        int n = b == 0xf9 ? 2 : b == 0xfa ? 4 : 8;
        if (in.length - pos - 1 < n) {
            throw error("a float needs " + n + " more bytes");
        }
        long bits = 0;
        for (int i = 1; i <= n; i++) {
            bits = bits << 8 | (in[pos + i] & 0xff);
        }
        pos += 1 + n;
        if (n == 8) {
            return Double.longBitsToDouble(bits);
        }
        if (n == 4) {
            return Float.intBitsToFloat((int) bits);
        }
        int exp = (int) (bits >> 10) & 0x1f;
        int mant = (int) bits & 0x3ff;
        double v = exp == 0 ? mant * Math.pow(2, -24) : exp != 31 ? (mant + 1024) * Math.pow(2, exp - 25)
                : mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        return (bits & 0x8000) != 0 ? -v : v;
    }

    /** Refuses anything after the top-level item. */
    public void end() {
        if (pos != in.length) {
            throw error((in.length - pos) + " trailing byte(s) after the item");
        }
    }

    private int length(long declared) {
        if (declared < 0 || declared > in.length - pos) {
            throw error("a string declares more bytes than the " + (in.length - pos) + " left");
        }
        return (int) declared;
    }

    static String describeKey(Object key) {
        // an integer label names a field; a text key is input text, so it is only described
        return key instanceof String ? "(a text string)" : String.valueOf(key);
    }

    static String kindOf(Object value) {
        if (value instanceof Long) {
            return "an integer";
        }
        if (value instanceof byte[]) {
            return "a byte string";
        }
        if (value instanceof String) {
            return "a text string";
        }
        if (value instanceof Boolean) {
            return "a boolean";
        }
        return ((Skipped) value).kind();
    }

    private static String kindName(int major, int ai) {
        switch (major) {
            case UINT:
            case NINT: return "an integer";
            case BYTES: return "a byte string";
            case TEXT: return "a text string";
            case ARRAY: return "an array";
            case MAP: return "a map";
            case TAG: return "a tag";
            default:
                if (ai == 20 || ai == 21) {
                    return "a boolean";
                }
                if (ai == 22) {
                    return "null";
                }
                if (ai == 23) {
                    return "undefined";
                }
                return ai >= 25 && ai <= 27 ? "a float" : "a simple value";
        }
    }
}
