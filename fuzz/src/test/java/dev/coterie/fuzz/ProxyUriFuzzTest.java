package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.oscore.ProxyUriSplit;
import java.nio.charset.StandardCharsets;
import org.eclipse.californium.core.coap.Option;

/**
 * The Proxy-Uri split of RFC 8613 Section 4.1.3.3 ({@link ProxyUriSplit#split}): an OSCORE client
 * keeps scheme and authority outer and protects path and query. The input is the option value as
 * it comes (UTF-8).
 *
 * <p>Rules: split or {@link IllegalArgumentException}, nothing else; at most 64 KiB (an
 * IPv6 literal is parsed by the JDK) plus 256 bytes per input byte (an
 * Option, a String and a byte array per one-byte segment) allocated; the outer Proxy-Uri, each Uri-Path and Uri-Query (at most 255 bytes
 * each) and all of them together are no longer than the input; the outer Proxy-Uri is scheme and
 * authority only, and splitting it again gives itself with no path and no query.
 */
class ProxyUriFuzzTest {
    @FuzzTest
    void proxyUri(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        String uri = new String(input, StandardCharsets.UTF_8);
        int length = uri.getBytes(StandardCharsets.UTF_8).length; // U+FFFD for bytes that are not UTF-8
        ProxyUriSplit.Parts parts = FuzzRules.bounded(64 << 10, 256, length, "splitting a Proxy-Uri", () -> {
            try {
                return ProxyUriSplit.split(uri);
            } catch (IllegalArgumentException rejected) {
                return null;
            }
        });
        if (parts == null) {
            return;
        }
        int total = parts.outerProxyUri().getBytes(StandardCharsets.UTF_8).length;
        for (java.util.List<Option> list : java.util.List.of(parts.uriPath(), parts.uriQuery())) {
            for (Option o : list) {
                FuzzRules.check(o.getLength() <= 255, "an inner option of " + o.getLength() + " bytes");
                total += o.getLength();
            }
        }
        FuzzRules.notLongerThanInput(total, length, "the outer Proxy-Uri and the inner options together");
        String outer = parts.outerProxyUri();
        int authority = outer.indexOf("://") + 3;
        FuzzRules.check(outer.indexOf('/', authority) < 0 && outer.indexOf('?') < 0 && outer.indexOf('#') < 0,
                "the outer Proxy-Uri keeps a path, query or fragment");
        ProxyUriSplit.Parts again = ProxyUriSplit.split(outer);
        FuzzRules.check(again.outerProxyUri().equals(outer) && again.uriPath().isEmpty() && again.uriQuery().isEmpty(),
                "splitting the outer Proxy-Uri again changes it");
    }
}
