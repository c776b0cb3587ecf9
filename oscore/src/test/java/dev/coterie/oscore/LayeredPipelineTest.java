package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;

/**
 * A client's several layers (oscore-capable-proxies Section 2): protected end to end first and
 * the next hop's last (OCP-01), removed from a response outermost first (OCP-06), and an OSCORE
 * option left after the last layer the client added stops the response (OCP-08). The far side
 * here is a node that removes both layers itself, with a pipeline that allows nesting.
 */
class LayeredPipelineTest {
    private static final byte[] HOP_SECRET = dev.coterie.keystore.Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");

    private final ProtectionPipeline client = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
    private final ProtectionPipeline far = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY, true);

    private static OscoreContext hop(byte[] sender, byte[] recipient) throws Exception {
        return TestContexts.builder(sender, recipient, SecurityStateStore.inMemory()).masterSecret(SecretBytes.copyOf(HOP_SECRET))
                .build();
    }

    private static <M extends Message> M onWire(M m) {
        @SuppressWarnings("unchecked")
        M parsed = (M) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(m));
        return parsed;
    }

    private static Request get() {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(7);
        r.setToken(new byte[] {7});
        r.getOptions().setUriPath("temp");
        return r;
    }

    private record Far(RequestIdentifiers e2e, RequestIdentifiers hop) {
    }

    /** The far side removes the hop layer, then the end-to-end one; it sees the client's request. */
    private Far receive(Request wire, InMemoryContextDb hopDb, InMemoryContextDb e2eDb) throws Exception {
        ProtectionPipeline.Unprotected<Request> h = far.unprotectRequest(wire, hopDb);
        assertTrue(h.plain().getOptions().hasOscore(), "inside the hop layer: the end-to-end layer");
        ProtectionPipeline.Unprotected<Request> e = far.unprotectRequest(h.plain(), e2eDb);
        assertEquals(List.of("temp"), e.plain().getOptions().getUriPath());
        return new Far(e.identifiers(), h.identifiers());
    }

    private Response answer(Far f, boolean smuggleAnOscoreOption) throws Exception {
        Response plain = new Response(ResponseCode.CONTENT);
        plain.setType(Type.ACK);
        plain.setMID(7);
        plain.setToken(new byte[] {7});
        plain.setPayload("21.5");
        if (smuggleAnOscoreOption) {
            plain.getOptions().setOscore(new byte[] {0x09, 0x05}); // a further "layer" the client never added
        }
        Response e2e = far.protectResponse(plain, f.e2e());
        return onWire(far.protectResponse(e2e, f.hop()));
    }

    @Test
    void OCP_01_OCP_06_twoLayers_endToEndFirst_removedOutermostFirst() throws Exception {
        OscoreContext e2eClient = TestContexts.client();
        OscoreContext hopClient = hop(new byte[] {0x0c}, new byte[] {0x0b});
        ProtectionPipeline.LayeredRequest p = client.protectRequest(get(),
                List.of(e2eClient.protector(), RequestProtector.forProxy(hopClient.protector())), -1, null);
        assertEquals(3, p.stages().size());
        assertTrue(p.stages().get(1).getOptions().hasOscore());
        assertEquals(List.of(OptionNumberRegistry.OSCORE), p.wire().getOptions().asSortedList().stream()
                .map(o -> o.getNumber()).toList(), "the end-to-end OSCORE option is inside the hop layer");
        Far f = receive(onWire(p.wire()), new InMemoryContextDb().add(hop(new byte[] {0x0b}, new byte[] {0x0c})),
                new InMemoryContextDb().add(TestContexts.server()));
        ProtectionPipeline.LayeredResponse r = client.unprotectResponse(answer(f, false), p.identifiers());
        assertEquals(ResponseCode.CONTENT, r.plain().getCode());
        assertEquals("21.5", r.plain().getPayloadString());
        assertEquals(0, r.innermostLayer());
        assertEquals(2, r.steps().size());
    }

    @Test
    void OCP_08_anOscoreOptionLeftAfterEveryLayerTheClientAddedStopsTheResponse() throws Exception {
        OscoreContext e2eClient = TestContexts.client();
        OscoreContext hopClient = hop(new byte[] {0x0c}, new byte[] {0x0b});
        InMemoryContextDb hopDb = new InMemoryContextDb().add(hop(new byte[] {0x0b}, new byte[] {0x0c}));
        InMemoryContextDb e2eDb = new InMemoryContextDb().add(TestContexts.server());
        List<RequestProtector> layers = List.of(e2eClient.protector(), RequestProtector.forProxy(hopClient.protector()));

        ProtectionPipeline.LayeredRequest p = client.protectRequest(get(), layers, -1, null);
        Response bad = answer(receive(onWire(p.wire()), hopDb, e2eDb), true);
        OscoreException e = assertThrows(OscoreException.DecodeFailure.class, () -> client.unprotectResponse(bad, p.identifiers()));
        assertTrue(e.getMessage().contains("OCP-08"), e.getMessage());

        // positive control: the same exchange without the extra option is delivered
        ProtectionPipeline.LayeredRequest q = client.protectRequest(get(), layers, -1, null);
        Response good = answer(receive(onWire(q.wire()), hopDb, e2eDb), false);
        assertEquals("21.5", client.unprotectResponse(good, q.identifiers()).plain().getPayloadString());
    }

    @Test
    void OCP_06_anIntermediarysOwnErrorInsideTheHopLayerIsDelivered_itsSuccessIsNot() throws Exception {
        OscoreContext e2eClient = TestContexts.client();
        OscoreContext hopClient = hop(new byte[] {0x0c}, new byte[] {0x0b});
        InMemoryContextDb hopDb = new InMemoryContextDb().add(hop(new byte[] {0x0b}, new byte[] {0x0c}));
        List<RequestProtector> layers = List.of(e2eClient.protector(), RequestProtector.forProxy(hopClient.protector()));
        for (ResponseCode code : new ResponseCode[] {ResponseCode.GATEWAY_TIMEOUT, ResponseCode.CONTENT}) {
            ProtectionPipeline.LayeredRequest p = client.protectRequest(get(), layers, -1, null);
            ProtectionPipeline.Unprotected<Request> h = far.unprotectRequest(onWire(p.wire()), hopDb);
            Response own = new Response(code);
            own.setType(Type.ACK);
            own.setMID(7);
            own.setToken(new byte[] {7});
            own.setPayload("from the proxy");
            Response wire = onWire(far.protectResponse(own, h.identifiers()));
            if (code.isSuccess()) {
                // a proxy never supplies a success in place of the server's protected answer
                assertThrows(OscoreException.DecodeFailure.class, () -> client.unprotectResponse(wire, p.identifiers()));
            } else {
                ProtectionPipeline.LayeredResponse r = client.unprotectResponse(wire, p.identifiers());
                assertEquals(code, r.plain().getCode());
                assertEquals(1, r.innermostLayer(), "the answer of the node that removed layer 1");
            }
        }
    }

    @Test
    void echoForTheHopLayerGoesInsideTheHopLayerOnly() throws Exception {
        OscoreContext e2eClient = TestContexts.client();
        OscoreContext hopClient = hop(new byte[] {0x0c}, new byte[] {0x0b});
        InMemoryContextDb hopDb = new InMemoryContextDb().add(hop(new byte[] {0x0b}, new byte[] {0x0c}));
        InMemoryContextDb e2eDb = new InMemoryContextDb().add(TestContexts.server());
        byte[] echo = {1, 2, 3, 4, 5, 6, 7, 8};
        ProtectionPipeline.LayeredRequest p = client.protectRequest(get(),
                List.of(e2eClient.protector(), RequestProtector.forProxy(hopClient.protector())), 1, echo);
        ProtectionPipeline.Unprotected<Request> h = far.unprotectRequest(onWire(p.wire()), hopDb);
        assertArrayEquals(echo, h.plain().getOptions().getOthers().stream()
                .filter(o -> o.getNumber() == 252).findFirst().orElseThrow().getValue(), "the proxy finds its Echo");
        ProtectionPipeline.Unprotected<Request> e = far.unprotectRequest(h.plain(), e2eDb);
        assertTrue(e.plain().getOptions().getOthers().stream().noneMatch(o -> o.getNumber() == 252),
                "the server does not see the proxy's Echo");
    }
}
