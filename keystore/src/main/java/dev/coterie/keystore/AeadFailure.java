package dev.coterie.keystore;

/** Authentication of a ciphertext failed. Carries no detail about keys or data. */
public final class AeadFailure extends Exception {
    private static final long serialVersionUID = 1L;

    public AeadFailure() {
        super("AEAD authentication failed", null, false, false);
    }
}
