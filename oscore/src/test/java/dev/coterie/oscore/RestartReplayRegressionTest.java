package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.SecurityStateStore;
import java.nio.file.Path;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 8613 Appendix B.1.2, OSC-14 and OSC-16 end to end (review A, finding C1): a server that
 * crashed and was then stopped cleanly before any client came back must still challenge a
 * replayed old request with Echo. Answering it would seal a second response under the first
 * one's (key, nonce): the request nonce of a response without Partial IV.
 */
class RestartReplayRegressionTest {
    @TempDir
    Path dir;
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static Request parse(byte[] datagram) {
        return (Request) new UdpDataParser().parseMessage(datagram);
    }

    private Response answer(Request wire, OscoreContext server, String text) throws Exception {
        ProtectionPipeline.Unprotected<Request> u = p.unprotectRequest(wire, new InMemoryContextDb().add(server));
        Response plain = new Response(ResponseCode.CONTENT);
        plain.setType(Type.ACK);
        plain.setMID(wire.getMID());
        plain.setToken(wire.getToken());
        plain.setPayload(text);
        return p.protectResponse(plain, u.identifiers());
    }

    @Test
    void B_1_2_aReplayAfterACrashAndACleanStopIsChallengedNotAnswered() throws Exception {
        OscoreContext client = TestContexts.client();
        Request get = new Request(Code.GET, Type.CON);
        get.setMID(7);
        get.setToken(new byte[] {7});
        get.getOptions().setUriPath("temp");
        byte[] recorded = new UdpDataSerializer().getByteArray(p.protectRequest(get, client.protector()).wire());

        SecurityStateStore store = SecurityStateStore.open(dir, 16);
        OscoreContext s1 = TestContexts.build(new byte[] {1}, new byte[0], store);
        Response r1 = answer(parse(recorded), s1, "21.5 C");
        assertEquals(0, r1.getOptions().getOscore().length, "the first response reuses the request nonce");
        s1.state().abandon(); // the server crashes

        OscoreContext s2 = TestContexts.build(new byte[] {1}, new byte[0], store);
        assertFalse(s2.replayWindow().isValid(), "after the crash the window is invalid");
        assertThrows(ProtectedAnswerRequired.class, () -> p.unprotectRequest(parse(recorded), new InMemoryContextDb().add(s2)),
                "positive control: a replay now gets the Echo challenge");
        s2.close(); // the operator stops the server cleanly; no client came back meanwhile

        OscoreContext s3 = TestContexts.build(new byte[] {1}, new byte[0], store);
        assertFalse(s3.replayWindow().isValid(), "still invalid after the clean stop: " + s3.replayWindow().snapshot());
        ProtectedAnswerRequired challenge = assertThrows(ProtectedAnswerRequired.class,
                () -> answer(parse(recorded), s3, "99.9 C"), "the replayed request must not be processed");
        assertNotNull(challenge.echo(), "it gets the Echo challenge instead");
    }
}
