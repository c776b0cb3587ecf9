package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.keystore.Credential;
import java.util.Arrays;

/**
 * CBOR credentials (CCS, RFC 8392 / RFC 9528) through {@link Credential#parseCcs}, which reads
 * every member credential of a bundle and of a Group Manager, through the keystore's strict
 * CborReader.
 *
 * <p>Rules: accepted or {@link IllegalArgumentException}, and nothing else; the input is left as it
 * was; at most 16 KiB plus 256 bytes per input byte allocated (every declared length is checked
 * against the bytes left, so what grows is per item: a one-byte empty text string costs a UTF-8
 * decoder and a String, about 100 bytes); an accepted credential keeps exactly the input bytes (they enter the
 * AAD), a public key of 32 (OKP) or 65 (P-256) bytes, and a subject no longer than the input.
 */
class CredentialFuzzTest {
    @FuzzTest
    void ccs(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        byte[] copy = input.clone();
        Credential c = FuzzRules.bounded(16 << 10, 256, input.length, "parsing a CCS", () -> {
            try {
                return Credential.parseCcs(input);
            } catch (IllegalArgumentException rejected) {
                return null;
            }
        });
        FuzzRules.check(Arrays.equals(copy, input), "parsing changed its input");
        if (c == null) {
            return;
        }
        FuzzRules.check(Arrays.equals(c.encoded(), input), "an accepted credential is kept byte for byte as distributed");
        int keyLength = c.publicKey().length;
        FuzzRules.check(c.keyType() == Credential.KeyType.EC2_P256 ? keyLength == 65 : keyLength == 32,
                "public key of " + keyLength + " bytes for " + c.keyType());
        if (c.subject() != null) {
            FuzzRules.notLongerThanInput(c.subject().length(), input.length, "the subject");
        }
    }
}
