package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.keystore.Hex;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.junit.jupiter.api.Test;

/**
 * The wire structures of group observations (observe-multicast-notifications, digest 6):
 * tp_info (OMN-02, both encodings of the digest's vector file), ph_req and last_notif
 * (OMN-03), the informative response map (OMN-01, OMN-12) and the Feedback-Divider arithmetic
 * (OMN-09). Every refusal has a control that the same shape with a valid value passes.
 */
class GroupObservationCodecTest {
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();

    private static JsonNode vectors() throws Exception {
        return new ObjectMapper().readTree(GroupObservationCodecTest.class.getResourceAsStream(
                "/vectors/observe-multicast-notifications-tpinfo-example.json")).get("vectors");
    }

    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    private static TpInfo figure4() throws Exception {
        return TpInfo.udp(at("2001:db8::ab", 5683), at("ff35:30:2001:db8::23", 61616), Hex.decode("7b"));
    }

    @Test
    void OMN_02_tpInfoIpv6_encodesAsTheCddlFormOfTheVectorFile() throws Exception {
        JsonNode nested = vectors().get(1);
        assertEquals(nested.get("derived_hex").asText(), Hex.encode(figure4().encode()));
        assertEquals(nested.get("derived_informative_response_payload_hex_tp_info_only").asText(),
                Hex.encode(InformativeResponse.of(figure4(), null, null).encode()));
    }

    @Test
    void OMN_02_tpInfoIpv6_bothEncodingsOfTheVectorFileDecodeToTheSameAddresses() throws Exception {
        JsonNode v = vectors();
        TpInfo flat = TpInfo.decode(Hex.decode(v.get(0).get("derived_hex").asText()), "tp_info");
        TpInfo nested = TpInfo.decode(Hex.decode(v.get(1).get("derived_hex").asText()), "tp_info");
        assertEquals(figure4(), nested);
        assertEquals(figure4(), flat);
        assertTrue(flat.flattened());
        assertFalse(nested.flattened());
        InformativeResponse ir = InformativeResponse.decode(Hex.decode(
                v.get(0).get("derived_informative_response_payload_hex_tp_info_only").asText()));
        assertEquals(figure4(), ir.tpInfo());
        // re-encoded, the flattened input comes out in the CDDL form
        assertEquals(v.get(1).get("derived_hex").asText(), Hex.encode(flat.encode()));
    }

    @Test
    void OMN_02_tpInfoIpv4_defaultPortLeftOut_otherPortWritten() throws Exception {
        TpInfo t = TpInfo.udp(at("192.0.2.1", 5683), at("224.0.1.187", 5683), Hex.decode("0102"));
        // [[-1, [h'c0000201']], [-1, [h'e00001bb']], h'0102']
        assertEquals("83" + "822081" + "44c0000201" + "822081" + "44e00001bb" + "420102", Hex.encode(t.encode()));
        TpInfo p = TpInfo.udp(at("192.0.2.1", 5700), at("224.0.1.187", 5683), new byte[0]);
        // [[-1, [h'c0000201', 5700]], [-1, [h'e00001bb']], h'']
        assertEquals("83" + "822082" + "44c0000201191644" + "822081" + "44e00001bb" + "40", Hex.encode(p.encode()));
        assertEquals(p, TpInfo.decode(p.encode(), "tp_info"));
        assertEquals(t, TpInfo.decode(t.encode(), "tp_info"));
    }

