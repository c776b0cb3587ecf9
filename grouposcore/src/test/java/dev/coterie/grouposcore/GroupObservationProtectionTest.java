package dev.coterie.grouposcore;

import static dev.coterie.grouposcore.TestGroup.wire;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.TpInfo;
import java.net.InetSocketAddress;
import org.eclipse.californium.elements.MapBasedEndpointContext;
import dev.coterie.oscore.GroupObservationSecurity.Phantom;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.SealingNonce;
import dev.coterie.oscore.TransportIndependent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Group OSCORE variant of group observations (observe-multicast-notifications Section 9,
 * digest 6.6): the phantom under the server's own Sender ID (OMN-10), notifications and the
 * cancellation bound to it (OMN-10, OMN-11), the client's verification without replay check,
 * and the server's own-kid rejection decided per exchange (GRP-23).
 */
class GroupObservationProtectionTest {
    private static final byte[] TOKEN = {0x7b, 1, 2, 3, 4, 5, 6, 7};
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    /** Server a1 (index 1 of the group) with its own database; client c1 with its own. */
    private static final class Setup {
        final TestGroup g;
        final GroupContext server;
        final GroupContextDb serverDb;
        final GroupContextDb clientDb;

        Setup(TestGroup g, GroupContext server) {
            this.g = g;
            this.server = server;
            this.serverDb = new GroupContextDb().add(server);
            this.clientDb = new GroupContextDb().add(g.client);
        }
    }

