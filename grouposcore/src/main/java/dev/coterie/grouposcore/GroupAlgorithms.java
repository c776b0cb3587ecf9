package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.SignatureAlgorithm;

/**
 * The algorithms of a group's Common Context (Section 2.1). Unset algorithms are null: without
 * a Group Encryption Algorithm and a Signature Algorithm the group has no group mode; without
 * an AEAD Algorithm and a Pairwise Key Agreement Algorithm it has no pairwise mode.
 */
public record GroupAlgorithms(AeadAlgorithm aead, AeadAlgorithm groupEncryption, SignatureAlgorithm signature,
        KeyAgreementAlgorithm pairwiseKeyAgreement, HkdfAlgorithm hkdf) {

    public GroupAlgorithms {
        if (hkdf == null) {
            throw new IllegalArgumentException("the HKDF algorithm is required");
        }
        if ((groupEncryption == null) != (signature == null)) {
            throw new IllegalArgumentException("group mode needs both a Group Encryption Algorithm and a Signature Algorithm");
        }
        if ((aead == null) != (pairwiseKeyAgreement == null)) {
            throw new IllegalArgumentException("pairwise mode needs both an AEAD Algorithm and a Pairwise Key Agreement Algorithm");
        }
        if (groupEncryption == null && aead == null) {
            throw new IllegalArgumentException("a group needs group mode, pairwise mode or both");
        }
    }

    /** The defaults of Section 2.1 and the cacheable-oscore vectors: CCM-16-64-128, EdDSA, X25519. */
    public static GroupAlgorithms defaults() {
        return new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, AeadAlgorithm.AES_CCM_16_64_128,
                SignatureAlgorithm.EDDSA_ED25519, KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
    }

    public boolean groupMode() {
        return groupEncryption != null;
    }

    public boolean pairwiseMode() {
        return aead != null;
    }

    /** The AEAD a mode encrypts with. */
    public AeadAlgorithm cipher(GroupMode mode) {
        AeadAlgorithm a = mode == GroupMode.GROUP ? groupEncryption : aead;
        if (a == null) {
            throw new IllegalStateException("this group has no " + mode + " mode");
        }
        return a;
    }

    /** The algorithm in the key-derivation info: the Group Encryption Algorithm if set, else the AEAD. */
    public AeadAlgorithm derivationAlgorithm() {
        return groupEncryption != null ? groupEncryption : aead;
    }

    /** Common IV length: the larger nonce of the set algorithms (GRP-01). */
    public int commonIvLength() {
        int n = 0;
        if (aead != null) {
            n = Math.max(n, aead.nonceLength());
        }
        if (groupEncryption != null) {
            n = Math.max(n, groupEncryption.nonceLength());
        }
        return n;
    }

    /** Longest Sender ID: the smaller nonce of the set algorithms minus 6 (GRP-01). */
    public int maxSenderIdLength() {
        int n = Integer.MAX_VALUE;
        if (aead != null) {
            n = Math.min(n, aead.nonceLength());
        }
        if (groupEncryption != null) {
            n = Math.min(n, groupEncryption.nonceLength());
        }
        return n - 6;
    }

    /** COSE identifier of ECDH-SS + HKDF with this group's hash: -27 (SHA-256) or -28 (SHA-512). */
    public int pairwiseKeyAgreementCoseId() {
        return hkdf == HkdfAlgorithm.HKDF_SHA_256 ? -27 : -28;
    }

    /** The 'algorithms' element of the external_aad: [aead, group enc, signature, pairwise KA], null when unset. */
    byte[] algorithmsCbor() {
        CborWriter w = new CborWriter(16).array(4);
        if (aead != null) { w.integer(aead.coseId()); } else { w.nil(); }
        if (groupEncryption != null) { w.integer(groupEncryption.coseId()); } else { w.nil(); }
        if (signature != null) { w.integer(signature.coseId()); } else { w.nil(); }
        if (pairwiseKeyAgreement != null) { w.integer(pairwiseKeyAgreementCoseId()); } else { w.nil(); }
        return w.toByteArray();
    }
}
