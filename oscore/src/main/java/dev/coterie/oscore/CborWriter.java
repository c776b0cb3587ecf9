package dev.coterie.oscore;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The few deterministic CBOR items OSCORE needs on the per-message path (the HKDF info, the
 * external_aad and the Enc_structure). Written by hand so that building an AAD costs one small
 * array and no parser objects.
 */
final class CborWriter {
    private byte[] buf;
    private int len;

    CborWriter(int capacity) {
        buf = new byte[capacity];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }

    private CborWriter head(int major, long value) {
        ensure(9);
        int mt = major << 5;
        if (value < 24) {
            buf[len++] = (byte) (mt | value);
        } else if (value < 0x100) {
            buf[len++] = (byte) (mt | 24);
            buf[len++] = (byte) value;
        } else if (value < 0x10000) {
            buf[len++] = (byte) (mt | 25);
            buf[len++] = (byte) (value >>> 8);
            buf[len++] = (byte) value;
        } else if (value < 0x100000000L) {
            buf[len++] = (byte) (mt | 26);
            for (int s = 24; s >= 0; s -= 8) {
                buf[len++] = (byte) (value >>> s);
            }
        } else {
            buf[len++] = (byte) (mt | 27);
            for (int s = 56; s >= 0; s -= 8) {
                buf[len++] = (byte) (value >>> s);
            }
        }
        return this;
    }

    CborWriter array(int n) {
        return head(4, n);
    }

    CborWriter integer(long v) {
        return v >= 0 ? head(0, v) : head(1, -1 - v);
    }

    CborWriter bytes(byte[] b) {
        head(2, b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    CborWriter text(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        head(3, b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    CborWriter nil() {
        ensure(1);
        buf[len++] = (byte) 0xf6;
        return this;
    }

    /** Appends already-encoded CBOR. */
    CborWriter raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }
}
