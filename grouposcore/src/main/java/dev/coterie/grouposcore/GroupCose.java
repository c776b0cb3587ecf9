package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadFailure;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.Nonce;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.SealingNonce;
import java.util.Arrays;

/**
 * The COSE building blocks of Group OSCORE (draft-ietf-core-oscore-groupcomm-28 Sections 4.1 to
 * 4.3) that every group view shares: the 9-element aad_array, the Countersign_structure, the
 * keystream that encrypts the signature, sealing with an optional signature step, and the
 * signature check that comes before opening (GRP-14). The public functions take public inputs only.
 */
public final class GroupCose {
    private static final byte[] EMPTY = new byte[0];
    private static final byte[] SIG_PREFIX = new CborWriter(24).array(5).text("CounterSignature0")
            .bytes(EMPTY).bytes(EMPTY).toByteArray();

    private GroupCose() {
    }

    /** The 9-element aad_array of Section 4.3 (GRP-08). */
    public static byte[] aadArray(byte[] algorithmsCbor, byte[] requestKid, byte[] requestPiv, byte[] classI,
                                  byte[] requestKidContext, byte[] oscoreOption, byte[] senderCred, byte[] gmCred) {
        return new CborWriter(64 + senderCred.length + gmCred.length + classI.length)
                .array(9).integer(1).raw(algorithmsCbor).bytes(requestKid).bytes(requestPiv).bytes(classI)
                .bytes(requestKidContext).bytes(oscoreOption).bytes(senderCred).bytes(gmCred).toByteArray();
    }

    static byte[] aadArray(GroupContext ctx, byte[] requestKid, byte[] requestPiv, byte[] classI, byte[] requestKidContext,
                           byte[] oscoreOption, byte[] senderCred) {
        return aadArray(ctx.algorithmsCbor(), requestKid, requestPiv, classI, requestKidContext, oscoreOption, senderCred,
                ctx.gmCredRaw());
    }

    /** ["CounterSignature0", h'', h'', external_aad, ciphertext] (GRP-11, digest Q-02). */
    public static byte[] countersignStructure(byte[] aadArray, byte[] ciphertext) {
        return new CborWriter(aadArray.length + ciphertext.length + 32).raw(SIG_PREFIX).bytes(aadArray).bytes(ciphertext)
                .toByteArray();
    }

    /** [id, id_context, is_request, L]: the keystream info of Section 4.1 (GRP-12). */
    public static byte[] keystreamInfo(byte[] id, byte[] gid, boolean request, int length) {
        return new CborWriter(32).array(4).bytes(id).bytes(gid).bool(request).integer(length).toByteArray();
    }

    /** Encrypts with {@code key} under the nonce of {@code n} (pairwise mode and deterministic requests). */
    static byte[] seal(GroupContext ctx, AeadKey key, AeadAlgorithm alg, SealingNonce n, byte[] aadArray, byte[] pt) {
        return key.seal(n.nonce(ctx.commonIvRaw(), alg.nonceLength()), ProtectionPipeline.encStructure(aadArray), pt);
    }

    /** Group mode: encrypt, sign the ciphertext, encrypt the signature with the keystream (Section 7). */
    static byte[] sealAndSign(GroupContext ctx, SealingNonce n, boolean request, byte[] aadArray, byte[] pt) {
        byte[] ct = seal(ctx, ctx.senderGroupKey(), ctx.algorithms().groupEncryption(), n, aadArray, pt);
        SignatureAlgorithm sa = ctx.algorithms().signature();
        byte[] sig = ctx.provider().sign(sa, ctx.signingKey(), countersignStructure(aadArray, ct));
        byte[] encSig = ctx.provider().xorWithKeystream(ctx.algorithms().hkdf(), n.partialIv(), ctx.signatureEncryptionKey(),
                keystreamInfo(n.idPiv(), ctx.gidRaw(), request, sig.length), sig);
        byte[] payload = Arrays.copyOf(ct, ct.length + encSig.length);
        System.arraycopy(encSig, 0, payload, ct.length, encSig.length);
        return payload;
    }

    static byte[] open(GroupContext ctx, AeadKey key, AeadAlgorithm alg, byte[] idPiv, byte[] piv, byte[] aadArray, byte[] ct)
            throws OscoreException.DecryptionFailed {
        try {
            return key.open(Nonce.build(ctx.commonIvRaw(), alg.nonceLength(), idPiv, piv), ProtectionPipeline.encStructure(aadArray), ct);
        } catch (AeadFailure e) {
            throw new OscoreException.DecryptionFailed("did not authenticate");
        }
    }

    /**
     * Group mode, the step before decryption (GRP-14): decrypts the signature with the keystream
     * and verifies it; returns the ciphertext to open. A bad signature reads as "Decryption
     * failed" (table 2.9). No AEAD key was used, so callers do not count it against the integrity
     * limit: only {@link #open} failures are AEAD forgery attempts.
     */
    static byte[] verifySignature(GroupContext ctx, Credential sender, byte[] idPiv, byte[] piv, boolean request,
                                  byte[] aadArray, byte[] payload) throws OscoreException.DecryptionFailed {
        SignatureAlgorithm sa = ctx.algorithms().signature();
        int sigLen = sa.signatureLength();
        if (payload.length < sigLen + ctx.algorithms().groupEncryption().tagLength()) {
            throw new OscoreException.DecryptionFailed("payload shorter than tag and signature");
        }
        byte[] ct = Arrays.copyOf(payload, payload.length - sigLen);
        byte[] encSig = Arrays.copyOfRange(payload, payload.length - sigLen, payload.length);
        byte[] sig = ctx.provider().xorWithKeystream(ctx.algorithms().hkdf(), piv, ctx.signatureEncryptionKey(),
                keystreamInfo(idPiv, ctx.gidRaw(), request, sigLen), encSig);
        if (!ctx.provider().verify(sa, sender.publicKey(), countersignStructure(aadArray, ct), sig)) {
            throw new OscoreException.DecryptionFailed("signature did not verify");
        }
        return ct;
    }

    /** GRP-17: a mode the group does not use is discarded (group mode: 4.01; pairwise: 4.02, table 2.9). */
    static void checkModeSupported(GroupContext ctx, dev.coterie.oscore.ProtectionMode mode) throws OscoreException {
        if (mode == dev.coterie.oscore.ProtectionMode.GROUP && !ctx.algorithms().groupMode()) {
            throw new OscoreException.ContextNotFound("group mode is not used in this group");
        }
        if (mode == dev.coterie.oscore.ProtectionMode.PAIRWISE && (!ctx.algorithms().pairwiseMode() || ctx.isSilent())) {
            throw new OscoreException.DecodeFailure("pairwise mode is not available here");
        }
    }
}
