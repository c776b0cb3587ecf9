package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Key material never prints its bytes. */
class SecretBytesTest {

    @Test
    void toStringAndFingerprintRevealNoBytes() {
        SecretBytes s = SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10");
        assertFalse(s.toString().contains("0102"), s.toString());
        assertTrue(s.toString().contains("16 bytes"));
        assertFalse(s.fingerprint().contains("0102"));
    }

    @Test
    void badHexErrorDoesNotEchoTheSecret() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SecretBytes.fromHex("0102zz"));
        assertFalse(e.getMessage().contains("0102"), e.getMessage());
    }

    @Test
    void privateKeyPrintsOnlyItsPublicPart() {
        PrivateKey k = CryptoProviders.defaultProvider().privateKey(PrivateKey.Type.ED25519,
                SecretBytes.fromHex("397ce761603f5e4e2a5a8e08e1c6a6dbd8e4d5e0a0e8a0d7bc1b0a7b3a6b3f3a"));
        assertFalse(k.toString().contains("397ce761"), k.toString());
    }
}
