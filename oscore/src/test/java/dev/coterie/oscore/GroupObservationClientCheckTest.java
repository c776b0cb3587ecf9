package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.junit.jupiter.api.Test;

/**
 * The client's checks of an informative response before it joins (digest 6.4): each unusable
 * one is a Withdraw, and the same response with that one defect removed is accepted.
 */
class GroupObservationClientCheckTest {
    private static final OptionRegistry REG = ExtensionOptionRegistry.defaults().californiumRegistry();
    private static final int CF = InformativeResponse.DEFAULT_CONTENT_FORMAT;

    private static Request own(String path) {
        Request r = new Request(CoAP.Code.GET);
        r.getOptions().setObserve(0).addUriPath(path);
        return r;
    }

    private static TpInfo tp() throws Exception {
        return TpInfo.udp(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 5683),
                new InetSocketAddress(InetAddress.getByName("224.0.1.189"), 5683), Hex.decode("0102030405060708"));
    }

    private static Response last(boolean observe) {
        Response n = new Response(CoAP.ResponseCode.CONTENT);
        if (observe) {
            n.getOptions().setObserve(7);
        }
        n.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        n.setPayload("on");
        return n;
    }

    private static Response informative(byte[] payload) {
        Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        r.getOptions().setContentFormat(CF).setMaxAge(0);
        r.setPayload(payload);
        return r;
    }

    private static Response good() throws Exception {
        return informative(InformativeResponse.of(tp(), TransportIndependent.encode(own("alarm")),
                TransportIndependent.encode(last(true))).encode());
    }

    @Test
    void aValidInformativeResponseIsAccepted_phantomTokenAndLastNotifTaken() throws Exception {
        GroupObservationClient.Parsed p = GroupObservationClient.check(good(), own("alarm"), CF, REG);
        assertEquals(tp(), p.tp());
        assertEquals("on", p.last().getPayloadString());
        assertEquals(7, p.last().getOptions().getObserve());
        assertTrue(TransportIndependent.same(own("alarm"), p.phantom()));
        // ph_req absent: the phantom is the client's own request
        Response noPh = informative(InformativeResponse.of(tp(), null, null).encode());
        assertTrue(TransportIndependent.same(own("alarm"), GroupObservationClient.check(noPh, own("alarm"), CF, REG).phantom()));
    }

    @Test
    void unusableInformativeResponsesAreWithdrawnFrom() throws Exception {
        byte[] ok = good().getPayload();
        Response truncated = informative(java.util.Arrays.copyOf(ok, ok.length - 1));
        Response otherFormat = good();
        otherFormat.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_CBOR);
        Response withObserve = good();
        withObserve.getOptions().setObserve(1);
        Response notA503 = good();
        Response a205 = new Response(CoAP.ResponseCode.CONTENT);
        a205.setOptions(notA503.getOptions());
        a205.setPayload(ok);
        TpInfo serverOnly = new TpInfo(tp().server(), null, null, false);
        Response noListen = informative(InformativeResponse.of(serverOnly, null, null).encode());
        Response unicastGroup = informative(InformativeResponse.of(TpInfo.udp(tp().server(),
                new InetSocketAddress(InetAddress.getByName("192.0.2.9"), 5683), Hex.decode("01")), null, null).encode());
        Response otherResource = informative(InformativeResponse.of(tp(), TransportIndependent.encode(own("door")), null)
                .encode());
        Response lastWithoutObserve = informative(InformativeResponse.of(tp(), null, TransportIndependent.encode(last(false)))
                .encode());
        Response phReqAResponse = informative(InformativeResponse.of(tp(), TransportIndependent.encode(last(true)), null)
                .encode());
        for (Response bad : new Response[] {truncated, otherFormat, withObserve, a205, noListen, unicastGroup, otherResource,
            lastWithoutObserve, phReqAResponse}) {
            assertThrows(GroupObservationClient.Withdraw.class, () -> GroupObservationClient.check(bad, own("alarm"), CF, REG),
                    bad.toString());
        }
    }
}
