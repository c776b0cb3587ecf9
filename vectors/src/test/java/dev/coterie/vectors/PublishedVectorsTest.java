package dev.coterie.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.CryptoProviders;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** OSC-01, OSC-02, OSC-04 to OSC-07, OSC-10, OSC-13, OSC-14: every published RFC 8613 vector. */
class PublishedVectorsTest {

    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void rfc8613_appendixC_and_sections_5_4_6_3(String provider) {
        List<VectorResult> results = new VectorRunner(CryptoProviders.byName(provider)).runAll();
        assertEquals(17, results.size(), "17 published entries");
        for (VectorResult r : results) {
            assertTrue(r.passed(), r.line());
        }
    }
}