    @Test
    void OMN_02_linkLocalAndSiteLocalAddressesAreRefused_aGlobalOneIsNot() throws Exception {
        for (String bad : new String[] {"fe80::1", "169.254.7.7", "ff02::fd", "224.0.0.251", "fec0::1"}) {
            byte[] ip = InetAddress.getByName(bad).getAddress();
            byte[] cbor = new dev.coterie.keystore.CborWriter(40).array(3).array(2).integer(-1).array(1).bytes(ip)
                    .array(2).integer(-1).array(1).bytes(Hex.decode("e00001bb")).bytes(Hex.decode("7b")).toByteArray();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TpInfo.decode(cbor, "tp_info"), bad);
            assertTrue(e.getMessage().contains("link-local or site-local"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> TpInfo.udp(new InetSocketAddress(InetAddress.getByAddress(ip),
                    5683), at("224.0.1.187", 5683), Hex.decode("7b")), bad);
        }
        // control: the same structure with a global address
        byte[] good = new dev.coterie.keystore.CborWriter(40).array(3).array(2).integer(-1).array(1)
                .bytes(InetAddress.getByName("2001:db8::1").getAddress()).array(2).integer(-1).array(1)
                .bytes(Hex.decode("e00001bb")).bytes(Hex.decode("7b")).toByteArray();
        assertEquals(at("2001:db8::1", 5683), TpInfo.decode(good, "tp_info").server());
    }

    @Test
    void OMN_07_hostNamesOtherSchemesPathsAndShapesAreRefused() throws Exception {
        String ok = "83822081" + "44c0000201" + "822081" + "44e00001bb" + "417b";
        assertEquals(at("192.0.2.1", 5683), TpInfo.decode(Hex.decode(ok), "t").server());
        String[] bad = {
            "83822081" + "6673656e736f72" + "822081" + "44e00001bb" + "417b", // host name "sensor": may name several transports
            "83822181" + "44c0000201" + "822081" + "44e00001bb" + "417b", // coaps (-2): no registered details
            "83832081" + "44c0000201" + "80" + "822081" + "44e00001bb" + "417b", // a path after the authority
            "82822081" + "44c0000201" + "822081" + "44e00001bb", // no tpi_token
            "83822081" + "44c0000201" + "822081" + "44e00001bb" + "49010203040506070809", // a 9-byte Token
            "83822081" + "44c0000201" + "822081" + "44e00001bb" + "617b", // the Token as text
            "80", // empty
            "83822081" + "44c0000201" + "822081" + "44e00001bb" + "417b" + "00", // trailing byte
        };
        for (String b : bad) {
            assertThrows(IllegalArgumentException.class, () -> TpInfo.decode(Hex.decode(b), "t"), b);
        }
        // tpi_server alone (the reverse-proxy flavour, multicast-notifications-proxy 9)
        TpInfo only = TpInfo.decode(Hex.decode("81822081" + "44c0000201"), "t");
        assertNull(only.client());
        assertNull(only.token());
    }

    private static Request phantom() {
        Request r = new Request(CoAP.Code.GET);
        r.getOptions().setUriHost("sensor.example").setObserve(0).addUriPath("r");
        return r;
    }

    @Test
    void OMN_03_phReqIsCodeThenOptionsInCoapEncoding_noTokenTypeOrMid() {
        // GET | Uri-Host (3) "sensor.example" (length 14: nibble 13, one extended byte 1) | Observe (6) 0 | Uri-Path (11) "r"
        assertEquals("01" + "3d01" + Hex.encode("sensor.example".getBytes(StandardCharsets.US_ASCII)) + "30" + "5172",
                Hex.encode(TransportIndependent.encode(phantom())));
        Request back = TransportIndependent.request(TransportIndependent.encode(phantom()), REGISTRY, "ph_req");
        assertEquals(CoAP.Code.GET, back.getCode());
        assertEquals("sensor.example", back.getOptions().getUriHost());
        assertEquals(0, back.getOptions().getObserve());
        assertEquals(List.of("r"), back.getOptions().getUriPath());
        assertTrue(TransportIndependent.same(phantom(), back));
    }

    @Test
    void OMN_03_lastNotifIsCodeOptionsMarkerAndPayload() {
        Response n = new Response(CoAP.ResponseCode.CONTENT);
        n.getOptions().setObserve(11).setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        n.setPayload("1234");
        // 2.05 | Observe (6) 0x0b | Content-Format (12) 0 | 0xFF "1234"
        assertEquals("45" + "610b" + "60" + "ff" + "31323334", Hex.encode(TransportIndependent.encode(n)));
        Response back = TransportIndependent.response(TransportIndependent.encode(n), REGISTRY, "last_notif");
        assertEquals(CoAP.ResponseCode.CONTENT, back.getCode());
        assertEquals(11, back.getOptions().getObserve());
        assertEquals("1234", back.getPayloadString());
        // no payload: no marker
        Response empty = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        assertEquals("a3", Hex.encode(TransportIndependent.encode(empty)));
    }

