package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecurityStateStore;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.Test;

/** Message transformation checks of RFC 8613 Sections 4 and 8. */
class OscoreProtectionTest {
    private final OscoreProtection p = new OscoreProtection(ExtensionOptionRegistry.defaults());

    private static Request get(String path) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(1);
        r.setToken(new byte[] {1, 2});
        r.getOptions().setUriHost("localhost").setUriPort(5683).setUriPath(path);
        return r;
    }

    private static Request onWire(Request r) {
        return (Request) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }

    private static Response onWire(Response r) {
        return (Response) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }

    @Test
    void OSC_11_outerCodeIsPostAndFetchWithObserve() throws Exception {
        OscoreContext c = TestContexts.client();
        assertEquals(Code.POST, p.protectRequest(get("a"), c).getCode());
        Request obs = get("a");
        obs.setObserve();
        ProtectedRequest pr = p.protectRequest(obs, c);
        assertEquals(Code.FETCH, pr.getCode());
        assertEquals(0, pr.getOptions().getObserve(), "outer Observe mirrors the inner one in requests");
    }

    @Test
    void OSC_12_classUStaysOuterAndClassEGoesInside() throws Exception {
        Request r = new Request(Code.POST, Type.CON);
        r.setMID(3);
        r.setToken(new byte[] {3});
        r.getOptions().setUriHost("localhost").setUriPort(5683).setUriPath("temp");
        r.getOptions().setContentFormat(0).setAccept(50).addUriQuery("u=C").addETag(new byte[] {9});
        r.setPayload("x");
        ProtectedRequest pr = p.protectRequest(r, TestContexts.client());
        assertEquals("localhost", pr.getOptions().getUriHost());
        assertEquals(5683, pr.getOptions().getUriPort());
        assertEquals(0, pr.getOptions().getUriPath().size());
        assertFalse(pr.getOptions().hasContentFormat());
        assertFalse(pr.getOptions().hasAccept());
        assertEquals(0, pr.getOptions().getUriQuery().size());
        assertEquals(0, pr.getOptions().getETagCount());
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        assertEquals(Code.POST, v.getCode());
        assertEquals("temp", v.getOptions().getUriPathString());
        assertEquals("u=C", v.getOptions().getUriQueryString());
        assertEquals(50, v.getOptions().getAccept());
        assertEquals("x", v.getPayloadString());
        assertEquals("localhost", v.getOptions().getUriHost());
    }

    @Test
    void OSC_12_proxyUriIsSplitIntoOuterAuthorityAndInnerPathAndQuery() throws Exception {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(2);
        r.setToken(new byte[] {2});
        r.getOptions().setProxyUri("coap://sensor.example:5683/a/b?x=1");
        ProtectedRequest pr = p.protectRequest(r, TestContexts.client());
        assertEquals("coap://sensor.example:5683", pr.getOptions().getProxyUri());
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        assertEquals("a/b", v.getOptions().getUriPathString());
        assertEquals("x=1", v.getOptions().getUriQueryString());
    }

    @Test
    void OSC_11_receiverIgnoresOuterClassEOptions() throws Exception {
        ProtectedRequest pr = p.protectRequest(get("real"), TestContexts.client());
        Request wire = onWire(pr);
        wire.getOptions().addUriPath("injected").setContentFormat(42);
        VerifiedRequest v = p.verifyRequest(wire, new InMemoryContextDb().add(TestContexts.server()));
        assertEquals("real", v.getOptions().getUriPathString());
        assertFalse(v.getOptions().hasContentFormat());
    }

    @Test
    void OSC_13_requestsCarryKidAndPartialIv() throws Exception {
        OscoreContext c = TestContexts.build(new byte[] {0x42}, new byte[] {1}, SecurityStateStore.inMemory());
        byte[] opt = p.protectRequest(get("a"), c).getOptions().getOscore();
        OscoreOptionValue v = OscoreOptionValue.decode(opt, false);
        assertArrayEquals(new byte[] {0x42}, v.kid());
        assertArrayEquals(new byte[] {0}, v.partialIv());
    }

    @Test
    void OSC_14_responseWithoutPartialIvReusesRequestNonceAndWithPartialIvUsesServerId() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        ProtectedRequest pr = p.protectRequest(get("a"), client);
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(server));
        Response plain = new Response(ResponseCode.CONTENT);
        plain.setType(Type.ACK);
        plain.setMID(1);
        plain.setToken(new byte[] {1, 2});
        plain.setPayload("hi");
        Response noPiv = p.protectResponse(plain, v.binding(), false);
        assertEquals(0, noPiv.getOptions().getOscore().length);
        assertEquals("hi", p.verifyResponse(onWire(noPiv), pr.binding()).getPayloadString());
        Response withPiv = p.protectResponse(plain, v.binding(), true);
        assertArrayEquals(Hex.decode("0100"), withPiv.getOptions().getOscore());
        Response got = p.verifyResponse(onWire(withPiv), pr.binding());
        assertEquals(ResponseCode.CONTENT, got.getCode());
        assertEquals(ResponseCode.CHANGED, onWire(withPiv).getCode(), "outer code 2.04");
    }

    @Test
    void OSC_17_notificationsNeedFreshPartialIvsAndAreOrderedByThem() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        Request reg = get("obs");
        reg.setObserve();
        ProtectedRequest pr = p.protectRequest(reg, client);
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(server));
        Response n1 = notification(5);
        Response n2 = notification(6);
        Response w1 = onWire(p.protectResponse(n1, v.binding(), false));
        Response w2 = onWire(p.protectResponse(n2, v.binding(), false));
        assertEquals(5, w1.getOptions().getObserve(), "outer Observe carries the server's value");
        assertEquals(ResponseCode.CONTENT, w1.getCode(), "outer 2.05 with Observe");
        Response d2 = p.verifyResponse(w2, pr.binding());
        Response d1 = p.verifyResponse(w1, pr.binding());
        assertTrue(d2.getOptions().getObserve() > d1.getOptions().getObserve(), "ordered by Partial IV");
        assertThrows(OscoreException.Replay.class, () -> p.verifyResponse(w2, pr.binding()));
    }

    @Test
    void OSC_17_innerObserveOfANotificationIsEmpty() throws Exception {
        OscoreContext client = TestContexts.client();
        Request reg = get("obs");
        reg.setObserve();
        ProtectedRequest pr = p.protectRequest(reg, client);
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        Response w = p.protectResponse(notification(77), v.binding(), false);
        // decrypt by hand with the client's recipient key and look at the raw inner option
        OscoreOptionValue o = OscoreOptionValue.decode(w.getOptions().getOscore(), false);
        byte[] nonce = client.nonce(client.recipientIdRaw(), o.partialIv());
        byte[] aad = OscoreProtection.aad(client, client.senderIdRaw(), pr.binding().requestPivRaw(), new byte[0]);
        byte[] pt = client.recipientKey().open(nonce, aad, w.getPayload());
        assertEquals(0x45, pt[0] & 0xff, "inner code 2.05");
        assertEquals(0x60, pt[1] & 0xff, "Observe (delta 6) with length 0");
    }

    private static Response notification(int observe) {
        Response n = new Response(ResponseCode.CONTENT);
        n.setType(Type.NON);
        n.setMID(100 + observe);
        n.setToken(new byte[] {1, 2});
        n.getOptions().setObserve(observe);
        n.setPayload("v" + observe);
        return n;
    }

    @Test
    void OSC_18_innerObserveInAResponseToANonObserveRequestIsRejected() throws Exception {
        ProtectedRequest pr = p.protectRequest(get("a"), TestContexts.client());
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        Response w = onWire(p.protectResponse(notification(3), v.binding(), false));
        assertThrows(OscoreException.DecodeFailure.class, () -> p.verifyResponse(w, pr.binding()));
    }

    @Test
    void OSC_18_responseToObserveRequestWithoutObserveIsAPlainResponse() throws Exception {
        Request reg = get("obs");
        reg.setObserve();
        ProtectedRequest pr = p.protectRequest(reg, TestContexts.client());
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        Response plain = new Response(ResponseCode.NOT_FOUND);
        plain.setType(Type.ACK);
        plain.setMID(1);
        plain.setToken(new byte[] {1, 2});
        Response d = p.verifyResponse(onWire(p.protectResponse(plain, v.binding(), false)), pr.binding());
        assertEquals(ResponseCode.NOT_FOUND, d.getCode());
        assertFalse(d.getOptions().hasObserve());
    }

    @Test
    void OSC_19_refusesToProtectAMessageThatAlreadyCarriesOscore() throws Exception {
        Request r = get("a");
        r.getOptions().setOscore(new byte[0]);
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(r, TestContexts.client()));
    }

    @Test
    void OSC_15_exhaustedSequenceNumbersRefuseToProtect() throws Exception {
        OscoreContext c = TestContexts.build(new byte[0], new byte[] {1},
                SecurityStateStore.inMemoryStartingAt((1L << 40) - 1));
        p.protectRequest(get("a"), c);
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(get("a"), c));
    }

    @Test
    void OSC_20_errorResponsesAreUnprotectedWithMaxAge0() {
        Request r = get("a");
        Response e = OscoreProtection.errorResponse(new OscoreException.Replay("x"), r);
        assertEquals(ResponseCode.UNAUTHORIZED, e.getCode());
        assertEquals("Replay detected", e.getPayloadString());
        assertEquals(0L, e.getOptions().getMaxAge());
        assertNull(e.getOptions().getOscore());
    }

    @Test
    void extensionOptionOfClassUStaysOuter() throws Exception {
        ExtensionOptionRegistry reg = ExtensionOptionRegistry.defaults();
        Request r = get("a");
        ExtensionOption mt = reg.byName(ExtensionOptionRegistry.MULTICAST_TIMEOUT);
        r.getOptions().addOption(new Option(reg.californiumRegistry().getDefinitionByNumber(mt.number()), new byte[] {5}));
        ProtectedRequest pr = p.protectRequest(r, TestContexts.client());
        assertTrue(pr.getOptions().hasOption(mt.number()));
    }

    @Test
    void registryNumbersAreOverridable() {
        ExtensionOptionRegistry reg = ExtensionOptionRegistry.defaults().with(ExtensionOptionRegistry.REQUEST_HASH, 65000);
        assertEquals(65000, reg.byName(ExtensionOptionRegistry.REQUEST_HASH).number());
        assertNull(reg.byNumber(548));
        assertThrows(IllegalArgumentException.class,
                () -> ExtensionOptionRegistry.defaults().with(ExtensionOptionRegistry.REQUEST_HASH, 11));
        assertThrows(IllegalArgumentException.class,
                () -> ExtensionOptionRegistry.defaults().with(ExtensionOptionRegistry.REQUEST_HASH, 2));
    }

    @Test
    void OSC_23_noResponseIsInnerAndAnOuterCopyIsIgnored() throws Exception {
        Request r = get("a");
        r.getOptions().setNoResponse(26);
        ProtectedRequest pr = p.protectRequest(r, TestContexts.client());
        assertFalse(pr.getOptions().hasNoResponse(), "No-Response is class E");
        VerifiedRequest v = p.verifyRequest(onWire(pr), new InMemoryContextDb().add(TestContexts.server()));
        assertEquals(26, v.getOptions().getNoResponse().getMask());

        ProtectedRequest plainOne = p.protectRequest(get("b"), TestContexts.client());
        Request wire = onWire(plainOne);
        wire.getOptions().setNoResponse(26); // an outer copy added on the way
        VerifiedRequest v2 = p.verifyRequest(wire, new InMemoryContextDb().add(TestContexts.server()));
        assertFalse(v2.getOptions().hasNoResponse(), "the server ignores the outer No-Response");
    }

    @Test
    void echoOptionIsInner() throws Exception {
        Request r = get("a");
        r.getOptions().addOption(StandardOptionRegistry.ECHO.create(new byte[] {1, 2, 3}));
        ProtectedRequest pr = p.protectRequest(r, TestContexts.client());
        assertFalse(pr.getOptions().hasOption(252));
    }
}
