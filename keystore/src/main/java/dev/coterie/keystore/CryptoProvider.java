package dev.coterie.keystore;

/**
 * The crypto boundary of Coterie. Everything that touches key bytes goes through one of these
 * narrow operations; callers hold {@link SecretBytes}, {@link PrivateKey} and {@link AeadKey}
 * handles only.
 */
public interface CryptoProvider {
    /** A short name: "default" or "bc". */
    String name();

    /** Binds {@code key} to {@code alg}; the key must have the algorithm's length. */
    AeadKey aeadKey(AeadAlgorithm alg, SecretBytes key);

    /**
     * A key that seals or opens only a message or two (a deterministic request's key, derived
     * per request): the same operations as {@link #aeadKey}, without per-key setup that only
     * pays off over many messages.
     */
    default AeadKey oneShotAeadKey(AeadAlgorithm alg, SecretBytes key) {
        return aeadKey(alg, key);
    }

    /** HKDF-Extract then -Expand (RFC 5869). An empty or null salt means the all-zero salt. */
    SecretBytes hkdf(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, int length);

    /** HKDF for values that are not secret once derived (the OSCORE Common IV). */
    default byte[] hkdfPublic(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, int length) {
        return hkdf(alg, salt, ikm, info, length).bytes().clone();
    }

    /**
     * HKDF with a secret salt and IKM = {@code ikmPrefix || ikmSecret}: the Group OSCORE pairwise
     * keys (salt = Sender or Recipient Key, IKM = credentials || ECDH shared secret).
     */
    default SecretBytes hkdf(HkdfAlgorithm alg, SecretBytes salt, byte[] ikmPrefix, SecretBytes ikmSecret,
                             byte[] info, int length) {
        byte[] ikm = new byte[ikmPrefix.length + ikmSecret.length()];
        System.arraycopy(ikmPrefix, 0, ikm, 0, ikmPrefix.length);
        System.arraycopy(ikmSecret.bytes(), 0, ikm, ikmPrefix.length, ikmSecret.length());
        SecretBytes wrapped = SecretBytes.wrap(ikm);
        try {
            return hkdf(alg, salt.bytes(), wrapped, info, length);
        } finally {
            wrapped.destroy();
        }
    }

    /**
     * {@code data XOR HKDF(salt, ikm, info, data.length)}: Group OSCORE's signature encryption
     * (the keystream never leaves the keystore).
     */
    default byte[] xorWithKeystream(HkdfAlgorithm alg, byte[] salt, SecretBytes ikm, byte[] info, byte[] data) {
        SecretBytes ks = hkdf(alg, salt, ikm, info, data.length);
        byte[] k = ks.bytes();
        byte[] out = new byte[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (data[i] ^ k[i]);
        }
        ks.destroy();
        return out;
    }

    byte[] sha256(byte[] data);

    /**
     * {@code Hash(secret || a || b)}: the request hash H of a deterministic request
     * (cacheable-oscore Section 3.3, with the deterministic client's Sender Key as {@code secret}).
     * H itself is public: it travels in the Request-Hash option.
     */
    default byte[] hash(HashAlgorithm alg, SecretBytes secret, byte[] a, byte[] b) {
        try {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance(alg.jdkName());
            md.update(secret.bytes());
            md.update(a);
            md.update(b);
            return md.digest();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(alg + " is not available", e);
        }
    }

    byte[] sign(SignatureAlgorithm alg, PrivateKey key, byte[] message);

    boolean verify(SignatureAlgorithm alg, byte[] publicKey, byte[] message, byte[] signature);

    /** Shared secret of static-static ECDH (32 bytes for both curves). */
    SecretBytes agree(KeyAgreementAlgorithm alg, PrivateKey own, byte[] peerPublicKey);

    /** Creates a private key of {@code type} from its secret, computing the public key. */
    PrivateKey privateKey(PrivateKey.Type type, SecretBytes secret);

    /** Generates a fresh key pair. */
    PrivateKey generate(PrivateKey.Type type);

    /** Maps an Ed25519 public key to the X25519 public key of the same secret (RFC 7748 birational map). */
    byte[] ed25519PublicToX25519(byte[] edPublic);

    /** Maps an Ed25519 private key to the X25519 private key that pairs with {@link #ed25519PublicToX25519}. */
    PrivateKey ed25519PrivateToX25519(PrivateKey edPrivate);
}
