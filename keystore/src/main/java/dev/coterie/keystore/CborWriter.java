package dev.coterie.keystore;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Deterministic CBOR encoding of the few items Coterie writes itself: HKDF info structures,
 * external_aad and Enc_structure on the per-message path (one small array, no parser objects),
 * and COSE keys and credentials at provisioning time. Credentials are parsed by the strict
 * {@link CborReader}.
 */
public final class CborWriter {
    private byte[] buf;
    private int len;

    public CborWriter(int capacity) {
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

    public CborWriter array(int n) {
        return head(4, n);
    }

    public CborWriter integer(long v) {
        return v >= 0 ? head(0, v) : head(1, -1 - v);
    }

    public CborWriter bytes(byte[] b) {
        head(2, b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    public CborWriter text(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        head(3, b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    public CborWriter bool(boolean b) {
        ensure(1);
        buf[len++] = (byte) (b ? 0xf5 : 0xf4);
        return this;
    }

    public CborWriter map(int n) {
        return head(5, n);
    }

    public CborWriter nil() {
        ensure(1);
        buf[len++] = (byte) 0xf6;
        return this;
    }

    /** Appends already-encoded CBOR. */
    public CborWriter raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    public byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }
}
