package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.Cri;
import dev.coterie.oscore.ReplyFrom;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The HTTP fields of groupcomm-proxy Section 9 (GPX-12): Reply-From and Group-ETag as RFC 9651
 * Lists of Byte Sequences, Multicast-Timeout as *DIGIT. Every other shape is ignored as a whole
 * (null here), each next to a well-formed field of the same kind.
 */
class StructuredFieldsTest {
    /** [-1, [h'7f000001', 5701]]: coap://127.0.0.1:5701, the CBOR written out by hand. */
    private static final String S1 = "82208244" + "7f000001" + "191645";
    private static final String S1_FIELD = ":giCCRH8AAAEZFkU=:";
    /** coap://127.0.0.1:5400 (the proxy) and the reference [null, [h'7f000001', 5701]]. */
    private static final String STAND_IN_FIELD = ":giCCRH8AAAEZFRg=:, :gvaCRH8AAAEZFkU=:";

    @Test
    void GPX_12_replyFromIsOneByteSequencePerCborItem() {
        byte[] forward = ReplyFrom.of(new InetSocketAddress("127.0.0.1", 5701)).encode();
        assertEquals(S1, Hex.encode(forward));
        assertEquals(S1_FIELD, StructuredFields.replyFrom(forward));
        assertArrayEquals(forward, StructuredFields.replyFrom(S1_FIELD));
        ReplyFrom standIn = new ReplyFrom(ReplyFrom.of(new InetSocketAddress("127.0.0.1", 5400)).target(),
                new Cri.Authority(null, new byte[] {127, 0, 0, 1}, null, List.of(), 5701), List.of());
        assertEquals(STAND_IN_FIELD, StructuredFields.replyFrom(standIn.encode()));
        assertArrayEquals(standIn.encode(), StructuredFields.replyFrom(STAND_IN_FIELD));
        assertArrayEquals(forward, StructuredFields.replyFrom(":giCCRH8AAAEZFkU:"), "missing padding is accepted (RFC 9651 4.2.7)");
        assertArrayEquals(forward, StructuredFields.replyFrom(S1_FIELD + ";v=1;w=\"x\";z"), "parameters are ignored");
        assertArrayEquals(forward, StructuredFields.replyFrom("  " + S1_FIELD + " "), "white space around the list");
    }

    @Test
    void GPX_12_everyOtherShapeOfReplyFromIsIgnored() {
        byte[] both = Hex.decode("82208244" + "7f000001" + "191518" + "82f68244" + "7f000001" + "191645");
        String whole = ":" + java.util.Base64.getEncoder().encodeToString(both) + ":";
        for (String bad : List.of(
                "", // no member
                STAND_IN_FIELD + ", " + S1_FIELD, // three members
                whole, // two CBOR items in one member
                ":giCCRH8=:, :AAABGRZF:", // two members, cut elsewhere than between the items
                "giCCRH8AAAEZFkU", // a Token
                "\"giCCRH8AAAEZFkU=\"", // a String
                "(" + S1_FIELD + ")", // an Inner List
                "5701", // an Integer
                "?1", // a Boolean
                S1_FIELD + ",", // a trailing comma
                S1_FIELD + " " + S1_FIELD, // no comma
                ":giCCRH8AAAEZFkU=", // unclosed
                ":giCC-H8AAAEZFkU=:", // not base64
                ":gi=CRH8AAAEZFkU=:", // padding inside
                ":giCCRH8AAAE=:", // not a Reply-From value (a CRI cut short)
                ":giCCRH8AAAEZFkUA:", // a byte after the sequence
                S1_FIELD + ";V=1", // a malformed parameter key
                S1_FIELD + ";v=\"open")) { // a malformed parameter value
            assertNull(StructuredFields.replyFrom(bad), bad);
        }
    }

    @Test
    void GPX_12_groupEtagIsOneOrMoreByteSequencesOf1To8Bytes_exactlyOneInAResponse() {
        List<byte[]> two = StructuredFields.groupEtagsOfRequest(":AQ==:, :AgM=:");
        assertEquals(2, two.size());
        assertArrayEquals(new byte[] {1}, two.get(0));
        assertArrayEquals(new byte[] {2, 3}, two.get(1));
        assertArrayEquals(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, StructuredFields.groupEtagOfResponse(":AQIDBAUGBwg=:"));
        assertEquals(":AQIDBAUGBwg=:", StructuredFields.byteSequenceList(List.of(new byte[] {1, 2, 3, 4, 5, 6, 7, 8})));
        for (String bad : List.of("", "::", ":AQIDBAUGBwgJ:", ":AQ==:, ::", "AQ", "(:AQ==:)", ":AQ==: :AgM=:", "1")) {
            assertNull(StructuredFields.groupEtagsOfRequest(bad), bad);
        }
        assertNull(StructuredFields.groupEtagOfResponse(":AQ==:, :AgM=:"), "a response carries exactly one");
    }

    @Test
    void GPX_12_multicastTimeoutIsDigits_emptyIsZero() {
        assertEquals(5L, StructuredFields.multicastTimeout("5"));
        assertEquals(0L, StructuredFields.multicastTimeout(""));
        assertEquals(0L, StructuredFields.multicastTimeout("000"));
        assertEquals(4294967295L, StructuredFields.multicastTimeout("4294967295"));
        for (String bad : List.of("4294967296", "-1", "+5", "5s", "1.5", "0x10", "5, 6", " 5", "\u0663", "99999999999")) {
            assertNull(StructuredFields.multicastTimeout(bad), bad);
        }
    }
}
