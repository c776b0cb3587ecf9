package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.oscore.Cri;

/**
 * The Proxy-Cri split (href Section 8.2.1 with RFC 8613 Section 4.1.3.3): the option value is a
 * CRI ({@link Cri#decode}); an OSCORE client keeps its scheme and authority outer
 * ({@link Cri#schemeAndAuthority}) and protects path and query as Uri-Path and Uri-Query.
 *
 * <p>Rules: a CRI or {@link IllegalArgumentException}, nothing else; at most 16 KiB plus 256 bytes
 * per input byte allocated (a String and a list slot per one-byte item); every text of the path
 * and query together is no longer than the input; an accepted CRI encodes to a CRI that decodes
 * to itself; the outer part has no path, query or fragment and is a fixed point of the split.
 */
class ProxyCriFuzzTest {
    @FuzzTest
    void proxyCri(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        Cri cri = FuzzRules.bounded(16 << 10, 256, input.length, "decoding a Proxy-Cri", () -> {
            try {
                return Cri.decode(input, "Proxy-Cri");
            } catch (IllegalArgumentException rejected) {
                return null;
            }
        });
        if (cri == null) {
            return;
        }
        int total = 0;
        for (String s : cri.path()) {
            total += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        for (String s : cri.query()) {
            total += s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        FuzzRules.notLongerThanInput(total, input.length, "the path and query of a Proxy-Cri");
        FuzzRules.check(Cri.decode(cri.encode(), "re-encoded").equals(cri), "a CRI does not survive its own encoding");
        Cri outer = cri.schemeAndAuthority();
        FuzzRules.check(outer.path().isEmpty() && outer.query().isEmpty() && outer.fragment() == null,
                "the outer Proxy-Cri keeps a path, query or fragment");
        FuzzRules.check(outer.schemeAndAuthority().equals(outer), "splitting the outer Proxy-Cri again changes it");
    }
}
