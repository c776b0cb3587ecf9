package dev.coterie.keystore;

/** Lower-case hex, as used in configuration files, vectors and traces. */
public final class Hex {
    private static final char[] DIGITS = "0123456789abcdef".toCharArray();

    private Hex() {
    }

    public static String encode(byte[] b) {
        return b == null ? "null" : encode(b, 0, b.length);
    }

    public static String encode(byte[] b, int off, int len) {
        char[] out = new char[len * 2];
        for (int i = 0; i < len; i++) {
            int v = b[off + i] & 0xff;
            out[2 * i] = DIGITS[v >>> 4];
            out[2 * i + 1] = DIGITS[v & 0xf];
        }
        return new String(out);
    }

    /** Decodes hex; whitespace and an optional "0x" prefix are ignored. */
    public static byte[] decode(String hex) {
        String s = clean(hex);
        if ((s.length() & 1) != 0) {
            throw new IllegalArgumentException("hex string has an odd number of digits: " + hex);
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not a hex string: " + hex);
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    /** Like {@link #decode} but never echoes the input in an error message. */
    static byte[] decodeSecret(String hex) {
        try {
            return decode(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("secret value is not valid hex (value not shown)");
        }
    }

    private static String clean(String hex) {
        String s = hex.replaceAll("\\s+", "");
        if (s.startsWith("0x") || s.startsWith("0X")) {
            s = s.substring(2);
        }
        return s;
    }
}
