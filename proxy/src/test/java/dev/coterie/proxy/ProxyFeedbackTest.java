package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.FeedbackAnswer;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.junit.jupiter.api.Test;

/**
 * MNP-07 at the proxy next to the server, over loopback: the answer the proxy sends on its own
 * for its ticket clients when an unprotected notification carries Feedback-Divider, and none for
 * a protected phantom (the option is inner there and each client answers itself).
 */
class ProxyFeedbackTest {
    private static final int FD = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number();

    private static Request phantom() {
        Request ph = new Request(CoAP.Code.GET);
        ph.getOptions().setObserve(0).addUriPath("alarm");
        ph.setToken(Token.fromProvider(Hex.decode("7b")));
        return ph;
    }

    @Test
    void MNP_07_theProxyAnswersForItsTicketClients_oneNonGetToTheServer_bytes() throws Exception {
        try (DatagramSocket server = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            server.setSoTimeout(5000);
            FeedbackAnswer a = ProxyFeedback.answer(phantom(), (InetSocketAddress) server.getLocalSocketAddress(), FD, 0);
            assertNotNull(a);
            try {
                a.accept(0); // the draw said answer (GroupObservationClient's), no Leisure
                byte[] buf = new byte[512];
                DatagramPacket d = new DatagramPacket(buf, buf.length);
                server.receive(d);
                byte[] b = Arrays.copyOf(buf, d.getLength());
                int tkl = b[0] & 0x0f;
                assertEquals(0x50, b[0] & 0xf0, "version 1, NON: " + Hex.encode(b));
                assertEquals(0x01, b[1], "GET");
                assertEquals(8, tkl, "a fresh 8-byte Token, not the phantom's");
                // Observe 0 (empty), Uri-Path "alarm", Feedback-Divider 18 empty (delta 7), No-Response 258 = 26
                assertEquals("60" + "55616c61726d" + "70" + "d1e31a", Hex.encode(Arrays.copyOfRange(b, 4 + tkl, b.length)));
                long end = System.nanoTime() + 5_000_000_000L; // bounded: sent() counts once send returned
                while (a.sent() == 0 && System.nanoTime() < end) {
                    Thread.sleep(10);
                }
                assertEquals(1, a.sent());
            } finally {
                a.close();
            }
        }
    }

    @Test
    void MNP_07_protectedPhantom_theProxyNeverAnswers() {
        Request ph = phantom();
        ph.getOptions().setOscore(Hex.decode("0901"));
        assertNull(ProxyFeedback.answer(ph, new InetSocketAddress("127.0.0.1", 5683), FD, 0),
                "the option is inner in a protected group observation: no unprotected answer from the proxy");
        FeedbackAnswer control = ProxyFeedback.answer(phantom(), new InetSocketAddress("127.0.0.1", 5683), FD, 0);
        assertNotNull(control, "control: the unprotected phantom gets one");
        control.close();
    }

    private static Request confirmation() {
        Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
        r.getOptions().setObserve(0).addUriPath("alarm").setNoResponse(FeedbackAnswer.NO_RESPONSE_ALL);
        r.getOptions().addOption(new org.eclipse.californium.core.coap.Option(FD, new byte[0]));
        return r;
    }

    @Test
    void MNP_07_onlyAConfirmationShapedRequestBypassesTheObserveRelayAndTheCache() {
        // control: exactly what FeedbackAnswer sends, and its one-zero-byte form
        assertEquals(true, Forwarder.isFeedbackConfirmation(confirmation(), FD));
        Request zeroByte = confirmation();
        zeroByte.getOptions().clearOtherOption(FD);
        zeroByte.getOptions().addOption(new org.eclipse.californium.core.coap.Option(FD, new byte[] {0}));
        assertEquals(true, Forwarder.isFeedbackConfirmation(zeroByte, FD));
        // the option alone is not enough: every other shape takes the ordinary path
        Request value1 = confirmation();
        value1.getOptions().clearOtherOption(FD);
        value1.getOptions().addOption(new org.eclipse.californium.core.coap.Option(FD, new byte[] {1}));
        assertEquals(false, Forwarder.isFeedbackConfirmation(value1, FD), "Feedback-Divider 1 is no confirmation");
        Request post = new Request(CoAP.Code.POST, CoAP.Type.NON);
        post.setOptions(confirmation().getOptions());
        assertEquals(false, Forwarder.isFeedbackConfirmation(post, FD), "a POST");
        Request observe1 = confirmation();
        observe1.getOptions().setObserve(1);
        assertEquals(false, Forwarder.isFeedbackConfirmation(observe1, FD), "a deregistration");
        Request noObserve = confirmation();
        noObserve.getOptions().removeObserve();
        assertEquals(false, Forwarder.isFeedbackConfirmation(noObserve, FD), "without Observe");
        Request noNoResponse = confirmation();
        noNoResponse.getOptions().removeNoResponse();
        assertEquals(false, Forwarder.isFeedbackConfirmation(noNoResponse, FD), "without No-Response 26");
        Request without = confirmation();
        without.getOptions().clearOtherOption(FD);
        assertEquals(false, Forwarder.isFeedbackConfirmation(without, FD), "without the option");
    }
}
