package dev.coterie.vectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.GroupObservationSecurity;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.TransportIndependent;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Coterie's own group observation vectors (coterie-7 … coterie-9 of coterie-group-vectors.json)
 * taken as published: their bytes, read from the committed file and nothing else, go through the
 * client's verification path (the pairwise answer to the registration, then
 * {@link GroupObservationClient#check} with {@link GroupObservationSecurity}: the phantom from
 * ph_req verified without replay check, last_notif as its response), so the vectors are not only
 * self-consistent bytes. A tampered copy of each is the negative control.
 */
class GroupObservationVectorsTest {
    private static JsonNode vector(String section) throws Exception {
        JsonNode root;
        try (java.io.InputStream in = VectorRunner.class.getResourceAsStream("data/coterie-group-vectors.json")) {
            root = new ObjectMapper().readTree(in);
        }
        for (JsonNode v : root.get("vectors")) {
            if (v.get("source_section").asText().equals(section)) {
                return v;
            }
        }
        throw new AssertionError("no vector " + section);
    }

    private static byte[] out(JsonNode v, String field) {
        return Hex.decode(v.get("outputs").get(field).asText());
    }

    private static OwnObservationVectors vectors(String provider) {
        return new OwnObservationVectors(new OwnGroupVectors(CryptoProviders.byName(provider)), CryptoProviders.byName(provider));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void OMN_10_publishedInformativeResponseAndPhantomVerifyThroughTheClientPath(String provider) throws Exception {
        JsonNode info = vector("coterie-8");
        JsonNode phantom = vector("coterie-7");
        JsonNode in = info.get("inputs");
        OwnObservationVectors v = vectors(provider);
        OwnObservationVectors.Verified ok = v.verifyPublished(in, out(info, "protected_informative_response"),
                out(vector("coterie-9"), "ticket_request"));
        GroupObservationClient.Parsed p = ok.parsed();
        // the binding every notification is verified against: the server's own kid a1, Partial IV 21 (0x15), kid context = Gid
        assertEquals("a1", Hex.encode(p.binding().kid()));
        assertEquals("15", Hex.encode(p.binding().partialIv()));
        assertEquals("b1f05c", Hex.encode(p.binding().kidContext()));
        // the phantom decrypts to the registration's request: GET, Observe 0, /alarm, Token tpi_token
        assertEquals(CoAP.Code.GET, p.phantom().getCode());
        assertEquals(0, p.phantom().getOptions().getObserve());
        assertEquals("alarm", p.phantom().getOptions().getUriPathString());
        assertEquals("7a7b7c7d7e7f8081", Hex.encode(p.tp().token()));
        assertEquals("/192.0.2.10:5683", p.tp().server().toString());
        assertEquals("/224.0.1.190:5683", p.tp().client().toString());
        // last_notif verified as the phantom's response: the first notification
        assertEquals(CoAP.ResponseCode.CONTENT, p.last().getCode());
        assertEquals("state 0", p.last().getPayloadString());
        assertTrue(p.last().getOptions().hasObserve());
        // ph_req on its own (coterie-7) is the one inside the protected informative response, and its OSCORE option is
        // group mode with the server's Sender ID, its SSN as Partial IV and the Gid as kid context
        byte[] phReq = out(phantom, "ph_req");
        assertArrayEquals(phReq, out(info, "ph_req"));
        Request wire = (Request) new UdpDataParser().parseMessage(out(phantom, "protected_phantom_request"));
        assertArrayEquals(phReq, TransportIndependent.encode(wire));
        assertEquals(CoAP.Code.FETCH, wire.getCode());
        assertEquals(CoAP.Type.NON, wire.getType());
        assertEquals("7a7b7c7d7e7f8081", wire.getTokenString().toLowerCase(java.util.Locale.ROOT));
        OscoreOptionValue ov = OscoreOptionValue.decode(wire.getOptions().getOscore(), true);
        assertTrue(ov.groupFlag());
        assertEquals("a1", Hex.encode(ov.kid()));
        assertEquals("15", Hex.encode(ov.partialIv()));
        assertEquals("b1f05c", Hex.encode(ov.kidContext()));
        // the informative response on the wire: CON, outer 2.04 with an empty OSCORE option (the registration's nonce),
        // the registration's Token; no Observe, no Content-Format outside
        Response irWire = (Response) new UdpDataParser().parseMessage(out(info, "protected_informative_response"));
        assertEquals(CoAP.Type.CON, irWire.getType());
        assertEquals(CoAP.ResponseCode.CHANGED, irWire.getCode());
        assertEquals(0, irWire.getOptions().getOscore().length);
        assertEquals("5a5b", irWire.getTokenString().toLowerCase(java.util.Locale.ROOT));
        assertTrue(!irWire.getOptions().hasObserve() && !irWire.getOptions().hasContentFormat());
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void OMN_10_aTamperedPublishedVectorDoesNotVerify(String provider) throws Exception {
        JsonNode info = vector("coterie-8");
        JsonNode in = info.get("inputs");
        OwnObservationVectors v = vectors(provider);
        byte[] ir = out(info, "protected_informative_response");
        byte[] bad = ir.clone();
        bad[bad.length - 1] ^= 0x01;
        assertThrows(OscoreException.class, () -> v.clientPath(in).informative(bad));
        // a phantom whose ciphertext changed does not verify with the server's verified identity as the responder;
        // the published one, with the same responder, is the control
        OwnObservationVectors.ClientPath path = v.clientPath(in);
        Response plain = path.informative(ir);
        OscorePeer responder = OscorePeer.of(plain);
        assertTrue(responder != null, "the informative response's sender is verified");
        byte[] phReq = InformativeResponse.decode(plain.getPayload()).phReq();
        org.eclipse.californium.core.coap.option.OptionRegistry registry = ExtensionOptionRegistry.defaults().californiumRegistry();
        Request genuine = TransportIndependent.request(phReq, registry, "ph_req");
        genuine.setToken(Hex.decode("7a7b7c7d7e7f8081"));
        genuine.setType(CoAP.Type.NON);
        assertEquals("alarm", path.security().verifyPhantom(genuine, responder).plain().getOptions().getUriPathString());
        byte[] tampered = phReq.clone();
        tampered[tampered.length - 1] ^= 0x01;
        Request forged = TransportIndependent.request(tampered, registry, "ph_req");
        forged.setToken(Hex.decode("7a7b7c7d7e7f8081"));
        forged.setType(CoAP.Type.NON);
        GroupObservationSecurity s = v.clientPath(in).security();
        assertThrows(OscoreException.class, () -> s.verifyPhantom(forged, responder));
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "bc"})
    void MNP_03_publishedTicketRequestIsThePhantomWithTheExactTpInfo(String provider) throws Exception {
        JsonNode ticketVector = vector("coterie-9");
        JsonNode in = ticketVector.get("inputs");
        byte[] ticket = out(ticketVector, "ticket_request");
        byte[] tpInfo = out(ticketVector, "tp_info");
        Request t = (Request) new UdpDataParser().parseMessage(ticket);
        Request phantom = (Request) new UdpDataParser().parseMessage(out(vector("coterie-7"), "protected_phantom_request"));
        assertEquals(CoAP.Type.CON, t.getType());
        assertEquals(CoAP.Code.FETCH, t.getCode(), "the phantom's outer code");
        assertEquals("9a9b", t.getTokenString().toLowerCase(java.util.Locale.ROOT));
        assertEquals(0, t.getOptions().getObserve());
        assertEquals("coap://192.0.2.10/alarm", t.getOptions().getProxyUri(), "a protected phantom names no Uri-Path outside");
        assertArrayEquals(phantom.getOptions().getOscore(), t.getOptions().getOscore());
        assertArrayEquals(phantom.getPayload(), t.getPayload());
        byte[] carried = null;
        for (Option o : t.getOptions().getOthers()) {
            if (o.getNumber() == 47) {
                carried = o.getValue();
            }
        }
        assertArrayEquals(tpInfo, carried, "Listen-To-Multicast-Responses holds the exact tp_info bytes");
        // the published bytes through the client's path and the last proxy's rebuild: the phantom again, byte for byte
        OwnObservationVectors v = vectors(provider);
        byte[] ir = out(ticketVector, "protected_informative_response");
        assertArrayEquals(out(vector("coterie-7"), "ph_req"), TransportIndependent.encode(v.verifyPublished(in, ir, ticket)
                .ticketPhantom()));
        // a ticket whose option 47 differs from the informative response's tp_info is refused (the genuine one above is the
        // control)
        int at = indexOf(ticket, tpInfo);
        byte[] bad = ticket.clone();
        bad[at + tpInfo.length - 1] ^= 0x01;
        assertThrows(VectorRunner.Mismatch.class, () -> v.verifyPublished(in, ir, bad));
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (java.util.Arrays.equals(java.util.Arrays.copyOfRange(hay, i, i + needle.length), needle)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }
}
