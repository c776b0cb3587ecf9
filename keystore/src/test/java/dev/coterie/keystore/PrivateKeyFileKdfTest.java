package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The key-encryption key of encrypted private key files is derived by Bouncy Castle's PBKDF2
 * (no allocation per iteration); a file encrypted under the JCE's PBKDF2WithHmacSHA256, as
 * every file written before that change was, still reads, and the wrong passphrase still fails.
 */
class PrivateKeyFileKdfTest {
    @TempDir
    Path dir;

    @Test
    void aFileEncryptedUnderTheJcePbkdf2StillReads_theWrongPassphraseDoesNot() throws Exception {
        CryptoProvider provider = CryptoProviders.defaultProvider();
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        PrivateKey key = provider.privateKey(PrivateKey.Type.X25519, SecretBytes.wrap(secret.clone()));
        char[] passphrase = "pässphrase, not ASCII".toCharArray();
        byte[] salt = new byte[16];
        byte[] nonce = new byte[12];
        new SecureRandom().nextBytes(salt);
        new SecureRandom().nextBytes(nonce);
        byte[] kek = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
                .generateSecret(new PBEKeySpec(passphrase, salt, 10_000, 256)).getEncoded();
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(kek, "AES"), new GCMParameterSpec(128, nonce));
        c.updateAAD("X25519".getBytes(StandardCharsets.US_ASCII));
        String json = "{\"type\": \"X25519\", \"public_key\": \"" + Hex.encode(key.publicKey()) + "\", \"encrypted\": {"
                + "\"kdf\": \"PBKDF2-HMAC-SHA256\", \"iterations\": 10000, \"salt\": \"" + Hex.encode(salt) + "\", \"nonce\": \""
                + Hex.encode(nonce) + "\", \"ciphertext\": \"" + Hex.encode(c.doFinal(secret)) + "\"}}";
        Path file = dir.resolve("k.key");
        OwnerOnlyFiles.write(file, json.getBytes(StandardCharsets.UTF_8));
        assertArrayEquals(key.publicKey(), PrivateKeyFile.read(file, passphrase, provider).publicKey());
        assertThrows(IOException.class, () -> PrivateKeyFile.read(file, "another".toCharArray(), provider));
        // and what this build writes, it reads
        Path written = dir.resolve("w.key");
        PrivateKeyFile.write(written, key, passphrase);
        assertArrayEquals(key.publicKey(), PrivateKeyFile.read(written, passphrase, provider).publicKey());
        Files.delete(written);
    }
}