    private static Setup setup() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        return new Setup(g, g.servers.get(0));
    }

    private GroupObservationProtection serverSide(Setup s) {
        return new GroupObservationProtection(s.server, s.serverDb, p);
    }

    private GroupObservationProtection clientSide(Setup s) {
        return new GroupObservationProtection(s.g.client, s.clientDb, p);
    }

    /** The server a1 as the client's OSCORE layer names it after verifying its (pairwise) informative response. */
    private static OscorePeer peer(Setup s) {
        return new OscorePeer(ProtectionMode.PAIRWISE, s.g.name, s.server.senderId(), s.g.gid);
    }

    static Request plainPhantom() {
        Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
        r.setToken(TOKEN);
        r.getOptions().setUriPath("alarm").setObserve(0);
        return r;
    }

    /** What a client rebuilds from ph_req and tpi_token (digest 6.4 step 3). */
    static Request rebuilt(byte[] phReq) {
        Request r = TransportIndependent.request(phReq, ExtensionOptionRegistry.defaults().californiumRegistry(), "ph_req");
        r.setToken(TOKEN);
        r.setType(CoAP.Type.NON);
        return r;
    }

    static Response notification(String payload, int observe) {
        Response r = new Response(CoAP.ResponseCode.CONTENT);
        r.getOptions().setObserve(observe).setContentFormat(0);
        r.setPayload(payload);
        return r;
    }

    /** On the wire, as the client's socket receives it. */
    static Response multicast(Response protectedResponse) {
        protectedResponse.setType(CoAP.Type.NON);
        protectedResponse.setToken(TOKEN);
        protectedResponse.setMID(42);
        return wire(protectedResponse);
    }

    @Test
    void OMN_10_phantomProtectedWithServersOwnKidAndConsumedSsn(@TempDir Path dir) throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        // a persistent store reserving one number at a time: the Partial IV used must be on disk before the phantom exists
        GroupContext a1 = g.member(1, SecurityStateStore.open(dir, 1));
        Setup s = new Setup(g, a1);
        long before = a1.senderSequence().peek();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());

        assertEquals(before + 1, a1.senderSequence().peek(), "exactly one Sender Sequence Number consumed");
        byte[] piv = SealingNonce.partialIv(before);
        byte[] kid = a1.senderId();
        byte[] gid = g.gid;
        // flags: Group Flag 0x20, kid context 0x10, kid 0x08, n = Partial IV length; then PIV, s, kid context, kid
        byte[] expected = new byte[1 + piv.length + 1 + gid.length + kid.length];
        expected[0] = (byte) (0x20 | 0x10 | 0x08 | piv.length);
        System.arraycopy(piv, 0, expected, 1, piv.length);
        expected[1 + piv.length] = (byte) gid.length;
        System.arraycopy(gid, 0, expected, 2 + piv.length, gid.length);
        System.arraycopy(kid, 0, expected, 2 + piv.length + gid.length, kid.length);
        assertArrayEquals(expected, ph.wire().getOptions().getOscore(), "OSCORE option of the phantom");
        assertArrayEquals(new byte[] {(byte) 0xa1}, kid, "kid is the server's own Sender ID");

        byte[] phReq = TransportIndependent.encode(ph.wire());
        assertEquals(0x05, phReq[0] & 0xff, "ph_req's code is 0.05 FETCH (digest 6.6)");
        assertTrue(ph.wire().getOptions().getUriPath().isEmpty(), "Uri-Path is inside the ciphertext, not an outer option");
        int sigLen = g.algs.signature().signatureLength();
        assertTrue(ph.wire().getPayload().length > sigLen, "payload = ciphertext ‖ encrypted signature");

        // the server processed its own phantom (digest 6.1 step 3): it decrypts to the GET with Observe 0
        assertEquals(CoAP.Code.GET, ph.plain().getCode());
        assertEquals("alarm", ph.plain().getOptions().getUriPathString());
        assertEquals(0, ph.plain().getOptions().getObserve());
        assertArrayEquals(kid, ph.binding().kid());
        assertArrayEquals(piv, ph.binding().partialIv());
        assertArrayEquals(gid, ph.binding().kidContext());

        // persisted before use: the reservation on disk covers the consumed number
        long reserved = -1;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                for (String line : Files.readAllLines(f)) {
                    if (line.startsWith("sender-reserved ")) {
                        reserved = Math.max(reserved, Long.parseLong(line.substring(16).trim()));
                    }
                }
            }
        }
        assertTrue(reserved >= before + 1, "the reservation on disk (" + reserved + ") covers the consumed number " + before);
    }

    @Test
    void OMN_10_notificationsBoundToPhantom() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        Phantom atClient = clientSide(s).verifyPhantom(rebuilt(TransportIndependent.encode(ph.wire())), peer(s));
        assertArrayEquals(ph.binding().partialIv(), atClient.binding().partialIv());

        Response n1 = multicast(p.protectResponse(notification("state 1", 5), ph.binding()));
        OscoreOptionValue o1 = OscoreOptionValue.decode(n1.getOptions().getOscore(), true);
        assertTrue(o1.groupFlag(), "group mode");
        assertArrayEquals(s.server.senderId(), o1.kid(), "the notification carries the server's kid");
        assertNotNull(o1.partialIv(), "its own Partial IV");
        assertFalse(Arrays.equals(ph.binding().partialIv(), o1.partialIv()), "never the phantom's nonce");
        assertEquals(CoAP.ResponseCode.CONTENT, n1.getCode(), "outer 2.05 with Observe");

        // a notification verified against another request_piv fails: it is bound to the phantom's
        byte[] otherPiv = SealingNonce.partialIv(SealingNonce.toLong(ph.binding().partialIv()) + 1);
        RequestIdentifiers wrong = RequestIdentifiers.builder().mode(ProtectionMode.GROUP).contextName(s.g.name)
                .kid(atClient.binding().kid()).partialIv(otherPiv).kidContext(atClient.binding().kidContext()).observe(true)
                .responseVerifier(new GroupResponseVerifier(s.g.client, s.clientDb, ProtectionMode.GROUP,
                        s.g.client.recipient(s.server.senderId()), s.g.client.recipient(s.server.senderId()).credential()))
                .build();
        assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectResponse(wire(n1), wrong));
        // positive control: against the phantom's own identifiers it verifies
        Response plain1 = p.unprotectResponse(wire(n1), atClient.binding()).plain();
        assertEquals("state 1", plain1.getPayloadString());

        // a second notification has a fresh Partial IV again, and verifies after the first
        Response n2 = multicast(p.protectResponse(notification("state 2", 6), ph.binding()));
        byte[] piv2 = OscoreOptionValue.decode(n2.getOptions().getOscore(), true).partialIv();
        assertFalse(Arrays.equals(o1.partialIv(), piv2));
        assertEquals("state 2", p.unprotectResponse(n2, atClient.binding()).plain().getPayloadString());
        // a notification repeated, or older than the freshest one of this server, is not delivered (GRP-19)
        assertThrows(OscoreException.Replay.class, () -> p.unprotectResponse(wire(n1), atClient.binding()));
    }

    @Test
    void OMN_10_clientVerifiesPhantomWithoutReplayCheckAndWithoutWindowUpdate() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        GroupObservationProtection client = clientSide(s);
        // every observer's informative response carries the same ph_req: verified every time, no replay check
        Phantom first = client.verifyPhantom(rebuilt(phReq), peer(s));
        Phantom again = client.verifyPhantom(rebuilt(phReq), peer(s));
        assertEquals("alarm", first.plain().getOptions().getUriPathString());
        assertArrayEquals(first.binding().partialIv(), again.binding().partialIv());
        // the Replay Window for the server was not touched: the same message through the ordinary request path is
        // fresh once (so the phantom verifications did not record it), then a replay (the ordinary path does)
        p.unprotectRequest(rebuilt(phReq), s.clientDb);
        assertThrows(OscoreException.Replay.class, () -> p.unprotectRequest(rebuilt(phReq), s.clientDb));
        // and the phantom path still accepts it, after the window recorded it
        assertEquals("alarm", client.verifyPhantom(rebuilt(phReq), peer(s)).plain().getOptions().getUriPathString());
    }

    @Test
    void OMN_10_tamperedPhantomIsRefused() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        byte[] bad = phReq.clone();
        bad[bad.length - 1] ^= 0x01; // the last byte of the encrypted signature
        assertThrows(OscoreException.DecryptionFailed.class, () -> clientSide(s).verifyPhantom(rebuilt(bad), peer(s)));
        byte[] badCt = phReq.clone();
        badCt[badCt.length - 1 - s.g.algs.signature().signatureLength()] ^= 0x01; // the ciphertext: the signature covers it
        assertThrows(OscoreException.DecryptionFailed.class, () -> clientSide(s).verifyPhantom(rebuilt(badCt), peer(s)));
        // positive control: the untampered phantom verifies
        assertEquals("alarm", clientSide(s).verifyPhantom(rebuilt(phReq), peer(s)).plain().getOptions().getUriPathString());
    }

    @Test
    void OMN_10_phantomFromAnotherMemberThanTheNotifierIsNotTheBinding() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        Phantom atClient = clientSide(s).verifyPhantom(rebuilt(TransportIndependent.encode(ph.wire())), peer(s));
        // a2, another member, protects a response with the same request identifiers: not from the phantom's server
        GroupContext a2 = s.g.servers.get(1);
        GroupContextDb a2Db = new GroupContextDb().add(a2);
        RequestIdentifiers forged = RequestIdentifiers.builder().mode(ProtectionMode.GROUP).contextName(s.g.name)
                .kid(ph.binding().kid()).partialIv(ph.binding().partialIv()).kidContext(ph.binding().kidContext())
                .observe(true).responseProtector(new GroupResponder(a2, null, ProtectionMode.GROUP, a2Db)).build();
        Response fromA2 = multicast(p.protectResponse(notification("fake", 9), forged));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.unprotectResponse(fromA2, atClient.binding()));
        Response fromA1 = multicast(p.protectResponse(notification("real", 9), ph.binding()));
        assertEquals("real", p.unprotectResponse(fromA1, atClient.binding()).plain().getPayloadString());
    }

    @Test
    void OMN_11_cancellationProtectedWithServersPartialIv() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        Phantom atClient = clientSide(s).verifyPhantom(rebuilt(TransportIndependent.encode(ph.wire())), peer(s));
        long before = s.server.senderSequence().peek();
        Response cancel = multicast(p.protectResponse(new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE), ph.binding()));
        OscoreOptionValue o = OscoreOptionValue.decode(cancel.getOptions().getOscore(), true);
        assertArrayEquals(SealingNonce.partialIv(before), o.partialIv(), "the server's own Partial IV (digest 6.6)");
        assertTrue(o.groupFlag());
        assertArrayEquals(s.server.senderId(), o.kid());
        assertFalse(cancel.getOptions().hasObserve(), "no Observe");
        assertEquals(CoAP.ResponseCode.CHANGED, cancel.getCode(), "outer 2.04: the 5.03 is inside");
        Response plain = p.unprotectResponse(cancel, atClient.binding()).plain();
        assertEquals(CoAP.ResponseCode.SERVICE_UNAVAILABLE, plain.getCode());
        assertFalse(plain.getOptions().hasObserve());
    }

    @Test
    void GRP_23_ownKidRequestStillRejectedOutsideTheOwnPhantomExchange() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom()); // the server's own exchange: processed
        assertEquals("alarm", ph.plain().getOptions().getUriPathString());

        // the same bytes from the network (a copy of the phantom, as a member could replay it): not that exchange
        ph.wire().setMID(9); // a message ID, only to serialize it
        Request fromNetwork = wire(ph.wire());
        OscoreException e = assertThrows(OscoreException.ContextNotFound.class,
                () -> p.unprotectRequest(fromNetwork, s.serverDb.ownPhantom(ph.wire())));
        assertTrue(e.getMessage().contains("GRP-23"), e.getMessage());
        // an ordinary request under the server's own Sender ID: refused exactly as before
        Request ownKid = wire(p.protectRequest(TestGroup.get("x"), s.server.groupMode()).wire());
        e = assertThrows(OscoreException.ContextNotFound.class, () -> p.unprotectRequest(ownKid, s.serverDb));
        assertTrue(e.getMessage().contains("GRP-23"), e.getMessage());
        e = assertThrows(OscoreException.ContextNotFound.class,
                () -> p.unprotectRequest(ownKid, s.serverDb.ownPhantom(ph.wire())));
        assertTrue(e.getMessage().contains("GRP-23"), e.getMessage());
        // positive controls: a client's request passes the phantom exchange's resolver as it passes the ordinary one
        Request fromClient = wire(p.protectRequest(TestGroup.get("y"), s.g.client.groupMode()).wire());
        assertEquals("y", p.unprotectRequest(fromClient, s.serverDb.ownPhantom(ph.wire())).plain().getOptions()
                .getUriPathString());
        // and a second phantom of the server is processed in its own exchange
        Phantom second = serverSide(s).protectPhantom(plainPhantom());
        assertFalse(Arrays.equals(ph.binding().partialIv(), second.binding().partialIv()));
        assertEquals(List.of("alarm"), second.plain().getOptions().getUriPath());
    }

    private static final InetSocketAddress SRV = new InetSocketAddress("127.0.0.1", 5811);
    private static final InetSocketAddress GRP = new InetSocketAddress("224.0.1.189", 5683);
    private static final int CF = InformativeResponse.DEFAULT_CONTENT_FORMAT;

    /** The informative response as the client's OSCORE layer delivers it (decrypted; protected: with its peer). */
    private static Response informative(Setup s, byte[] phReq, byte[] lastNotif, boolean cameProtected) {
        return informative(s, phReq, lastNotif, cameProtected ? peer(s) : null);
    }

    private static Response informative(Setup s, byte[] phReq, byte[] lastNotif, OscorePeer responder) {
        Response r = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        r.setType(CoAP.Type.CON);
        r.getOptions().setContentFormat(CF).setMaxAge(0);
        r.setPayload(InformativeResponse.of(TpInfo.udp(SRV, GRP, TOKEN), phReq, lastNotif).encode());
        if (responder != null) {
            r.setSourceContext(new MapBasedEndpointContext(SRV, null, responder, new MapBasedEndpointContext.Attributes()));
        }
        return r;
    }

    private static Request registration() {
        Request r = new Request(CoAP.Code.GET);
        r.getOptions().setUriPath("alarm").setObserve(0);
        return r;
    }

    private GroupObservationClient.Parsed check(Setup s, Response informative) throws GroupObservationClient.Withdraw {
        return GroupObservationClient.check(informative, registration(), CF, ExtensionOptionRegistry.defaults()
                .californiumRegistry(), clientSide(s));
    }

    @Test
    void OMN_10_tamperedPhantomMakesTheClientWithdraw() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        byte[] last = TransportIndependent.encode(p.protectResponse(notification("state 0", 3), ph.binding()));
        byte[] bad = phReq.clone();
        bad[bad.length - 1] ^= 0x01;
        GroupObservationClient.Withdraw w = assertThrows(GroupObservationClient.Withdraw.class,
                () -> check(s, informative(s, bad, last, true)));
        assertTrue(w.getMessage().contains("did not verify"), w.getMessage());
        assertThrows(GroupObservationClient.Withdraw.class, () -> check(s, informative(s, null, last, true)),
                "no ph_req: malformed with Group OSCORE (digest 6.6)");
        // positive control: the untampered phantom is verified, decrypted, and binds last_notif
        GroupObservationClient.Parsed ok = check(s, informative(s, phReq, last, true));
        assertEquals("alarm", ok.phantom().getOptions().getUriPathString());
        assertEquals(CoAP.Code.GET, ok.phantom().getCode(), "the decrypted phantom, not the outer FETCH");
        assertArrayEquals(s.server.senderId(), ok.binding().kid());
        assertArrayEquals(ph.binding().partialIv(), ok.binding().partialIv());
        assertEquals("state 0", ok.last().getPayloadString(), "last_notif verified and decrypted");
    }

    @Test
    void OMN_10_lastNotifThatDoesNotVerifyMakesTheClientWithdraw() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        byte[] last = TransportIndependent.encode(p.protectResponse(notification("state 0", 3), ph.binding()));
        byte[] bad = last.clone();
        bad[bad.length - 1] ^= 0x01;
        assertThrows(GroupObservationClient.Withdraw.class, () -> check(s, informative(s, phReq, bad, true)));
        assertEquals("state 0", check(s, informative(s, phReq, last, true)).last().getPayloadString());
    }

    @Test
    void OMN_11_unprotectedInformativeResponseMakesTheClientWithdraw() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        byte[] last = TransportIndependent.encode(p.protectResponse(notification("state 0", 3), ph.binding()));
        GroupObservationClient.Withdraw w = assertThrows(GroupObservationClient.Withdraw.class,
                () -> check(s, informative(s, phReq, last, false)));
        assertTrue(w.getMessage().contains("OMN-11"), w.getMessage());
        assertNotNull(check(s, informative(s, phReq, last, true)).binding(), "positive control: the protected one");
    }

    @Test
    void OMN_08_lastNotifIsTheOrderingBaselineWithGroupOscore() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        byte[] phReq = TransportIndependent.encode(ph.wire());
        Response older = multicast(p.protectResponse(notification("state 0", 3), ph.binding()));
        byte[] last = TransportIndependent.encode(p.protectResponse(notification("state 1", 4), ph.binding()));
        Response newer = multicast(p.protectResponse(notification("state 2", 5), ph.binding()));
        GroupObservationClient.Parsed ok = check(s, informative(s, phReq, last, true));
        assertEquals("state 1", ok.last().getPayloadString());
        // a notification older than last_notif (a lower Partial IV of the same server) is not delivered
        assertThrows(OscoreException.Replay.class, () -> p.unprotectResponse(older, ok.binding()));
        assertEquals("state 2", p.unprotectResponse(newer, ok.binding()).plain().getPayloadString());
    }

    @Test
    void OMN_10_phantomOfAnotherMemberThanTheInformativeResponsesIsRefused() throws Exception {
        Setup s = setup();
        Phantom own = serverSide(s).protectPhantom(plainPhantom());
        // a2, another member of the group, protects a phantom of its own (valid, under its own Sender ID)
        GroupContext a2 = s.g.servers.get(1);
        Phantom other = new GroupObservationProtection(a2, new GroupContextDb().add(a2), p).protectPhantom(plainPhantom());
        byte[] otherReq = TransportIndependent.encode(other.wire());
        byte[] ownReq = TransportIndependent.encode(own.wire());
        assertArrayEquals(a2.senderId(), OscoreOptionValue.decode(other.wire().getOptions().getOscore(), true).kid());
        byte[] last = TransportIndependent.encode(p.protectResponse(notification("state 0", 3), other.binding()));
        // a1's informative response (pairwise or group mode) carrying a2's phantom: not a1's own, the client withdraws
        for (ProtectionMode mode : List.of(ProtectionMode.PAIRWISE, ProtectionMode.GROUP)) {
            OscorePeer a1 = new OscorePeer(mode, s.g.name, s.server.senderId(), s.g.gid);
            GroupObservationClient.Withdraw w = assertThrows(GroupObservationClient.Withdraw.class,
                    () -> check(s, informative(s, otherReq, last, a1)), mode.label());
            assertTrue(w.getMessage().contains("not that server's own phantom"), w.getMessage());
            // positive control: a1's own phantom in a1's informative response
            GroupObservationClient.Parsed ok = check(s, informative(s, ownReq, null, a1));
            assertArrayEquals(s.server.senderId(), ok.binding().kid());
        }
        // a2's phantom in a2's own informative response is a2's observation: accepted, bound to a2
        OscorePeer fromA2 = new OscorePeer(ProtectionMode.PAIRWISE, s.g.name, a2.senderId(), s.g.gid);
        GroupObservationClient.Parsed a2s = check(s, informative(s, otherReq, last, fromA2));
        assertArrayEquals(a2.senderId(), a2s.binding().kid());
        assertEquals("state 0", a2s.last().getPayloadString());
        // an informative response from another group (or an unknown Gid) is not the phantom's server either
        OscorePeer elsewhere = new OscorePeer(ProtectionMode.GROUP, "other-group", s.server.senderId(), new byte[] {9});
        assertThrows(OscoreException.ContextNotFound.class, () -> clientSide(s).verifyPhantom(rebuilt(ownReq), elsewhere));
        // a plain OSCORE context names no group member: nothing to compare, the phantom alone decides
        OscorePeer oscore = new OscorePeer(ProtectionMode.OSCORE, "ctx", new byte[] {1}, null);
        assertArrayEquals(s.server.senderId(), clientSide(s).verifyPhantom(rebuilt(ownReq), oscore).binding().kid());
    }

    /**
     * GRP-21 for a group observation: after a rekey the server protects the notifications under
     * the new epoch (new Gid as kid context); the client's binding verifies them once the new
     * epoch is in the database it was built with, the database its requests use too.
     */
    @Test
    void OMN_10_notificationsUnderANewEpochVerifyOnceTheClientsDatabaseHoldsIt() throws Exception {
        Setup s = setup();
        Phantom ph = serverSide(s).protectPhantom(plainPhantom());
        Phantom atClient = clientSide(s).verifyPhantom(rebuilt(TransportIndependent.encode(ph.wire())), peer(s));
        assertEquals("before", p.unprotectResponse(multicast(p.protectResponse(notification("before", 5), ph.binding())),
                atClient.binding()).plain().getPayloadString());
        TestGroup next = new TestGroup(s.g.algs, new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5d},
                dev.coterie.keystore.SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20"));
        for (int i = 0; i < 4; i++) {
            next.keys.set(i, s.g.keys.get(i));
            next.creds.set(i, s.g.creds.get(i));
        }
        s.serverDb.installEpoch(next.member(1, SecurityStateStore.inMemory()));
        Response after = multicast(p.protectResponse(notification("after", 6), ph.binding()));
        assertArrayEquals(next.gid, OscoreOptionValue.decode(after.getOptions().getOscore(), true).kidContext(),
                "the notification carries the new Gid");
        OscoreException e = assertThrows(OscoreException.ContextNotFound.class,
                () -> p.unprotectResponse(wire(after), atClient.binding()), "the client does not hold the new epoch yet");
        assertTrue(e.getMessage().contains("unknown Gid"), e.getMessage());
        s.clientDb.installEpoch(next.member(0, SecurityStateStore.inMemory()));
        assertEquals("after", p.unprotectResponse(wire(after), atClient.binding()).plain().getPayloadString());
    }
}
