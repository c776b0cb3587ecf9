package dev.coterie.oscore;

import dev.coterie.keystore.CborWriter;

/**
 * Read-only access to the intermediate values of RFC 8613 processing (info, nonce, AAD), so
 * that the vector runner can check each step and not only the final bytes. Nothing secret is
 * reachable from here.
 */
public final class OscoreVectorProbe {
    private final OscoreContext ctx;

    public OscoreVectorProbe(OscoreContext ctx) {
        this.ctx = ctx;
    }

    public byte[] info(byte[] id, String type, int length) {
        return ctx.info(id, type, length);
    }

    public byte[] nonce(byte[] idPiv, byte[] partialIv) {
        return ctx.nonce(idPiv, partialIv);
    }

    public byte[] aad(byte[] requestKid, byte[] requestPiv) {
        return OscoreProtection.aad(ctx, requestKid, requestPiv, new byte[0]);
    }

    /** {algorithms array, aad_array, external_aad (bstr-wrapped), Enc_structure} for Section 5.4. */
    public static byte[][] aadParts(int alg, byte[] kid, byte[] piv, byte[] classI) {
        byte[] algs = new CborWriter(4).array(1).integer(alg).toByteArray();
        byte[] array = new CborWriter(32).array(5).integer(1).raw(algs).bytes(kid).bytes(piv).bytes(classI).toByteArray();
        byte[] external = new CborWriter(40).bytes(array).toByteArray();
        byte[] enc = new CborWriter(64).array(3).text("Encrypt0").bytes(new byte[0]).bytes(array).toByteArray();
        return new byte[][] {algs, array, external, enc};
    }

    /** The uncompressed COSE_Encrypt0 [h'', {4: kid, 6: piv, 10: kid context}, ciphertext]. */
    public static byte[] coseEncrypt0(byte[] kid, byte[] piv, byte[] kidContext, byte[] ciphertext) {
        int n = (kid != null ? 1 : 0) + (piv != null ? 1 : 0) + (kidContext != null ? 1 : 0);
        CborWriter w = new CborWriter(64).array(3).bytes(new byte[0]);
        w.raw(new byte[] {(byte) (0xa0 | n)});
        if (kid != null) {
            w.integer(4).bytes(kid);
        }
        if (piv != null) {
            w.integer(6).bytes(piv);
        }
        if (kidContext != null) {
            w.integer(10).bytes(kidContext);
        }
        return w.bytes(ciphertext).toByteArray();
    }
}
