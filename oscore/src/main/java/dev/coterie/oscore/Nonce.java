package dev.coterie.oscore;

/**
 * The AEAD nonce of RFC 8613 Section 5.2, also used by Group OSCORE (Section 4.2): the length
 * of ID_PIV, ID_PIV left-padded to (n - 6) bytes, the Partial IV left-padded to 5 bytes, XORed
 * with the first n bytes of the Common IV.
 */
public final class Nonce {
    private Nonce() {
    }

    public static byte[] build(byte[] commonIv, int length, byte[] idPiv, byte[] partialIv) {
        byte[] nonce = new byte[length];
        nonce[0] = (byte) idPiv.length;
        System.arraycopy(idPiv, 0, nonce, length - 5 - idPiv.length, idPiv.length);
        System.arraycopy(partialIv, 0, nonce, length - partialIv.length, partialIv.length);
        for (int i = 0; i < length; i++) {
            nonce[i] ^= commonIv[i];
        }
        return nonce;
    }
}
