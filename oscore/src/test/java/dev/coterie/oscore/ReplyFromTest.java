package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Reply-From option value (groupcomm-proxy Section 3, digest 5.1 and 11): a CBOR sequence of
 * the server's CRI (scheme and authority only) and an optional CRI reference starting with null.
 * Byte-exact encodings, and every other shape refused.
 */
class ReplyFromTest {
    @Test
    void GPX_05_REPLY_FROM_aForwardProxyTagsAnAnswerWithTheServersSourceAddress_bytes() throws Exception {
        ReplyFrom v4 = ReplyFrom.of(new InetSocketAddress(InetAddress.getByName("198.51.100.1"), 61616));
        // [-1, [h'C6336401', 61616]]: coap, the address as 4 bytes, the port
        assertEquals("8220824" + "4c6336401" + "19f0b0", Hex.encode(v4.encode()));
        ReplyFrom v6 = ReplyFrom.of(new InetSocketAddress(InetAddress.getByName("2001:db8::ab"), 5683));
        // [-1, [h'20010db8...ab']]: the default port left out
        assertEquals("822081" + "50" + "20010db80000000000000000000000ab", Hex.encode(v6.encode()));
        assertEquals(v6.target(), ReplyFrom.decode(v6.encode()).target());
        assertNull(ReplyFrom.decode(v4.encode()).refAuthority());
    }

    @Test
    void GPX_13_REPLY_FROM_aReverseProxyStandingInForEachServerAddsAReference_bytes() {
        // target: coap://P (its address), reference //S1:5683/lights: [null, [h'S1', 5683], ["lights"]]
        String target = "822081" + "44" + "c0000201";
        String ref = "83f6" + "824" + "4c000020a" + "191633" + "81" + "666c6967687473";
        ReplyFrom r = ReplyFrom.decode(Hex.decode(target + ref));
        assertArrayEquals(Hex.decode("c000020a"), r.refAuthority().ip());
        assertEquals(5683, r.refAuthority().port());
        assertEquals(List.of("lights"), r.refPath());
        assertEquals(target + ref, Hex.encode(r.encode()), "re-encoded byte for byte");
        ReplyFrom noPath = ReplyFrom.decode(Hex.decode(target + "82f6" + "8144c000020a"));
        assertEquals(List.of(), noPath.refPath());
    }

    @Test
    void REPLY_FROM_everyOtherShapeIsRefused_theValidOnesAbovePass() {
        String target = "822081" + "44" + "c0000201";
        Map<String, String> bad = new java.util.LinkedHashMap<>();
        bad.put("81" + target, "an enclosing array");
        bad.put("8320" + "8144c0000201" + "81" + "61" + "61", "a target with a path");
        bad.put("8264636f6170" + "8144c0000201", "a text scheme");
        bad.put("8120", "a target without authority");
        bad.put(target + "83f6" + "8144c000020a" + "80", "an empty trailing path");
        bad.put(target + "84f6" + "8144c000020a" + "8161" + "61" + "8161" + "62", "a reference with a query");
        bad.put(target + "8220" + "8144c000020a", "a reference with a scheme");
        bad.put(target + "82f6f6", "a reference without authority");
        bad.put(target + "82f6" + "8144c000020a" + "82f6" + "8144c000020b", "two references");
        bad.put(target + "00", "bytes after the sequence");
        bad.put("9f20" + "8144c0000201" + "ff", "an indefinite-length array");
        bad.put("8220" + "81" + "67" + "6578616d706c65" + "82f6" + "8144c000020a", "a host-name target with a reference authority");
        bad.put("822080", "an authority without host");
        bad.put("8220", "too short");
        for (Map.Entry<String, String> e : bad.entrySet()) {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> ReplyFrom.decode(Hex.decode(e.getKey())),
                    e.getValue());
            assertTrue(x.getMessage().startsWith("Reply-From"), e.getValue() + ": " + x.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ReplyFrom.decode(new byte[1035]), "over 1034 bytes");
        // a host-name target alone is fine (a reverse proxy named by host, no per-server reference)
        ReplyFrom named = ReplyFrom.decode(Hex.decode("8220" + "81" + "67" + "6578616d706c65"));
        assertEquals(List.of("example"), named.target().authority().labels());
    }
}
