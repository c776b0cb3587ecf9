package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;

/**
 * OSC-14 by construction (review A, finding M2): the request nonce is reused by one response at
 * most, and only for a request the pipeline verified. Public code can neither build identifiers
 * that hand it out nor turn a client's protector into a response protector.
 */
class NonceReuseByConstructionTest {
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static Response content(String text) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.ACK);
        r.setMID(3);
        r.setToken(new byte[] {3});
        r.setPayload(text);
        return r;
    }

    private RequestIdentifiers verified(OscoreContext client, OscoreContext server) throws Exception {
        Request get = new Request(Code.GET, Type.CON);
        get.setMID(3);
        get.setToken(new byte[] {3});
        get.getOptions().setUriPath("a");
        Request wire = (Request) new UdpDataParser().parseMessage(
                new UdpDataSerializer().getByteArray(p.protectRequest(get, client.protector()).wire()));
        return p.unprotectRequest(wire, new InMemoryContextDb().add(server)).identifiers();
    }

    @Test
    void OSC_14_identifiersFromThePublicBuilderNeverHandOutTheRequestNonce() throws Exception {
        OscoreContext server = TestContexts.server();
        RequestIdentifiers served = verified(TestContexts.client(), server);
        // two copies of a verified request's identifiers, as a proxy or any main-jar code could build them
        RequestIdentifiers[] copies = new RequestIdentifiers[2];
        for (int i = 0; i < 2; i++) {
            copies[i] = RequestIdentifiers.builder().mode(ProtectionMode.OSCORE).contextName(served.contextName())
                    .kid(served.kid()).partialIv(served.partialIv()).responseProtector(served.responseProtector()).build();
            assertNull(copies[i].claimReusableNonce(), "a built copy must not hand out the request nonce");
            assertTrue(p.protectResponse(content("copy " + i), copies[i]).getOptions().getOscore().length > 0,
                    "its responses carry their own Partial IV");
        }
        assertEquals(0, p.protectResponse(content("ok"), served).getOptions().getOscore().length,
                "positive control: the pipeline's identifiers reuse the request nonce once");
        assertNull(served.claimReusableNonce());
    }

    @Test
    void OSC_14_theClientProtectorIsNoResponseProtector() throws Exception {
        OscoreContext ctx = TestContexts.server();
        RequestProtector protector = ctx.protector();
        assertNotNull(protector, "positive control");
        assertFalse(protector instanceof ResponseProtector, "a protector cast to ResponseProtector could seal any response");
        assertFalse(protector instanceof RequestVerifier);
        ResponseProtector responder = verified(TestContexts.client(), ctx).responseProtector();
        assertFalse(responder instanceof RequestProtector);
        assertFalse(responder instanceof RequestVerifier);
    }

    @Test
    void OSC_14_onlyThePipelineMayMakeANonceReusable() throws Exception {
        assertTrue(Modifier.isPublic(RequestIdentifiers.Builder.class.getDeclaredMethod("responseProtector",
                ResponseProtector.class).getModifiers()), "positive control: the builder stays public");
        assertFalse(Modifier.isPublic(RequestIdentifiers.Builder.class.getDeclaredMethod("nonceReusable", boolean.class)
                .getModifiers()), "nonceReusable must not be public");
    }
}
