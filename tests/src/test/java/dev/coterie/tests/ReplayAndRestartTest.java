package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.ProtectionPipeline.ProtectedRequest;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSC-16 and ECHO-02/03 over the wire: replays, CON retransmissions, and a server restarted
 * from its state directory after a clean stop and after a crash (RFC 8613 Appendix B.1.2).
 */
class ReplayAndRestartTest {
    private final ProtectionPipeline protection = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    @TempDir
    Path dir;

    private ProtectedRequest hello(OscoreContext client, int mid, InetSocketAddress server) throws Exception {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(mid);
        r.setToken(new byte[] {(byte) mid});
        r.getOptions().setUriPath("hello");
        r.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(server));
        return protection.protectRequest(r, client.protector());
    }

    private static void assertUnprotected401(Response r, String diagnostic) {
        assertNotNull(r, "expected 4.01 " + diagnostic + ", got silence");
        assertEquals(ResponseCode.UNAUTHORIZED, r.getCode());
        assertEquals(diagnostic, r.getPayloadString());
        assertEquals(0L, r.getOptions().getMaxAge());
        assertNull(r.getOptions().getOscore(), "OSCORE errors are unprotected");
    }

    @Test
    void OSC_16_capturedRequestReplayedFromAnotherEndpointGets401ReplayDetected() throws Exception {
        OscoreContext client = Rfc8613Contexts.C1.client(null);
        try (CoterieServer server = new CoterieServer(Rfc8613Contexts.C1.server(dir.resolve("s")), TestConfig.standard());
             RawPeer victim = new RawPeer(); RawPeer attacker = new RawPeer()) {
            ProtectedRequest p = hello(client, 7, server.address());
            byte[] wire = RawPeer.bytes(p.wire());
            Response first = (Response) victim.exchange(server.address(), wire, 2000);
            assertEquals(ResponseCode.CHANGED, first.getCode(), "outer 2.04");
            assertEquals("Hello World!", protection.unprotectResponse(first, p.identifiers()).plain().getPayloadString());
            assertUnprotected401((Response) attacker.exchange(server.address(), wire, 2000), "Replay detected");
        }
    }

    @Test
    void retransmittedConFromTheSameEndpointIsDeduplicatedNotAReplay() throws Exception {
        OscoreContext client = Rfc8613Contexts.C1.client(null);
        try (CoterieServer server = new CoterieServer(Rfc8613Contexts.C1.server(null), TestConfig.standard());
             RawPeer peer = new RawPeer()) {
            byte[] wire = RawPeer.bytes(hello(client, 9, server.address()).wire());
            byte[] first = raw(peer, server.address(), wire);
            byte[] again = raw(peer, server.address(), wire);
            assertArrayEquals(first, again, "the deduplicator answers with the same protected response");
            assertTrue(server.events.stream().noneMatch(e -> e.startsWith("REJECTED")), server.events.toString());
        }
    }

    private static byte[] raw(RawPeer peer, InetSocketAddress to, byte[] data) throws Exception {
        peer.send(to, data);
        byte[] r = peer.receiveRaw(2000);
        assertNotNull(r);
        return r;
    }

    @Test
    void B_1_2_cleanRestartKeepsTheWindowAndRejectsOldNumbers() throws Exception {
        OscoreContext client = Rfc8613Contexts.C1.client(null);
        Path state = dir.resolve("server");
        byte[] old;
        int port;
        try (CoterieServer server = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard());
             RawPeer peer = new RawPeer()) {
            port = server.address().getPort();
            old = RawPeer.bytes(hello(client, 1, server.address()).wire());
            assertEquals(ResponseCode.CHANGED, ((Response) peer.exchange(server.address(), old, 2000)).getCode());
            for (int i = 2; i < 6; i++) {
                peer.exchange(server.address(), RawPeer.bytes(hello(client, i, server.address()).wire()), 2000);
            }
        } // close(): windows persisted, state marked clean
        try (CoterieServer again = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard(), port);
             RawPeer attacker = new RawPeer()) {
            assertUnprotected401((Response) attacker.exchange(again.address(), old, 2000), "Replay detected");
            Response fresh = (Response) attacker.exchange(again.address(),
                    RawPeer.bytes(hello(client, 50, again.address()).wire()), 2000);
            assertEquals(ResponseCode.CHANGED, fresh.getCode(), "new numbers still work");
        }
    }

    @Test
    void ECHO_02_afterACrashTheServerChallengesWithEchoAndTheClientRecovers() throws Exception {
        Path state = dir.resolve("server");
        OscoreContext client = Rfc8613Contexts.C1.client(dir.resolve("client"));
        byte[] old;
        int port;
        ProtectedRequest oldRequest;
        Response original;
        CoterieServer server = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard());
        port = server.address().getPort();
        try (RawPeer peer = new RawPeer()) {
            oldRequest = hello(client, 1, server.address());
            old = RawPeer.bytes(oldRequest.wire());
            original = (Response) peer.exchange(server.address(), old, 2000);
        }
        server.crash(); // no close(): the replay window cannot be trusted after restart
        assertEquals(0, original.getOptions().getOscore().length, "the original response reused the request nonce");

        try (CoterieServer restarted = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard(), port);
             RawPeer attacker = new RawPeer()) {
            // the old request decrypts, but the server cannot know it is fresh: 4.01 with an inner Echo, not processed
            Response challenge = (Response) attacker.exchange(restarted.address(), old, 2000);
            assertEquals(ResponseCode.CHANGED, challenge.getCode(), "protected: outer 2.04");
            // issue 6 defect 1: the challenge was sealed with the request nonce again, the key and nonce of the
            // original response; RFC 8613 Appendix B.1.2 requires the server's own Partial IV
            OscoreOptionValue o = OscoreOptionValue.decode(challenge.getOptions().getOscore(), false);
            assertNotNull(o.partialIv(), "the Echo challenge carries the server's own Partial IV");
            Response inner = protection.unprotectResponse(challenge, oldRequest.identifiers()).plain();
            assertEquals(ResponseCode.UNAUTHORIZED, inner.getCode());
            assertTrue(inner.getOptions().getOthers().stream().anyMatch(x -> x.getNumber() == 252), "with an inner Echo");
            assertTrue(restarted.events.stream().noneMatch(e -> e.startsWith("REQUEST_VERIFIED")), "not processed");

            // a real client repeats its request with the Echo value and gets its answer
            CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .configuration(TestConfig.standard()).clientBinding(new ClientContextBinding().endpointDefault(client)).build();
            CoapClient c = new CoapClient(restarted.uri("hello")).setEndpoint(ep).setTimeout(5000L);
            try {
                CoapResponse r = c.get();
                assertNotNull(r);
                assertEquals(ResponseCode.CONTENT, r.getCode());
                assertEquals("Hello World!", r.getResponseText());
            } finally {
                c.shutdown();
                ep.destroy();
            }
            assertTrue(restarted.events.stream().anyMatch(e -> e.contains("Echo challenge")), restarted.events.toString());
            assertTrue(restarted.events.stream().anyMatch(e -> e.startsWith("REQUEST_VERIFIED")));

            // the window is valid again and counts everything up to the Echo request as used
            // (a new source endpoint, or the deduplicator would just repeat its cached answer)
            try (RawPeer another = new RawPeer()) {
                assertUnprotected401((Response) another.exchange(restarted.address(), old, 2000), "Replay detected");
            }
        }
    }

    @Test
    void ECHO_03_echoTravelsInsideTheProtectedMessage() throws Exception {
        Path state = dir.resolve("server");
        OscoreContext client = Rfc8613Contexts.C1.client(null);
        CoterieServer first = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard());
        int port = first.address().getPort();
        first.crash();
        try (CoterieServer restarted = new CoterieServer(Rfc8613Contexts.C1.server(state), TestConfig.standard(), port);
             RawPeer peer = new RawPeer()) {
            ProtectedRequest p = hello(client, 3, restarted.address());
            Response challenge = (Response) peer.exchange(restarted.address(), RawPeer.bytes(p.wire()), 2000);
            assertTrue(challenge.getOptions().getOthers().stream().noneMatch(o -> o.getNumber() == 252), "no outer Echo");
            Response inner = protection.unprotectResponse(challenge, p.identifiers()).plain();
            assertEquals(ResponseCode.UNAUTHORIZED, inner.getCode());
            Option echo = inner.getOptions().getOthers().stream().filter(o -> o.getNumber() == 252).findFirst().orElseThrow();
            assertTrue(echo.getLength() >= 1 && echo.getLength() <= 40, "ECHO-01 length 1..40");
        }
    }
}
