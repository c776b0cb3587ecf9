package dev.coterie.grouposcore;

import dev.coterie.keystore.SecretBytes;
import java.util.Arrays;

/**
 * Read-only access to the intermediate values of Group OSCORE processing, so that the vector
 * runner can check each published step (aad_array, Countersign_structure, keystream, ...).
 * Nothing secret is returned except through {@link SecretBytes} handles.
 */
public final class GroupVectorProbe {
    private final GroupContext ctx;

    public GroupVectorProbe(GroupContext ctx) {
        this.ctx = ctx;
    }

    public byte[] aadArray(byte[] requestKid, byte[] requestPiv, byte[] classI, byte[] requestKidContext,
                           byte[] oscoreOption, byte[] senderCred) {
        return GroupProtection.aadArray(ctx, requestKid, requestPiv, classI, requestKidContext, oscoreOption, senderCred);
    }

    public byte[] aad(byte[] aadArray) {
        return GroupProtection.encStructure(aadArray);
    }

    public byte[] nonce(byte[] idPiv, byte[] piv, int length) {
        return ctx.nonce(idPiv, piv, length);
    }

    public static byte[] countersignStructure(byte[] aadArray, byte[] ciphertext) {
        return GroupProtection.countersignStructure(aadArray, ciphertext);
    }

    public static byte[] keystreamInfo(byte[] id, byte[] gid, boolean request, int length) {
        return GroupProtection.keystreamInfo(id, gid, request, length);
    }

    /** Group-mode sealing of {@code plaintext} as the Sender Context would do it: ciphertext || encrypted signature. */
    public byte[] sealAndSign(byte[] idPiv, byte[] piv, boolean request, byte[] aadArray, byte[] plaintext) {
        byte[] ct = ctx.senderGroupKey().seal(ctx.nonce(idPiv, piv, ctx.algorithms().groupEncryption().nonceLength()),
                GroupProtection.encStructure(aadArray), plaintext);
        byte[] sig = ctx.provider().sign(ctx.algorithms().signature(), ctx.signingKey(),
                GroupProtection.countersignStructure(aadArray, ct));
        byte[] enc = ctx.provider().xorWithKeystream(ctx.algorithms().hkdf(), piv, ctx.signatureEncryptionKey(),
                GroupProtection.keystreamInfo(idPiv, ctx.gidRaw(), request, sig.length), sig);
        byte[] out = Arrays.copyOf(ct, ct.length + enc.length);
        System.arraycopy(enc, 0, out, ct.length, enc.length);
        return out;
    }

    /** The plain signature over a Countersign_structure, with the Sender Context's key. */
    public byte[] sign(byte[] countersignStructure) {
        return ctx.provider().sign(ctx.algorithms().signature(), ctx.signingKey(), countersignStructure);
    }

    /** {@code data XOR keystream} for the given keystream inputs (the keystream itself is not returned). */
    public byte[] xorKeystream(byte[] piv, byte[] info, byte[] data) {
        return ctx.provider().xorWithKeystream(ctx.algorithms().hkdf(), piv, ctx.signatureEncryptionKey(), info, data);
    }
}
