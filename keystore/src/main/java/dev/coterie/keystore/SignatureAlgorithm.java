package dev.coterie.keystore;

/** Signature algorithms for Group OSCORE group mode, by COSE identifier. */
public enum SignatureAlgorithm {
    /** EdDSA with Ed25519 (COSE -8, curve 6). Public key 32 bytes, signature 64 bytes. */
    EDDSA_ED25519(-8, 32, 64),
    /** ECDSA with SHA-256 on P-256 (COSE -7). Public key 65 bytes uncompressed, signature r||s. */
    ES256(-7, 65, 64);

    private final int coseId;
    private final int publicKeyLength;
    private final int signatureLength;

    SignatureAlgorithm(int coseId, int publicKeyLength, int signatureLength) {
        this.coseId = coseId;
        this.publicKeyLength = publicKeyLength;
        this.signatureLength = signatureLength;
    }

    public int coseId() { return coseId; }
    public int publicKeyLength() { return publicKeyLength; }
    public int signatureLength() { return signatureLength; }
}
