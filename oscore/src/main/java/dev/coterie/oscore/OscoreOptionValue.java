package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.util.Arrays;

/**
 * The value of the OSCORE option (RFC 8613 Section 6.1): flag byte, Partial IV, optional kid
 * context with its length byte, and kid as all remaining bytes. Absent fields are {@code null}.
 */
public final class OscoreOptionValue {
    static final int FLAG_KID = 0x08;
    static final int FLAG_KID_CONTEXT = 0x10;
    static final int FLAG_GROUP = 0x20;
    static final int FLAGS_RESERVED = 0xc0;

    private final byte[] partialIv;
    private final byte[] kidContext;
    private final byte[] kid;
    private final boolean groupFlag;

    public OscoreOptionValue(byte[] partialIv, byte[] kidContext, byte[] kid, boolean groupFlag) {
        if (partialIv != null && (partialIv.length == 0 || partialIv.length > 5)) {
            throw new IllegalArgumentException("Partial IV must be 1 to 5 bytes");
        }
        if (kidContext != null && kidContext.length > 255) {
            throw new IllegalArgumentException("kid context longer than 255 bytes");
        }
        this.partialIv = partialIv;
        this.kidContext = kidContext;
        this.kid = kid;
        this.groupFlag = groupFlag;
    }

    public byte[] partialIv() { return partialIv; }
    public byte[] kidContext() { return kidContext; }
    public byte[] kid() { return kid; }
    public boolean groupFlag() { return groupFlag; }

    /** Encodes; all flags zero gives the empty value (RFC 8613 Section 6.1, OSC-10). */
    public byte[] encode() {
        int n = partialIv == null ? 0 : partialIv.length;
        int flags = n | (kid != null ? FLAG_KID : 0) | (kidContext != null ? FLAG_KID_CONTEXT : 0)
                | (groupFlag ? FLAG_GROUP : 0);
        if (flags == 0) {
            return new byte[0];
        }
        int size = 1 + n + (kidContext != null ? 1 + kidContext.length : 0) + (kid != null ? kid.length : 0);
        byte[] out = new byte[size];
        out[0] = (byte) flags;
        int p = 1;
        if (n > 0) {
            System.arraycopy(partialIv, 0, out, p, n);
            p += n;
        }
        if (kidContext != null) {
            out[p++] = (byte) kidContext.length;
            System.arraycopy(kidContext, 0, out, p, kidContext.length);
            p += kidContext.length;
        }
        if (kid != null) {
            System.arraycopy(kid, 0, out, p, kid.length);
        }
        return out;
    }

    /**
     * Decodes strictly (OSC-08, OSC-10): reserved flag bits, n = 6 or 7, a kid context running
     * past the end, trailing bytes without the kid flag, or a flag byte 0x00 (the empty value has
     * no flag byte) are all errors, so every accepted value is the one encoding of what it decodes to.
     *
     * @param groupFlagAllowed whether bit 0x20 is understood (Group OSCORE endpoints)
     */
    public static OscoreOptionValue decode(byte[] v, boolean groupFlagAllowed) throws OscoreException.DecodeFailure {
        if (v.length == 0) {
            return new OscoreOptionValue(null, null, null, false);
        }
        int flags = v[0] & 0xff;
        if (flags == 0) {
            // Section 6.1: with all flags zero the value SHALL be empty; a lone 0x00 is a second encoding of it
            throw new OscoreException.DecodeFailure("OSCORE option with all flags zero is not empty");
        }
        if ((flags & FLAGS_RESERVED) != 0) {
            throw new OscoreException.DecodeFailure("reserved flag bits set in OSCORE option");
        }
        if ((flags & FLAG_GROUP) != 0 && !groupFlagAllowed) {
            throw new OscoreException.DecodeFailure("Group Flag set in OSCORE option of a plain OSCORE endpoint");
        }
        int n = flags & 0x07;
        if (n > 5) {
            throw new OscoreException.DecodeFailure("reserved Partial IV length " + n);
        }
        int p = 1;
        if (v.length < p + n) {
            throw new OscoreException.DecodeFailure("OSCORE option shorter than its Partial IV");
        }
        byte[] piv = n == 0 ? null : Arrays.copyOfRange(v, p, p + n);
        p += n;
        byte[] kidContext = null;
        if ((flags & FLAG_KID_CONTEXT) != 0) {
            if (v.length < p + 1) {
                throw new OscoreException.DecodeFailure("kid context length missing");
            }
            int s = v[p++] & 0xff;
            if (v.length < p + s) {
                throw new OscoreException.DecodeFailure("kid context runs past the OSCORE option");
            }
            kidContext = Arrays.copyOfRange(v, p, p + s);
            p += s;
        }
        byte[] kid = null;
        if ((flags & FLAG_KID) != 0) {
            kid = Arrays.copyOfRange(v, p, v.length);
        } else if (p != v.length) {
            throw new OscoreException.DecodeFailure("trailing bytes in OSCORE option");
        }
        return new OscoreOptionValue(piv, kidContext, kid, (flags & FLAG_GROUP) != 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OscoreOptionValue x && Arrays.equals(partialIv, x.partialIv)
                && Arrays.equals(kidContext, x.kidContext) && Arrays.equals(kid, x.kid) && groupFlag == x.groupFlag;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(encode());
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("OSCORE[");
        sb.append(partialIv == null ? "no PIV" : "PIV " + Hex.encode(partialIv));
        if (kidContext != null) {
            sb.append(", kid context ").append(Hex.encode(kidContext));
        }
        if (kid != null) {
            sb.append(", kid ").append(kid.length == 0 ? "(empty)" : Hex.encode(kid));
        }
        if (groupFlag) {
            sb.append(", group");
        }
        return sb.append(']').toString();
    }
}