    @Test
    void OMN_03_malformedSerialisationsAreRefused() {
        assertEquals(CoAP.Code.GET, TransportIndependent.request(Hex.decode("01" + "b172"), REGISTRY, "ph_req").getCode());
        String[] bad = {"", "01ff", "01f0", "015f72", "01" + "51", "45" + "610b", "01" + "e0", "09", "1f"}; // 0.09, 0.31: no method
        String[] asResponse = {"01", "65", "7f"}; // a request code; 3.05 (the fuzzer's finding) and 3.31, no response codes
        for (String b : bad) {
            assertThrows(IllegalArgumentException.class, () -> TransportIndependent.request(Hex.decode(b), REGISTRY, "ph_req"),
                    b);
        }
        for (String b : asResponse) {
            assertThrows(IllegalArgumentException.class, () -> TransportIndependent.response(Hex.decode(b), REGISTRY, "n"), b);
        }
        // Observe twice; an unrecognised critical option (13); an unrecognised elective one (1000) ignored
        assertThrows(IllegalArgumentException.class, () -> TransportIndependent.response(Hex.decode("45" + "6101" + "0102"),
                REGISTRY, "n"));
        assertThrows(IllegalArgumentException.class, () -> TransportIndependent.request(Hex.decode("01" + "d10000"), REGISTRY,
                "ph_req"));
        Response elective = TransportIndependent.response(Hex.decode("45" + "6101" + "e102d500" + "ff41"), REGISTRY, "n");
        assertEquals(1, elective.getOptions().getObserve());
        assertEquals("A", elective.getPayloadString());
        // an option longer than its definition allows: Observe is at most 3 bytes
        assertThrows(IllegalArgumentException.class, () -> TransportIndependent.response(Hex.decode("45" + "6401020304"),
                REGISTRY, "n"));
        assertEquals(0x010203, TransportIndependent.response(Hex.decode("45" + "63010203"), REGISTRY, "n").getOptions()
                .getObserve());
    }

    private static InformativeResponse full() throws Exception {
        return new InformativeResponse(figure4(), TransportIndependent.encode(phantom()), Hex.decode("4560"), 3L,
                1700000000L, "coap://gm.example/ace-group/g1", "g1", "coap://as.example/token", null, null, null, null,
                Arrays.asList(Hex.decode("05"), Hex.decode("0e"), null, Hex.decode("27"), null, null));
    }

    @Test
    void OMN_01_theInformativeResponseMapRoundTrips_keysAsTheRegistryTable() throws Exception {
        byte[] enc = full().encode();
        // 11 pairs: keys 0..7 in order, then hkdf 8, cred_fmt 9, sign_alg 11
        assertEquals(0xa0 | 11, enc[0] & 0xff);
        InformativeResponse d = InformativeResponse.decode(enc);
        assertEquals(figure4(), d.tpInfo());
        assertArrayEquals(TransportIndependent.encode(phantom()), d.phReq());
        assertArrayEquals(Hex.decode("4560"), d.lastNotif());
        assertEquals(3L, d.nextNotBefore());
        assertEquals(1700000000L, d.ending());
        assertEquals("g1", d.secGp());
        assertEquals("coap://as.example/token", d.asUri());
        assertArrayEquals(Hex.decode("05"), d.groupFields().get(0));
        assertArrayEquals(Hex.decode("27"), d.groupFields().get(3));
        assertArrayEquals(enc, d.encode());
    }

