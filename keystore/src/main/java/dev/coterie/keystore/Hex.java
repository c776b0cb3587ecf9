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

    /**
     * Decodes hex; whitespace and an optional "0x" prefix are ignored. The error message says
     * what is wrong but never repeats the input: hex in configuration files is often key material.
     */
    public static byte[] decode(String hex) {
        if (hex == null) {
            throw new IllegalArgumentException("not a hex string: no value");
        }
        String s = clean(hex);
        if ((s.length() & 1) != 0) {
            throw new IllegalArgumentException("not a hex string: an odd number of digits (" + s.length() + ")");
        }
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            int hi = Character.digit(s.charAt(2 * i), 16);
            int lo = Character.digit(s.charAt(2 * i + 1), 16);
            if (hi < 0 || lo < 0) {
                throw new IllegalArgumentException("not a hex string: a character other than 0-9, a-f, A-F at digit "
                        + (hi < 0 ? 2 * i + 1 : 2 * i + 2));
            }
            out[i] = (byte) ((hi << 4) | lo);
        }
        return out;
    }

    /** Like {@link #decode}, for secrets: the message does not even tell where the bad digit is. */
    static byte[] decodeSecret(String hex) {
        try {
            return decode(hex);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("secret value is not valid hex"
                    + (e.getMessage().contains("odd number") ? " (an odd number of digits)" : "") + " (value not shown)");
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
