package dev.coterie.keystore;

/** Static-static ECDH used to derive Group OSCORE pairwise keys. */
public enum KeyAgreementAlgorithm {
    X25519(32),
    /** P-256; public keys are 65-byte uncompressed points, the shared secret is the x-coordinate. */
    P256(65);

    private final int publicKeyLength;

    KeyAgreementAlgorithm(int publicKeyLength) {
        this.publicKeyLength = publicKeyLength;
    }

    public int publicKeyLength() { return publicKeyLength; }
}
