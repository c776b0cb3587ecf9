package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import java.util.Arrays;

/**
 * The OSCORE option value (RFC 8613 Section 6.1), as every request and response brings it.
 *
 * <p>Rules: {@link OscoreOptionValue#decode} either decodes or throws
 * {@link OscoreException.DecodeFailure}, for both settings of the Group Flag, and leaves its
 * input as it was; no decoded field, nor all of them together, is longer than the input, and a
 * call allocates at most 16 KiB plus 8 bytes per input byte; an accepted value encodes back to
 * exactly its bytes (the decoder is strict: one value, one encoding); a value the plain decoder
 * accepts decodes the same when the Group Flag is understood, and only then may the flag be set.
 */
class OscoreOptionFuzzTest {
    @FuzzTest
    void optionValue(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        OscoreOptionValue plain = decode(input, false);
        OscoreOptionValue group = decode(input, true);
        if (plain != null) {
            FuzzRules.check(plain.equals(group), "a value the plain decoder accepts decodes the same with the Group Flag understood");
        }
    }

    private static OscoreOptionValue decode(byte[] input, boolean groupFlagAllowed) throws Exception {
        byte[] copy = input.clone();
        OscoreOptionValue v = FuzzRules.bounded(16 << 10, 8, input.length, "decoding the OSCORE option", () -> {
            try {
                return OscoreOptionValue.decode(input, groupFlagAllowed);
            } catch (OscoreException.DecodeFailure rejected) {
                return null;
            }
        });
        FuzzRules.check(Arrays.equals(copy, input), "decoding changed its input");
        if (v == null) {
            return null;
        }
        int total = 0;
        for (byte[] field : new byte[][] {v.partialIv(), v.kidContext(), v.kid()}) {
            if (field != null) {
                FuzzRules.notLongerThanInput(field.length, input.length, "a decoded OSCORE option field");
                total += field.length;
            }
        }
        FuzzRules.notLongerThanInput(total, input.length, "the decoded OSCORE option fields together");
        FuzzRules.check(!v.groupFlag() || groupFlagAllowed, "Group Flag accepted by a plain OSCORE decoder");
        byte[] again = v.encode();
        if (!Arrays.equals(again, input)) {
            throw new AssertionError("OSCORE option " + Hex.encode(input) + " decodes to " + v + ", which encodes to "
                    + Hex.encode(again) + ": two encodings of one value");
        }
        return v;
    }
}
