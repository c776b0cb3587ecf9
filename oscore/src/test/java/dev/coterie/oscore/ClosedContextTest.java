package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.SecurityStateStore;
import java.nio.file.Path;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSC-15 "afterwards the context must not protect anything", through the pipeline (review A,
 * finding M1): a close()d context neither verifies a request (its window could move after it
 * was persisted) nor seals a response (a first response needs no sequence number: it reuses the
 * request nonce). Every refusal says why and carries no key material.
 */
class ClosedContextTest {
    @TempDir
    Path dir;
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static Request get(String path) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(3);
        r.setToken(new byte[] {3});
        r.getOptions().setUriPath(path);
        return r;
    }

    private static Response content(String text) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.ACK);
        r.setMID(3);
        r.setToken(new byte[] {3});
        r.setPayload(text);
        return r;
    }

    private static <M extends Message> M onWire(M m) {
        @SuppressWarnings("unchecked")
        M parsed = (M) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(m));
        return parsed;
    }

    private static void assertNoSecrets(Exception e) {
        String m = e.getMessage().toLowerCase();
        assertEquals(OscoreContext.CLOSED, e.getMessage());
        assertFalse(m.contains("0102030405060708090a0b0c0d0e0f10") || m.contains("9e7ca92223786340"), m);
    }

    @Test
    void OSC_15_aClosedServerContextSealsNoResponseNotEvenUnderTheRequestNonce() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.build(new byte[] {1}, new byte[0], SecurityStateStore.open(dir, 16));
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        RequestIdentifiers before = p.unprotectRequest(onWire(p.protectRequest(get("a"), client.protector()).wire()), db)
                .identifiers();
        RequestIdentifiers served = p.unprotectRequest(onWire(p.protectRequest(get("b"), client.protector()).wire()), db)
                .identifiers();
        assertEquals(0, p.protectResponse(content("ok"), before).getOptions().getOscore().length,
                "positive control: an open context answers under the request nonce");
        server.close();
        assertTrue(server.isClosed());
        OscoreException.ProtectionRefused e = assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectResponse(content("x"), served), "a closed context must not seal a first response");
        assertNoSecrets(e);
        Response notification = content("n");
        notification.getOptions().setObserve(2);
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectResponse(notification, served));
    }

    @Test
    void OSC_15_aClosedServerContextVerifiesNoRequest() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.build(new byte[] {1}, new byte[0], SecurityStateStore.open(dir, 16));
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        assertNotNull(p.unprotectRequest(onWire(p.protectRequest(get("a"), client.protector()).wire()), db),
                "positive control: an open context verifies");
        String window = server.replayWindow().snapshot();
        server.close();
        Request late = onWire(p.protectRequest(get("b"), client.protector()).wire());
        OscoreException.ContextNotFound e = assertThrows(OscoreException.ContextNotFound.class,
                () -> p.unprotectRequest(late, db), "a closed context must not verify: its window is persisted already");
        assertNoSecrets(e);
        assertEquals(ResponseCode.UNAUTHORIZED, e.responseCode());
        assertEquals(window, server.replayWindow().snapshot(), "the window did not move");
    }

    @Test
    void OSC_15_aClosedClientContextNeitherProtectsNorVerifies() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(get("a"), client.protector());
        RequestIdentifiers served = p.unprotectRequest(onWire(pr.wire()), new InMemoryContextDb().add(server)).identifiers();
        Response answer = onWire(p.protectResponse(content("ok"), served));
        client.close();
        assertNoSecrets(assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(get("b"), client.protector())));
        assertNoSecrets(assertThrows(OscoreException.ContextNotFound.class, () -> p.unprotectResponse(answer, pr.identifiers())));
    }
}
