package dev.coterie.keystore;

/**
 * An AEAD bound to one key: the only way to use a key for encryption. Instances are
 * thread-safe. The key bytes are not reachable from here.
 */
public interface AeadKey {
    AeadAlgorithm algorithm();

    /** Returns ciphertext followed by the tag. */
    byte[] seal(byte[] nonce, byte[] aad, byte[] plaintext, int off, int len);

    default byte[] seal(byte[] nonce, byte[] aad, byte[] plaintext) {
        return seal(nonce, aad, plaintext, 0, plaintext.length);
    }

    /** Returns the plaintext, or throws {@link AeadFailure} if the tag does not verify. */
    byte[] open(byte[] nonce, byte[] aad, byte[] ciphertext, int off, int len) throws AeadFailure;

    default byte[] open(byte[] nonce, byte[] aad, byte[] ciphertext) throws AeadFailure {
        return open(nonce, aad, ciphertext, 0, ciphertext.length);
    }
}
