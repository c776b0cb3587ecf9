package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.Hex;
import java.net.URI;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.junit.jupiter.api.Test;

/** The client's ticket request (multicast-notifications-proxy 4.2, digest 7.3 step 2), byte for byte. */
class TicketRequestTest {
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();
    private static final int LTMR = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.LISTEN_TO_MULTICAST_RESPONSES)
            .number();
    /** [[-1, [h'7f000001', 5810]], [-1, [h'e00001bd']], h'0102']: server 127.0.0.1:5810, group 224.0.1.189 (default port), Token 0102. */
    static final String TP_INFO = "83" + "8220" + "82" + "447f000001" + "1916b2" + "8220" + "81" + "44e00001bd" + "420102";
    private static final URI ORIGINAL = URI.create("coap://127.0.0.1:5810/alarm");
    private static final Token TOKEN = new Token(Hex.decode("a1b2c3"));

    @Test
    void MNP_03_unprotectedPhantom_proxySchemeAndUriHostNextToItsUriPath() {
        byte[] phReq = Hex.decode("01" + "60" + "55616c61726d"); // GET, Observe 0, Uri-Path "alarm"
        Request t = TicketRequest.build(phReq, Hex.decode(TP_INFO), ORIGINAL, TOKEN, LTMR, REGISTRY);
        assertEquals(CoAP.Type.CON, t.getType());
        assertEquals(TOKEN, t.getToken());
        String expected = "01" // GET, from ph_req
                + "39" + Hex.encode("127.0.0.1".getBytes()) // Uri-Host (3)
                + "30" // Observe (6) 0
                + "12" + "16b2" // Uri-Port (7) 5810
                + "45" + Hex.encode("alarm".getBytes()) // Uri-Path (11), from ph_req
                + "d40f" + Hex.encode("coap".getBytes()) // Proxy-Scheme (39)
                + "8d0a" + TP_INFO; // Listen-To-Multicast-Responses (47): the tp_info bytes, 23 of them
        assertEquals(expected, Hex.encode(TransportIndependent.encode(t)));
    }

    @Test
    void MNP_03_protectedPhantom_outerOptionsAndCiphertextCopiedOpaquely_proxyUri() {
        // FETCH, Observe 0, OSCORE h'090105' (kid 05, Partial IV 01), payload "ciphertext ‖ signature" c0ffee
        byte[] phReq = Hex.decode("05" + "60" + "33090105" + "ff" + "c0ffee");
        Request t = TicketRequest.build(phReq, Hex.decode(TP_INFO), ORIGINAL, TOKEN, LTMR, REGISTRY);
        String uri = "coap://127.0.0.1:5810/alarm"; // 27 bytes
        String expected = "05" + "60" + "33090105"
                + "dd0d0e" + Hex.encode(uri.getBytes()) // Proxy-Uri (35): delta 26, length 27
                + "cd0a" + TP_INFO // option 47: delta 12, length 23
                + "ff" + "c0ffee";
        assertEquals(expected, Hex.encode(TransportIndependent.encode(t)));
    }

    @Test
    void MNP_03_anObserveInThePhantomIsReplacedByOuterObserve0() {
        byte[] phReq = Hex.decode("05" + "6101" + "320901" + "ff" + "c0ffee"); // Observe 1, OSCORE h'0901'
        Request t = TicketRequest.build(phReq, Hex.decode(TP_INFO), ORIGINAL, TOKEN, LTMR, REGISTRY);
        assertEquals(0, t.getOptions().getObserve());
        assertEquals("0560", Hex.encode(TransportIndependent.encode(t)).substring(0, 4));
    }

    @Test
    void MNP_03_tpInfoBytesAreTheInformativeResponsesExactBytes_notAReEncoding() {
        // the draft's flattened authority form: [[-1, h'7f000001', 5810], [-1, h'e00001bd'], h'0102']
        String flat = "83" + "8320447f0000011916b2" + "8220" + "44e00001bd" + "420102";
        String payload = "a2" + "00" + flat + "01" + "48" + "0160" + "55616c61726d";
        byte[] raw = TicketRequest.tpInfoBytes(Hex.decode(payload));
        assertEquals(flat, Hex.encode(raw));
        assertFalse(flat.equals(Hex.encode(TpInfo.decode(raw, "tp_info").encode())), "a re-encoding would differ");
        // control: the nested form comes out as it went in too
        assertEquals(TP_INFO, Hex.encode(TicketRequest.tpInfoBytes(Hex.decode("a1" + "00" + TP_INFO))));
    }

    @Test
    void MNP_03_refused_malformedTpInfo_phantomForAnotherResource_noTpiDetails() {
        byte[] phReq = Hex.decode("01" + "60" + "55616c61726d");
        assertThrows(IllegalArgumentException.class,
                () -> TicketRequest.build(phReq, Hex.decode(TP_INFO.substring(0, 20)), ORIGINAL, TOKEN, LTMR, REGISTRY));
        assertThrows(IllegalArgumentException.class,
                () -> TicketRequest.build(phReq, Hex.decode(TP_INFO), URI.create("coap://127.0.0.1:5810/door"), TOKEN, LTMR,
                        REGISTRY));
        assertThrows(IllegalArgumentException.class,
                () -> TicketRequest.build(phReq, Hex.decode("81" + "8220" + "82" + "447f000001" + "1916b2"), ORIGINAL, TOKEN, LTMR,
                        REGISTRY));
        assertThrows(IllegalArgumentException.class, () -> TicketRequest.tpInfoBytes(Hex.decode("a1" + "00" + "80")));
        // control: the same inputs, well-formed
        assertArrayEquals(Hex.decode(TP_INFO), TicketRequest.build(phReq, Hex.decode(TP_INFO), ORIGINAL, TOKEN, LTMR, REGISTRY)
                .getOptions().getOthers().stream().filter(o -> o.getNumber() == LTMR).findFirst().orElseThrow().getValue());
    }
}
