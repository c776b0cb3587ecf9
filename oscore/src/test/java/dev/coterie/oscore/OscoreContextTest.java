package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import org.junit.jupiter.api.Test;

/** OSC-03 and context hygiene. */
class OscoreContextTest {

    private static OscoreContext.Builder base(AeadAlgorithm alg, byte[] sender) {
        return OscoreContext.builder().aead(alg).masterSecret(SecretBytes.fromHex("00112233445566778899aabbccddeeff"))
                .senderId(sender).recipientId(new byte[] {(byte) 0xee}).stateStore(SecurityStateStore.inMemory());
    }

    @Test
    void OSC_03_senderIdLongerThanNonceMinus6IsRejected() {
        assertDoesNotThrow(() -> base(AeadAlgorithm.AES_CCM_16_64_128, new byte[7]).build());
        assertThrows(IllegalArgumentException.class, () -> base(AeadAlgorithm.AES_CCM_16_64_128, new byte[8]).build());
        assertDoesNotThrow(() -> base(AeadAlgorithm.AES_CCM_64_64_128, new byte[1]).build());
        assertThrows(IllegalArgumentException.class, () -> base(AeadAlgorithm.AES_CCM_64_64_128, new byte[2]).build());
        assertThrows(IllegalArgumentException.class, () -> base(AeadAlgorithm.A128GCM, new byte[7]).build());
    }

    @Test
    void contextToStringShowsNoSecret() throws Exception {
        OscoreContext c = base(AeadAlgorithm.AES_CCM_16_64_128, new byte[] {1}).build();
        assertFalse(c.toString().contains("00112233"), c.toString());
    }
}
