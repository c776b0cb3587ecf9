package dev.coterie.vectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.CryptoProviders;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every published vector under both providers. */
class PublishedVectorsTest {

    private static List<VectorResult> run(String provider, String file) {
        return new VectorRunner(CryptoProviders.byName(provider)).run(file);
    }

    /** OSC-01, OSC-02, OSC-04 to OSC-07, OSC-10, OSC-13, OSC-14: RFC 8613 Appendix C and Sections 5.4/6.3 (17). */
    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void rfc8613_appendixC_and_sections_5_4_6_3(String provider) {
        List<VectorResult> results = run(provider, "rfc8613-appendix-c.json");
        results.addAll(run(provider, "rfc8613-sections-5.4-6.3-examples.json"));
        assertEquals(17, results.size(), "17 published entries");
        for (VectorResult r : results) {
            assertTrue(r.passed(), r.line());
        }
    }

    /**
     * GRP-02, GRP-03, GRP-05, GRP-07, GRP-08, GRP-11, GRP-12, DET-01 to DET-03, DET-07: cacheable-oscore
     * Appendix F.1 (setup), F.2 (the deterministic request, built by the pipeline) and F.3 (its
     * group-mode response, after the server verified F.2 as a deterministic request).
     */
    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void cacheableOscore_F1_F2_F3_deterministicRequestAndGroupModeResponse(String provider) {
        List<VectorResult> results = run(provider, "cacheable-oscore.json");
        assertEquals(3, results.size());
        for (VectorResult r : results) {
            assertTrue(r.passed(), r.line());
        }
    }

    /** GRP-09: the four compression examples of Group OSCORE -28 Section 4.3. */
    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void groupOscore28_section4_3_compression(String provider) {
        List<VectorResult> results = run(provider, "group-oscore-draft28.json");
        assertEquals(4, results.size());
        for (VectorResult r : results) {
            assertTrue(r.passed(), r.line());
        }
    }

    /**
     * Coterie's own vectors (ECDSA group mode, pairwise X25519 and P-256, Gid change, deterministic
     * requests with ES256 and with Padding, and a Group OSCORE group observation's phantom request,
     * informative response and ticket request) check, regenerate identically, and are reported apart.
     */
    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void coterieOwnGroupVectors_checkAndAreReproducible(String provider) throws Exception {
        List<VectorResult> results = run(provider, "coterie-group-vectors.json");
        assertEquals(9, results.size());
        for (VectorResult r : results) {
            assertTrue(r.passed(), r.line());
            assertTrue(r.own(), "reported as Coterie's own: " + r.line());
        }
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode committed;
        try (java.io.InputStream in = VectorRunner.class.getResourceAsStream("data/coterie-group-vectors.json")) {
            committed = json.readTree(in);
        }
        com.fasterxml.jackson.databind.JsonNode regenerated = json.readTree(
                json.writeValueAsString(new OwnGroupVectors(CryptoProviders.byName(provider)).generate()));
        assertTrue(committed.equals(regenerated), "coterie vectors generate must reproduce the committed file");
    }
}
