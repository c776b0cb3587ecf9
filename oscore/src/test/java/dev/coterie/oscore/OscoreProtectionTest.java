package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecurityStateStore;
import java.util.List;
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

/** Message transformation checks of RFC 8613 Sections 4 and 8, through the one pipeline. */
class OscoreProtectionTest {
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    static Request get(String path) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(1);
        r.setToken(new byte[] {1, 2});
        r.getOptions().setUriHost("localhost").setUriPort(5683).setUriPath(path);
        return r;
    }

    static Request onWire(Request r) {
        return (Request) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }

    static Response onWire(Response r) {
        return (Response) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(r));
    }

    private ProtectionPipeline.ProtectedRequest protect(Request r, OscoreContext c) throws OscoreException {
        return p.protectRequest(r, c.protector());
    }

    private ProtectionPipeline.Unprotected<Request> verify(Request wire, OscoreContext server) throws Exception {
        return p.unprotectRequest(onWire(wire), new InMemoryContextDb().add(server));
    }

    private static Response content(String payload) {
        Response plain = new Response(ResponseCode.CONTENT);
        plain.setType(Type.ACK);
        plain.setMID(1);
        plain.setToken(new byte[] {1, 2});
        plain.setPayload(payload);
        return plain;
    }

    @Test
    void OSC_11_outerCodeIsPostAndFetchWithObserve() throws Exception {
        OscoreContext c = TestContexts.client();
        assertEquals(Code.POST, protect(get("a"), c).wire().getCode());
        Request obs = get("a");
        obs.setObserve();
        Request pr = protect(obs, c).wire();
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
        Request pr = protect(r, TestContexts.client()).wire();
        assertEquals("localhost", pr.getOptions().getUriHost());
        assertEquals(5683, pr.getOptions().getUriPort());
        assertEquals(0, pr.getOptions().getUriPath().size());
        assertFalse(pr.getOptions().hasContentFormat());
        assertFalse(pr.getOptions().hasAccept());
        assertEquals(0, pr.getOptions().getUriQuery().size());
        assertEquals(0, pr.getOptions().getETagCount());
        Request v = verify(pr, TestContexts.server()).plain();
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
        r.getOptions().setProxyUri("coap://sensor.example:61616/a/b?x=1");
        Request pr = protect(r, TestContexts.client()).wire();
        assertEquals("coap://sensor.example:61616", pr.getOptions().getProxyUri());
        Request v = verify(pr, TestContexts.server()).plain();
        assertEquals("a/b", v.getOptions().getUriPathString());
        assertEquals("x=1", v.getOptions().getUriQueryString());
    }

    /** Issue 6 defect 6: the old split decoded first, so a%2Fb/c?x=1%262 targeted a/b/c with queries x=1 and 2. */
    @Test
    void RFC7252_6_4_proxyUriIsSplitAtDelimitersBeforePercentDecoding() throws Exception {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(2);
        r.setToken(new byte[] {2});
        r.getOptions().setProxyUri("coap://Sensor.Example:5683/a%2Fb/c?x=1%262");
        Request pr = protect(r, TestContexts.client()).wire();
        assertEquals("coap://sensor.example", pr.getOptions().getProxyUri(), "RFC 7252 6.5: lowercase host, default port elided");
        Request v = verify(pr, TestContexts.server()).plain();
        assertEquals(List.of("a/b", "c"), v.getOptions().getUriPath());
        assertEquals(List.of("x=1&2"), v.getOptions().getUriQuery());
    }

    @Test
    void RFC7252_6_4_aProxyUriWithAFragmentIsRefused() throws Exception {
        Request r = get("x");
        r.getOptions().removeUriHost().removeUriPort().clearUriPath().setProxyUri("coap://h.example/p#frag");
        OscoreException e = assertThrows(OscoreException.ProtectionRefused.class, () -> protect(r, TestContexts.client()));
        assertTrue(e.getMessage().contains("fragment"));
        // positive control: the same URI without the fragment is protected
        Request ok = get("x");
        ok.getOptions().removeUriHost().removeUriPort().clearUriPath().setProxyUri("coap://h.example/p");
        assertEquals("coap://h.example", assertDoesNotThrow(ok).getOptions().getProxyUri());
    }

    private Request assertDoesNotThrow(Request r) {
        try {
            return protect(r, TestContexts.client()).wire();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void RFC7252_6_4_emptyQueryTrailingSlashAndEmptyArguments() throws Exception {
        // DELIBERATE DEVIATION from the issue text ("a bare ? must not make an empty Uri-Query"), kept after review A
        // (M3): RFC 3986 tells an empty query ("...?") from an absent one, RFC 7252 Section 6.4 step 8 makes one
        // Uri-Query per argument of a present query, and the CoRE WG's corrections and clarifications draft (corr-clar)
        // reads "coap://authority/?" as one Uri-Query option carrying an empty value. Dropping it would make
        // "/p?" and "/p" the same resource on the wire, and Section 6.5 could not recompose what the client sent.
        assertEquals(List.of(""), split("coap://h.example/p?").uriQuery().stream().map(Option::getStringValue).toList());
        assertEquals(List.of("a", "", "b"), split("coap://h.example/p?a&&b").uriQuery().stream().map(Option::getStringValue).toList());
        assertEquals(List.of(), split("coap://h.example/p").uriQuery());
        assertEquals(List.of(), split("coap://h.example/").uriPath());
        assertEquals(List.of("foo", ""), split("coap://h.example/foo/").uriPath().stream().map(Option::getStringValue).toList());
        assertEquals("coap://[2001:db8::1]:61616", split("coap://[2001:DB8::1]:61616/x").outerProxyUri());
        assertThrows(IllegalArgumentException.class, () -> split("coap://h.example/%zz"));
        assertThrows(IllegalArgumentException.class, () -> split("coap://user@h.example/x"));
    }

    private static ProxyUriSplit.Parts split(String uri) {
        return ProxyUriSplit.split(uri);
    }

    @Test
    void OSC_11_receiverIgnoresOuterClassEOptions() throws Exception {
        Request pr = protect(get("real"), TestContexts.client()).wire();
        Request wire = onWire(pr);
        wire.getOptions().addUriPath("injected").setContentFormat(42);
        Request v = p.unprotectRequest(wire, new InMemoryContextDb().add(TestContexts.server())).plain();
        assertEquals("real", v.getOptions().getUriPathString());
        assertFalse(v.getOptions().hasContentFormat());
    }

    /** Issue 6 defect 9: outer Block2 and Echo were dropped on receipt; a proxy adds them hop by hop. */
    @Test
    void RFC8613_4_1_3_4_2_outerBlockAndEchoAreKeptApartAsHopByHopOptions() throws Exception {
        Request pr = protect(get("real"), TestContexts.client()).wire();
        Request wire = onWire(pr);
        wire.getOptions().setBlock2(2, false, 0).addOption(StandardOptionRegistry.ECHO.create(new byte[] {7, 7}));
        ProtectionPipeline.Unprotected<Request> u = p.unprotectRequest(wire, new InMemoryContextDb().add(TestContexts.server()));
        assertFalse(u.plain().getOptions().hasBlock2(), "an outer Block2 is not the application's inner one");
        assertFalse(u.plain().getOptions().hasOption(252));
        assertEquals(List.of(23, 252), u.hopByHop().stream().map(Option::getNumber).toList());
        // positive control: without outer options there are none
        assertEquals(List.of(), verify(protect(get("real"), TestContexts.client()).wire(), TestContexts.server()).hopByHop());
    }

    @Test
    void OSC_13_requestsCarryKidAndPartialIv() throws Exception {
        OscoreContext c = TestContexts.build(new byte[] {0x42}, new byte[] {1}, SecurityStateStore.inMemory());
        byte[] opt = protect(get("a"), c).wire().getOptions().getOscore();
        OscoreOptionValue v = OscoreOptionValue.decode(opt, false);
        assertArrayEquals(new byte[] {0x42}, v.kid());
        assertArrayEquals(new byte[] {0}, v.partialIv());
    }

    @Test
    void OSC_14_responseWithoutPartialIvReusesRequestNonceAndWithPartialIvUsesServerId() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        ProtectionPipeline.ProtectedRequest pr = protect(get("a"), client);
        RequestIdentifiers ids = verify(pr.wire(), server).identifiers();
        Response noPiv = p.protectResponse(content("hi"), ids);
        assertEquals(0, noPiv.getOptions().getOscore().length);
        assertEquals("hi", p.unprotectResponse(onWire(noPiv), pr.identifiers()).plain().getPayloadString());
        Response withPiv = p.protectResponse(content("hi"), ids);
        assertArrayEquals(Hex.decode("0100"), withPiv.getOptions().getOscore());
        Response got = p.unprotectResponse(onWire(withPiv), pr.identifiers()).plain();
        assertEquals(ResponseCode.CONTENT, got.getCode());
        assertEquals(ResponseCode.CHANGED, onWire(withPiv).getCode(), "outer 2.04");
    }

    /**
     * Issue 6 defect 3: whether a response reused the request nonce was the caller's boolean.
     * Now only the first response may, by construction: every later one (a second response a
     * proxy relays, an Echo challenge) draws the server's own Partial IV.
     */
    @Test
    void OCP_07_onlyTheFirstResponseToARequestReusesItsNonce() throws Exception {
        OscoreContext server = TestContexts.server();
        RequestIdentifiers ids = verify(protect(get("a"), TestContexts.client()).wire(), server).identifiers();
        byte[] first = p.protectResponse(content("1"), ids).getOptions().getOscore();
        byte[] second = p.protectResponse(content("2"), ids).getOptions().getOscore();
        byte[] third = p.protectResponse(content("3"), ids).getOptions().getOscore();
        assertEquals(0, first.length, "the first response reuses the request nonce");
        assertArrayEquals(Hex.decode("0100"), second);
        assertArrayEquals(Hex.decode("0101"), third);
        assertNull(ids.claimReusableNonce(), "the nonce can be claimed once only");
    }

    @Test
    void OSC_17_notificationsNeedFreshPartialIvsAndAreOrderedByThem() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        Request reg = get("obs");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest pr = protect(reg, client);
        RequestIdentifiers ids = verify(pr.wire(), server).identifiers();
        Response w1 = onWire(p.protectResponse(notification(5), ids));
        Response w2 = onWire(p.protectResponse(notification(6), ids));
        assertEquals(5, w1.getOptions().getObserve(), "outer Observe carries the server's value");
        assertEquals(ResponseCode.CONTENT, w1.getCode(), "outer 2.05 with Observe");
        assertArrayEquals(Hex.decode("0100"), w1.getOptions().getOscore(), "the first notification has its own Partial IV too");
        Response d2 = p.unprotectResponse(w2, pr.identifiers()).plain();
        assertTrue(d2.getOptions().hasObserve());
        assertThrows(OscoreException.Replay.class, () -> p.unprotectResponse(w1, pr.identifiers()),
                "the older one is not delivered (see NotificationOrderRegressionTest)");
        assertThrows(OscoreException.Replay.class, () -> p.unprotectResponse(w2, pr.identifiers()));
    }

    @Test
    void OSC_17_innerObserveOfANotificationIsEmpty() throws Exception {
        OscoreContext client = TestContexts.client();
        Request reg = get("obs");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest pr = protect(reg, client);
        RequestIdentifiers ids = verify(pr.wire(), TestContexts.server()).identifiers();
        Response w = p.protectResponse(notification(77), ids);
        // decrypt by hand with the client's recipient key and look at the raw inner option
        OscoreOptionValue o = OscoreOptionValue.decode(w.getOptions().getOscore(), false);
        byte[] nonce = Nonce.build(client.commonIvRaw(), 13, client.recipientIdRaw(), o.partialIv());
        byte[] aad = ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(client.algorithmsCbor(),
                client.senderIdRaw(), pr.identifiers().partialIv(), new byte[0]));
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
        ProtectionPipeline.ProtectedRequest pr = protect(get("a"), TestContexts.client());
        RequestIdentifiers ids = verify(pr.wire(), TestContexts.server()).identifiers();
        Response w = onWire(p.protectResponse(notification(3), ids));
        assertThrows(OscoreException.DecodeFailure.class, () -> p.unprotectResponse(w, pr.identifiers()));
    }

    @Test
    void OSC_18_responseToObserveRequestWithoutObserveIsAPlainResponse() throws Exception {
        Request reg = get("obs");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest pr = protect(reg, TestContexts.client());
        RequestIdentifiers ids = verify(pr.wire(), TestContexts.server()).identifiers();
        Response plain = new Response(ResponseCode.NOT_FOUND);
        plain.setType(Type.ACK);
        plain.setMID(1);
        plain.setToken(new byte[] {1, 2});
        Response d = p.unprotectResponse(onWire(p.protectResponse(plain, ids)), pr.identifiers()).plain();
        assertEquals(ResponseCode.NOT_FOUND, d.getCode());
        assertFalse(d.getOptions().hasObserve());
    }

    @Test
    void OSC_19_refusesToProtectAMessageThatAlreadyCarriesOscore() throws Exception {
        Request r = get("a");
        r.getOptions().setOscore(new byte[0]);
        assertThrows(OscoreException.ProtectionRefused.class, () -> protect(r, TestContexts.client()));
    }

    @Test
    void OSC_15_exhaustedSequenceNumbersRefuseToProtect() throws Exception {
        OscoreContext c = TestContexts.builder(new byte[0], new byte[] {1}, SecurityStateStore.inMemoryStartingAt((1L << 40) - 1))
                .keyUsageLimits(false).build();
        protect(get("a"), c);
        assertThrows(OscoreException.ProtectionRefused.class, () -> protect(get("a"), c));
    }

    /** Issue 6 defect 9: the AEAD usage limits were never enforced. q = 2^20 for AES-CCM-16-64-128 (key-limits draft). */
    @Test
    void keyLimits_theSenderKeyProtectsNoMoreThanQMessages() throws Exception {
        long q = 1L << 20;
        OscoreContext c = TestContexts.build(new byte[0], new byte[] {1}, SecurityStateStore.inMemoryStartingAt(q - 1));
        OscoreOptionValue last = OscoreOptionValue.decode(protect(get("a"), c).wire().getOptions().getOscore(), false);
        assertEquals(q - 1, SealingNonce.toLong(last.partialIv()), "positive control: number q-1 is the last one");
        OscoreException e = assertThrows(OscoreException.ProtectionRefused.class, () -> protect(get("a"), c));
        assertTrue(e.getMessage().contains("exhausted"), e.getMessage());
    }

    /** The integrity limit v: after v failed decryptions the Recipient Key decrypts nothing more, not even a valid request. */
    @Test
    void keyLimits_theRecipientKeyIsRefusedAfterVFailedDecryptions() throws Exception {
        OscoreContext server = TestContexts.server();
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        OscoreContext client = TestContexts.client();
        long v = dev.coterie.keystore.AeadAlgorithm.AES_CCM_16_64_128.integrityLimit();
        for (long i = 0; i < v; i++) {
            Request forged = onWire(protect(get("a"), client).wire());
            forged.setPayload(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
            assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(forged, db));
        }
        Request valid = onWire(protect(get("a"), client).wire());
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(valid, db));
        assertTrue(e.getMessage().contains("integrity limit"), e.getMessage());
        // positive control: the same valid request at a fresh server context is accepted
        assertEquals("a", p.unprotectRequest(onWire(valid), new InMemoryContextDb().add(TestContexts.server())).plain()
                .getOptions().getUriPathString());
    }

    @Test
    void OSC_20_errorResponsesAreUnprotectedWithMaxAge0() {
        Request r = get("a");
        Response e = ProtectionPipeline.errorResponse(new OscoreException.Replay("x"), r);
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
        Request pr = protect(r, TestContexts.client()).wire();
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
        Request pr = protect(r, TestContexts.client()).wire();
        assertFalse(pr.getOptions().hasNoResponse(), "No-Response is class E");
        Request v = verify(pr, TestContexts.server()).plain();
        assertEquals(26, v.getOptions().getNoResponse().getMask());

        Request wire = onWire(protect(get("b"), TestContexts.client()).wire());
        wire.getOptions().setNoResponse(26); // an outer copy added on the way
        Request v2 = p.unprotectRequest(wire, new InMemoryContextDb().add(TestContexts.server())).plain();
        assertFalse(v2.getOptions().hasNoResponse(), "the server ignores the outer No-Response");
    }

    @Test
    void echoOptionIsInner() throws Exception {
        Request r = get("a");
        r.getOptions().addOption(StandardOptionRegistry.ECHO.create(new byte[] {1, 2, 3}));
        Request pr = protect(r, TestContexts.client()).wire();
        assertFalse(pr.getOptions().hasOption(252));
    }
}
