package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.Hex;
import org.junit.jupiter.api.Test;

/**
 * Inputs the fuzzer found ({@code fuzz/OscoreOptionFuzzTest}), each minimized, named after what
 * it broke, and kept in that target's seed corpus too.
 */
class OscoreOptionValueRegressionTest {
    /**
     * Fuzz finding 1: {@code 00} decoded as the empty value (no Partial IV, no kid), which encodes
     * as zero bytes: two encodings of one value, where RFC 8613 Section 6.1 says a value with all
     * flags zero SHALL be empty. A plain OSCORE response does not authenticate its option, so
     * either encoding passed for the other.
     */
    @Test
    void flagByteZeroAloneIsNotTheEmptyValue() {
        assertThrows(OscoreException.DecodeFailure.class, () -> OscoreOptionValue.decode(Hex.decode("00"), false));
        assertThrows(OscoreException.DecodeFailure.class, () -> OscoreOptionValue.decode(Hex.decode("00"), true));
    }
}
