package dev.coterie.keystore;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A private key on disk. The loader refuses a file that anyone but its owner can access
 * ({@link OwnerOnlyFiles}). The key is stored in hex, or encrypted with a passphrase
 * (PBKDF2-HMAC-SHA256, AES-256-GCM). Error messages name the file and field, never a value.
 * <pre>
 * {"type": "Ed25519", "private_key": "HEX"}
 * {"type": "Ed25519", "public_key": "HEX", "encrypted": {"kdf": "PBKDF2-HMAC-SHA256", "iterations": 210000,
 *   "salt": "HEX", "nonce": "HEX", "ciphertext": "HEX"}}
 * </pre>
 * {@code type} is Ed25519, X25519 or P-256.
 */
public final class PrivateKeyFile {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ITERATIONS = 210_000;
    private static final Set<String> KNOWN = Set.of("type", "public_key", "private_key", "encrypted", "comment");
    private static final Set<String> KNOWN_ENCRYPTED = Set.of("kdf", "iterations", "salt", "nonce", "ciphertext");

    private PrivateKeyFile() {
    }

    /** Writes {@code key} owner-only; encrypted when {@code passphrase} is not null. */
    public static void write(Path file, PrivateKey key, char[] passphrase) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", typeName(key.type()));
        o.put("public_key", Hex.encode(key.publicKey()));
        byte[] secret = key.secret().bytes();
        if (passphrase == null) {
            o.put("private_key", Hex.encode(secret));
        } else {
            byte[] salt = new byte[16];
            byte[] nonce = new byte[12];
            SecureRandom r = new SecureRandom();
            r.nextBytes(salt);
            r.nextBytes(nonce);
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.ENCRYPT_MODE, kek(passphrase, salt, ITERATIONS), new GCMParameterSpec(128, nonce));
                c.updateAAD(typeName(key.type()).getBytes(StandardCharsets.US_ASCII));
                ObjectNode e = o.putObject("encrypted");
                e.put("kdf", "PBKDF2-HMAC-SHA256");
                e.put("iterations", ITERATIONS);
                e.put("salt", Hex.encode(salt));
                e.put("nonce", Hex.encode(nonce));
                e.put("ciphertext", Hex.encode(c.doFinal(secret)));
            } catch (GeneralSecurityException ex) {
                throw new IOException("cannot encrypt the private key", ex);
            }
        }
        OwnerOnlyFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o));
    }

    /**
     * Reads a private key file.
     *
     * @throws IOException if the file is readable by group or others, malformed, or the
     *     passphrase is wrong (the message names the file, never the key)
     */
    public static PrivateKey read(Path file, char[] passphrase, CryptoProvider provider) throws IOException {
        OwnerOnlyFiles.requireOwnerOnly(file, "private key file");
        JsonFile n = JsonFile.read(file, "private key file");
        n.allowOnly(KNOWN);
        String typeName = n.text("type");
        PrivateKey.Type type = parseType(typeName);
        if (type == null) {
            throw n.error("type", "must be Ed25519, X25519 or P-256");
        }
        if (n.has("private_key") == n.has("encrypted")) {
            throw n.error("holds " + (n.has("private_key") ? "both private_key and encrypted" : "neither private_key nor encrypted")
                    + "; it needs exactly one");
        }
        byte[] secret;
        if (n.has("private_key")) {
            secret = n.secret("private_key").bytes();
        } else {
            if (passphrase == null) {
                throw new IOException(file + ": the private key is encrypted; a passphrase is needed");
            }
            JsonFile e = n.object("encrypted");
            e.allowOnly(KNOWN_ENCRYPTED);
            if (!"PBKDF2-HMAC-SHA256".equals(e.text("kdf"))) {
                throw e.error("kdf", "must be PBKDF2-HMAC-SHA256");
            }
            // bounded both ways: too few is weak, too many is a denial of service at load
            int iterations = (int) e.integer("iterations", 10_000, 10_000_000);
            byte[] salt = e.hex("salt");
            byte[] nonce = e.hex("nonce");
            if (nonce.length != 12) {
                throw e.error("nonce", "must be 12 bytes, not " + nonce.length);
            }
            byte[] ciphertext = e.hex("ciphertext");
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, kek(passphrase, salt, iterations), new GCMParameterSpec(128, nonce));
                c.updateAAD(typeName.getBytes(StandardCharsets.US_ASCII));
                secret = c.doFinal(ciphertext);
            } catch (GeneralSecurityException | RuntimeException ex) {
                throw new IOException(file + ": wrong passphrase or damaged file");
            }
        }
        PrivateKey k;
        try {
            k = provider.privateKey(type, SecretBytes.wrap(secret));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": the private key is not a valid " + typeName + " key (" + e.getMessage() + ")");
        }
        byte[] pub = n.hexOrNull("public_key");
        if (pub != null && !Arrays.equals(pub, k.publicKey())) {
            throw n.error("public_key", "does not belong to the private key");
        }
        return k;
    }

    /**
     * PBKDF2-HMAC-SHA256 through Bouncy Castle's lightweight generator, which reuses its buffers
     * across iterations: the JCE's allocates per iteration, so a file naming 10^7 iterations
     * made the reader allocate hundreds of megabytes (a fuzzer finding). Same output as
     * PBKDF2WithHmacSHA256 (the passphrase as UTF-8).
     */
    private static SecretKeySpec kek(char[] passphrase, byte[] salt, int iterations) {
        org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator g =
                new org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator(new org.bouncycastle.crypto.digests.SHA256Digest());
        byte[] pw = org.bouncycastle.crypto.PBEParametersGenerator.PKCS5PasswordToUTF8Bytes(passphrase);
        try {
            g.init(pw, salt, iterations);
            byte[] k = ((org.bouncycastle.crypto.params.KeyParameter) g.generateDerivedParameters(256)).getKey();
            try {
                return new SecretKeySpec(k, "AES");
            } finally {
                Arrays.fill(k, (byte) 0);
            }
        } finally {
            Arrays.fill(pw, (byte) 0);
        }
    }

    static String typeName(PrivateKey.Type t) {
        switch (t) {
            case ED25519: return "Ed25519";
            case X25519: return "X25519";
            default: return "P-256";
        }
    }

    private static PrivateKey.Type parseType(String s) {
        switch (s) {
            case "Ed25519": return PrivateKey.Type.ED25519;
            case "X25519": return PrivateKey.Type.X25519;
            case "P-256": return PrivateKey.Type.P256;
            default: return null;
        }
    }
}
