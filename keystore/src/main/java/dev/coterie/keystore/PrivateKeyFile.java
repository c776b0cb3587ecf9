package dev.coterie.keystore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A private key on disk. The loader refuses a file that anyone but its owner can read. The key
 * is stored in hex, or encrypted with a passphrase (PBKDF2-HMAC-SHA256, AES-256-GCM).
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
        byte[] content = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(o);
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.write(file, content, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /**
     * Reads a private key file.
     *
     * @throws IOException if the file is readable by group or others, malformed, or the
     *     passphrase is wrong (the message names the file, never the key)
     */
    public static PrivateKey read(Path file, char[] passphrase, CryptoProvider provider) throws IOException {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            for (PosixFilePermission p : perms) {
                if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) {
                    throw new IOException("private key file " + file + " is accessible to others ("
                            + PosixFilePermissions.toString(perms) + "); run chmod 600 on it");
                }
            }
        } catch (UnsupportedOperationException nonPosix) {
            // the file system has its own access control
        }
        JsonNode n;
        try {
            n = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new IOException(file + ": not a private key file");
        }
        PrivateKey.Type type = parseType(n.path("type").asText(), file);
        byte[] secret;
        if (n.has("private_key")) {
            secret = Hex.decodeSecret(n.get("private_key").asText());
        } else if (n.has("encrypted")) {
            if (passphrase == null) {
                throw new IOException(file + ": the private key is encrypted; a passphrase is needed");
            }
            JsonNode e = n.get("encrypted");
            try {
                Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
                c.init(Cipher.DECRYPT_MODE, kek(passphrase, Hex.decode(e.get("salt").asText()), e.get("iterations").asInt()),
                        new GCMParameterSpec(128, Hex.decode(e.get("nonce").asText())));
                c.updateAAD(n.path("type").asText().getBytes(StandardCharsets.US_ASCII));
                secret = c.doFinal(Hex.decode(e.get("ciphertext").asText()));
            } catch (GeneralSecurityException | RuntimeException ex) {
                throw new IOException(file + ": wrong passphrase or damaged file");
            }
        } else {
            throw new IOException(file + ": neither private_key nor encrypted");
        }
        try {
            PrivateKey k = provider.privateKey(type, SecretBytes.wrap(secret));
            if (n.has("public_key") && !Arrays.equals(Hex.decode(n.get("public_key").asText()), k.publicKey())) {
                throw new IOException(file + ": public_key does not belong to the private key");
            }
            return k;
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    private static SecretKeySpec kek(char[] passphrase, byte[] salt, int iterations) throws GeneralSecurityException {
        SecretKeyFactory f = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
        byte[] k = f.generateSecret(new PBEKeySpec(passphrase, salt, iterations, 256)).getEncoded();
        return new SecretKeySpec(k, "AES");
    }

    static String typeName(PrivateKey.Type t) {
        switch (t) {
            case ED25519: return "Ed25519";
            case X25519: return "X25519";
            default: return "P-256";
        }
    }

    private static PrivateKey.Type parseType(String s, Path file) throws IOException {
        switch (s) {
            case "Ed25519": return PrivateKey.Type.ED25519;
            case "X25519": return PrivateKey.Type.X25519;
            case "P-256": return PrivateKey.Type.P256;
            default: throw new IOException(file + ": unknown key type '" + s + "' (Ed25519, X25519, P-256)");
        }
    }
}
