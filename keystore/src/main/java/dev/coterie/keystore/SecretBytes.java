package dev.coterie.keystore;

import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Secret key material (master secrets, derived keys, private keys, shared secrets).
 *
 * <p>The bytes never leave the {@code keystore} package: other modules hold a {@code SecretBytes}
 * and hand it to a {@link CryptoProvider}. {@link #toString()} prints only the length, so a
 * secret that reaches a log line or an exception message reveals nothing.
 */
public final class SecretBytes {
    private final byte[] bytes;

    private SecretBytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Takes a copy of {@code material}; the caller should wipe its own array. */
    public static SecretBytes copyOf(byte[] material) {
        return new SecretBytes(material.clone());
    }

    /** Parses hex (for configuration files); an error message never repeats the input. */
    public static SecretBytes fromHex(String hex) {
        return new SecretBytes(Hex.decodeSecret(hex));
    }

    static SecretBytes wrap(byte[] owned) {
        return new SecretBytes(owned);
    }

    /** Raw access, for the crypto provider only. */
    byte[] bytes() {
        return bytes;
    }

    public int length() {
        return bytes.length;
    }

    /** Constant-time comparison against expected bytes (used by the vector runner). */
    public boolean matches(byte[] expected) {
        return MessageDigest.isEqual(bytes, expected);
    }

    /**
     * A short fingerprint (first 4 bytes of SHA-256 over a label and the secret) that lets a
     * person tell two secrets apart in a report without learning either.
     */
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update("coterie fingerprint".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            md.update(bytes);
            return "sha256:" + Hex.encode(Arrays.copyOf(md.digest(), 4));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Overwrites the bytes; the object must not be used afterwards. */
    public void destroy() {
        Arrays.fill(bytes, (byte) 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SecretBytes s && MessageDigest.isEqual(bytes, s.bytes);
    }

    @Override
    public int hashCode() {
        return bytes.length;
    }

    @Override
    public String toString() {
        return "SecretBytes[" + bytes.length + " bytes]";
    }
}