    @Test
    void OMN_01_wrongTypesRepeatedKeysAndTrailingBytesAreRefused_unknownKeysSkipped() throws Exception {
        String tp = Hex.encode(figure4().encode());
        assertEquals(figure4(), InformativeResponse.decode(Hex.decode("a100" + tp)).tpInfo());
        // unknown keys (integer 99, text "x") are allowed by the CDDL and skipped
        assertEquals(figure4(), InformativeResponse.decode(Hex.decode("a300" + tp + "1863a10102" + "6178f6")).tpInfo());
        String[] bad = {
            "a10080", // tp_info empty: no tpi_server
            "a1004100", // tp_info not an array
            "a2" + "00" + tp + "00" + tp, // key 0 twice
            "a101" + "6161", // ph_req as text
            "a102" + "01", // last_notif an integer
            "a103" + "20", // next_not_before negative
            "a104" + "6161", // ending as text
            "a104" + "f97e00", // ending NaN
            "a105" + "41aa", // join_uri as bytes
            "a109" + "6161", // cred_fmt as text
            "a10c" + "01", // sign_params not an array
            "a10d" + "80", // gp_material not a map
            "a100" + tp + "00", // trailing byte
            "80", // not a map
        };
        for (String b : bad) {
            assertThrows(IllegalArgumentException.class, () -> InformativeResponse.decode(Hex.decode(b)), b);
        }
        // a float NumericDate is one
        assertEquals(1.5, InformativeResponse.decode(Hex.decode("a104" + "f93e00")).ending());
    }

    @Test
    void OMN_12_groupHintsOnlyWithJoinUriAndSecGpTogether() throws Exception {
        assertTrue(full().hasGroupHints());
        InformativeResponse noSecGp = InformativeResponse.decode(Hex.decode("a105" + "6161"));
        assertFalse(noSecGp.hasGroupHints());
        InformativeResponse noJoin = InformativeResponse.decode(Hex.decode("a106" + "6161"));
        assertFalse(noJoin.hasGroupHints());
        assertTrue(InformativeResponse.decode(Hex.decode("a205" + "6161" + "06" + "6162")).hasGroupHints());
    }

    @Test
    void OMN_09_serverQIsTheCeilingOfLog2OfNOverM_andTheEstimateUpdate() {
        assertEquals(7, FeedbackDivider.q(1000, 10)); // log2(100) = 6.64
        assertEquals(10, FeedbackDivider.q(1024, 1)); // exactly a power of two: no rounding up
        assertEquals(11, FeedbackDivider.q(1025, 1));
        assertEquals(0, FeedbackDivider.q(5, 10)); // N < M: Q = 0, everyone answers
        assertEquals(0, FeedbackDivider.q(0, 1)); // N = max(COUNT, 1)
        assertEquals(384, FeedbackDivider.estimate(3, 7));
        assertEquals(692, FeedbackDivider.update(1000, 384, 1000, 2)); // 1000 + (384 - 1000) / 2
        assertEquals(1010, FeedbackDivider.update(1010, 1000, 1000, 4)); // E = N: only the joiners meanwhile
        assertEquals(0, FeedbackDivider.update(3, 0, 1000, 1)); // never below 0
        // integer division truncating towards zero (Appendix A.3): 10 + (3 - 10) / 4 = 10 - 1, not 10 - 1.75 rounded to 8
        assertEquals(9, FeedbackDivider.update(10, 3, 10, 4));
        assertEquals(11, FeedbackDivider.update(10, 17, 10, 4)); // 10 + 7 / 4
        assertThrows(IllegalArgumentException.class, () -> FeedbackDivider.update(1, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> FeedbackDivider.q(1, 0));
    }

    @Test
    void OMN_09_clientAnswersWithProbabilityTwoToTheMinusQ() {
        SplittableRandom random = new SplittableRandom(42);
        int draws = 160_000;
        for (int q : new int[] {0, 1, 3, 6}) {
            int yes = 0;
            for (int i = 0; i < draws; i++) {
                yes += FeedbackDivider.answers(q, random) ? 1 : 0;
            }
            double expected = draws / Math.pow(2, q);
            assertTrue(Math.abs(yes - expected) < 5 * Math.sqrt(expected) + 1, "Q " + q + ": " + yes + " of " + draws);
        }
    }
}
