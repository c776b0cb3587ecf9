package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Disabled;

/**
 * TODO(proxy-cri): the Proxy-Cri split, once {@code oscore} has it (a CRI, draft-ietf-core-href,
 * split like {@link dev.coterie.oscore.ProxyUriSplit}: scheme and authority outer, path and query
 * inner). To fill in: call the split on {@code input} (the option value, CBOR) and catch only its
 * documented rejection; check what {@link ProxyUriFuzzTest} checks (sizes against the input, the
 * outer part has no path or query, splitting it again gives itself); put seeds (the CRIs of its
 * unit tests) in {@code src/test/resources/dev/coterie/fuzz/ProxyCriFuzzTestInputs/proxyCri/};
 * remove {@code @Disabled}; and add a {@code fuzz-proxy-cri} execution to {@code fuzz/pom.xml}
 * beside {@code fuzz-proxy-uri}.
 */
@Disabled("TODO(proxy-cri): no Proxy-Cri split on main yet")
class ProxyCriFuzzTest {
    @FuzzTest
    void proxyCri(byte[] input) {
        throw new UnsupportedOperationException("TODO(proxy-cri): call the Proxy-Cri split here");
    }
}
