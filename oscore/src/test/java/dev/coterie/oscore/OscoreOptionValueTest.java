package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** OSC-07, OSC-08, OSC-10: the OSCORE option codec (RFC 8613 Section 6.1). */
class OscoreOptionValueTest {

    @Test
    void OSC_07_kidIsAllRemainingBytes() throws Exception {
        OscoreOptionValue v = OscoreOptionValue.decode(Hex.decode("0905aabbccdd"), false);
        assertArrayEquals(Hex.decode("05"), v.partialIv());
        assertArrayEquals(Hex.decode("aabbccdd"), v.kid());
        assertNull(v.kidContext());
    }

    @Test
    void OSC_07_kidContextAndKid() throws Exception {
        OscoreOptionValue v = OscoreOptionValue.decode(Hex.decode("19140837cbf3210017a2d3"), false);
        assertArrayEquals(Hex.decode("14"), v.partialIv());
        assertArrayEquals(Hex.decode("37cbf3210017a2d3"), v.kidContext());
        assertArrayEquals(new byte[0], v.kid());
        assertArrayEquals(Hex.decode("19140837cbf3210017a2d3"), v.encode());
    }

    @Test
    void OSC_10_allFlagsZeroIsTheEmptyValue() throws Exception {
        assertEquals(0, new OscoreOptionValue(null, null, null, false).encode().length);
        OscoreOptionValue v = OscoreOptionValue.decode(new byte[0], false);
        assertNull(v.partialIv());
        assertNull(v.kid());
    }

    @ParameterizedTest
    @ValueSource(strings = {"2900", "4900", "8900", "e1aa"})
    void OSC_08_reservedFlagBitsAreDecodeFailures(String hex) {
        assertThrows(OscoreException.DecodeFailure.class, () -> OscoreOptionValue.decode(Hex.decode(hex), false));
    }

    @Test
    void OSC_08_groupFlagIsUnderstoodOnlyByGroupEndpoints() throws Exception {
        assertTrue(OscoreOptionValue.decode(Hex.decode("290001"), true).groupFlag());
    }

    @ParameterizedTest
    @ValueSource(strings = {"06010203040506", "0701020304050607", "0e010203040506aa"})
    void OSC_08_partialIvLength6or7IsReserved(String hex) {
        assertThrows(OscoreException.DecodeFailure.class, () -> OscoreOptionValue.decode(Hex.decode(hex), false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"03aabb", "1905", "190508aabb", "1005ff", "0105aa", "00aa"})
    void OSC_08_lengthInconsistentWithFlags(String hex) {
        assertThrows(OscoreException.DecodeFailure.class, () -> OscoreOptionValue.decode(Hex.decode(hex), false));
    }

    @Test
    void OSC_04_partialIvIsMinimalBigEndian() {
        assertArrayEquals(Hex.decode("00"), SealingNonce.partialIv(0));
        assertArrayEquals(Hex.decode("14"), SealingNonce.partialIv(20));
        assertArrayEquals(Hex.decode("0100"), SealingNonce.partialIv(256));
        assertArrayEquals(Hex.decode("ffffffffff"), SealingNonce.partialIv((1L << 40) - 1));
    }
}
