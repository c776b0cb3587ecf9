package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.PrivateKeyFile;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Private key files through {@link PrivateKeyFile#read}, always with a passphrase so that the
 * encrypted form is parsed too; the input is the file, written owner-only.
 *
 * <p>Rules: read or {@link IOException}, nothing else; at most 1 MiB plus 64 bytes per input byte
 * allocated; no file left open; a key read has a public key of 32 (Ed25519, X25519) or 65
 * (P-256) bytes. The KDF's iteration count is bounded by the reader (at most 10^7), and an input
 * that takes longer than {@code fuzz.inputTimeout} is a finding.
 */
class PrivateKeyFileFuzzTest {
    static final char[] PASSPHRASE = "fuzz passphrase".toCharArray();
    private static final CryptoProvider PROVIDER = CryptoProviders.defaultProvider();

    @DictionaryEntries({"\"type\"", "\"private_key\"", "\"public_key\"", "\"encrypted\"", "\"kdf\"", "\"iterations\"",
        "\"salt\"", "\"nonce\"", "\"ciphertext\"", "\"X25519\"", "\"P-256\"", "\"Ed25519\"", "null", "10000"})
    @FuzzTest
    void keyFile(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        Path dir = FuzzRules.tempDir("fuzz-key-");
        try {
            Path file = FuzzRules.ownerOnlyFile(dir, "member.key", input);
            PrivateKey k = FileRules.load("key file", dir, input.length, 1 << 20, 64, () -> {
                try {
                    return PrivateKeyFile.read(file, PASSPHRASE, PROVIDER);
                } catch (IOException rejected) {
                    return (PrivateKey) null;
                }
            }, key -> { });
            if (k != null) {
                int n = k.publicKey().length;
                FuzzRules.check(k.type() == PrivateKey.Type.P256 ? n == 65 : n == 32, "a " + k.type() + " public key of " + n + " bytes");
            }
        } finally {
            FuzzRules.deleteTree(dir);
        }
    }
}
