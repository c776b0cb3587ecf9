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
     * relaying it, a trace). Size1 and Size2 from 2^31 on are a DecodeFailure now; 2^31 - 1 passes.
     */
    @Test
    void size1AndSize2Of2To31OrMoreAreRefused() throws Exception {
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("45d40fffffffff"), registry));
        assertThrows(OscoreException.DecodeFailure.class, () -> Plaintext.decode(Hex.decode("02d42f80000000"), registry));
        Plaintext p = Plaintext.decode(Hex.decode("45d40f7fffffff"), registry);
        OptionSet set = new OptionSet();
        Plaintext.addAll(set, p.options());
        assertEquals(Integer.MAX_VALUE, set.getSize2());
        assertEquals(1, set.asSortedList().size());
    }
}
