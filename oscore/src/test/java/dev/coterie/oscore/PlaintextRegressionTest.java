package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.Hex;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.junit.jupiter.api.Test;

/** Inputs the fuzzer found in the plaintext parser, minimized and named after what they broke. */
class PlaintextRegressionTest {
    private final OptionRegistry registry = ExtensionOptionRegistry.defaults().californiumRegistry();

    /**
     * Fuzz finding 5 (GroupUnprotectFuzzTest, sealed group-mode response 45 d4 0f ff ff ff ff): an
     * inner Size2 of 2^32 - 1 verified and was delivered, but Californium's OptionSet keeps Size2
     * in an int, so it held -1, and the delivered message threw IllegalArgumentException ("Option
     * Size2 value of 8 bytes") as soon as anything listed or serialized its options (a proxy
     * relaying it, a trace). Size1 and Size2 from 2^31 on, with or without leading zero bytes, are a
     * DecodeFailure now (every inner option must come back out of an OptionSet); 2^31 - 1 passes.
     */
    @Test
    void size1AndSize2Of2To31OrMoreAreRefused() throws Exception {
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("45d40fffffffff"), registry));
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("02d42f80000000"), registry));
        // the second CI run: the same value with a leading zero byte, which Californium accepts as 5 bytes
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("45d50f008b8b0000"), registry));
        Plaintext p = Plaintext.decode(Hex.decode("45d40f7fffffff"), registry);
        OptionSet set = new OptionSet();
        Plaintext.addAll(set, p.options());
        assertEquals(Integer.MAX_VALUE, set.getSize2());
        assertEquals(1, set.asSortedList().size());
    }

    /**
     * Fuzz finding 7 (OscoreUnprotectFuzzTest in the first CI run, sealed notification with an
     * inner Block1 of 4 bytes, minimized to 45 d4 0e 01 02 03 04): the option definition accepted
     * 4 bytes, Californium's BlockOption takes at most 3, and OptionSet.addOption threw
     * IllegalArgumentException while the response was being delivered, after its Partial IV had
     * been recorded. Every inner option is now checked against an OptionSet while the plaintext is
     * parsed, and one it refuses is a DecodeFailure.
     */
    @Test
    void blockOptionOfFourBytesIsRefused() throws Exception {
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("45d40e01020304"), registry));
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("02d40a01020304"), registry));
        assertEquals(1, Plaintext.decode(Hex.decode("45d30e010203"), registry).options().size());
    }
}
