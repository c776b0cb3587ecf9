package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The AEAD key usage limits of draft-ietf-core-oscore-key-limits and the counter that enforces them. */
class KeyUsageLimitsTest {
    @Test
    void keyLimits_theDraftsValuesPerAlgorithm() {
        for (AeadAlgorithm a : AeadAlgorithm.values()) {
            assertEquals(1L << 20, a.confidentialityLimit(), a.coseName());
            boolean ccm8 = a.family() == AeadAlgorithm.Family.CCM && a.tagLength() == 8;
            assertEquals(ccm8 ? 1L << 14 : 1L << 20, a.integrityLimit(), a.coseName());
        }
        // the OSCORE default, AEAD_AES_128_CCM_8 under its COSE name
        assertEquals(1L << 14, AeadAlgorithm.AES_CCM_16_64_128.integrityLimit());
        assertEquals(1L << 20, AeadAlgorithm.AES_CCM_16_128_128.integrityLimit());
        assertEquals(1L << 20, AeadAlgorithm.A128GCM.integrityLimit());
        assertEquals(1L << 20, AeadAlgorithm.CHACHA20_POLY1305.integrityLimit());
    }

    @Test
    void keyLimits_aRecipientKeyIsRefusedOnceItsFailedDecryptionsReachTheLimit() {
        KeyUsageCounter v = KeyUsageCounter.withLimit("failed decryptions", 3);
        for (int i = 0; i < 3; i++) {
            assertFalse(v.isExhausted(), "still usable after " + i + " failures");
            assertTrue(v.tryCount());
        }
        assertTrue(v.isExhausted());
        assertFalse(v.tryCount(), "nothing counted past the limit");
        assertEquals(3, v.count());
        assertEquals("failed decryptions 3 of limit 3", v.describe());
        assertEquals(AeadAlgorithm.AES_CCM_16_64_128.integrityLimit(),
                KeyUsageCounter.failedDecryptions(AeadAlgorithm.AES_CCM_16_64_128).limit());
        assertEquals(AeadAlgorithm.A256GCM.confidentialityLimit(), KeyUsageCounter.encryptions(AeadAlgorithm.A256GCM).limit());
    }

    @Test
    void keyLimits_concurrentUsesNeverCountPastTheLimit() throws Exception {
        KeyUsageCounter q = KeyUsageCounter.withLimit("encryptions", 5000);
        AtomicInteger granted = new AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 2000; i++) {
                    if (q.tryCount()) {
                        granted.incrementAndGet();
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        for (Thread th : threads) {
            th.join(60_000);
        }
        assertEquals(5000, granted.get(), "8000 attempts, exactly the limit granted");
        assertEquals(5000, q.count());
    }

    @Test
    void keyLimits_aSequenceLimitedToQMinusOneHandsOutQNumbers() throws Exception {
        SenderSequence s = SecurityStateStore.inMemory().load("q").senderSequence();
        s.limit(4 - 1); // as for q = 4: numbers 0..3
        for (int i = 0; i < 4; i++) {
            assertEquals(i, s.next());
        }
        StateUnavailableException e = org.junit.jupiter.api.Assertions.assertThrows(StateUnavailableException.class, s::next);
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
    }
}
