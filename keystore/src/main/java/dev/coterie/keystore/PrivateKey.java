package dev.coterie.keystore;

/**
 * A private key for one algorithm together with its public key. For Ed25519 and X25519 the
 * secret is the 32-byte seed/scalar; for P-256 it is the 32-byte big-endian scalar. Never prints
 * its secret.
 */
public final class PrivateKey {
    public enum Type { ED25519, X25519, P256 }

    private final Type type;
    private final SecretBytes secret;
    private final byte[] publicKey;
    /** Bouncy Castle's expanded form of this key, built once (it recomputes the public key otherwise). */
    volatile Object bcParameters;

    PrivateKey(Type type, SecretBytes secret, byte[] publicKey) {
        this.type = type;
        this.secret = secret;
        this.publicKey = publicKey;
    }

    public Type type() { return type; }

    SecretBytes secret() { return secret; }

    /** The public key: 32 bytes for the Edwards/Montgomery curves, 65 bytes (04||x||y) for P-256. */
    public byte[] publicKey() { return publicKey.clone(); }

    @Override
    public String toString() {
        return "PrivateKey[" + type + ", public " + Hex.encode(publicKey) + "]";
    }
}
