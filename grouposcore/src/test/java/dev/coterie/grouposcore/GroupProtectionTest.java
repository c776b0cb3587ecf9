package dev.coterie.grouposcore;

import static dev.coterie.grouposcore.TestGroup.content;
import static dev.coterie.grouposcore.TestGroup.get;
import static dev.coterie.grouposcore.TestGroup.wire;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectedAnswerRequired;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import java.util.List;
import java.util.stream.Stream;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.modes.CCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Group mode and pairwise mode end to end over serialized messages (draft-ietf-core-oscore-groupcomm-28). */
class GroupProtectionTest {
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    static Stream<Arguments> combinations() {
        return Stream.of(
                Arguments.of(SignatureAlgorithm.EDDSA_ED25519, AeadAlgorithm.AES_CCM_16_64_128, KeyAgreementAlgorithm.X25519),
                Arguments.of(SignatureAlgorithm.EDDSA_ED25519, AeadAlgorithm.A128GCM, KeyAgreementAlgorithm.X25519),
                Arguments.of(SignatureAlgorithm.ES256, AeadAlgorithm.AES_CCM_16_64_128, KeyAgreementAlgorithm.P256),
                Arguments.of(SignatureAlgorithm.ES256, AeadAlgorithm.A128GCM, KeyAgreementAlgorithm.P256));
    }

    private static GroupAlgorithms algs(SignatureAlgorithm s, AeadAlgorithm a, KeyAgreementAlgorithm ka) {
        return new GroupAlgorithms(a, a, s, ka, HkdfAlgorithm.HKDF_SHA_256);
    }

    private ProtectionPipeline.ProtectedRequest protect(Request plain, RequestProtector view) throws OscoreException {
        return p.protectRequest(plain, view);
    }

    private ProtectionPipeline.Unprotected<Request> verify(Request wire, GroupContextDb db) throws Exception {
        return p.unprotectRequest(wire(wire), db);
    }

    private Response respond(Response plain, RequestIdentifiers ids) throws OscoreException {
        return wire(p.protectResponse(plain, ids));
    }

    private ProtectionPipeline.Unprotected<Response> accept(Response wire, RequestIdentifiers ids) throws OscoreException {
        return p.unprotectResponse(wire, ids);
    }

    @ParameterizedTest
    @MethodSource("combinations")
    void GRP_13_groupRequestToThreeServersAnsweredInGroupModeAndPairwiseMode(SignatureAlgorithm s, AeadAlgorithm a,
                                                                           KeyAgreementAlgorithm ka) throws Exception {
        TestGroup g = TestGroup.of(algs(s, a, ka));
        ProtectionPipeline.ProtectedRequest req = protect(get("lights"), g.client.groupMode());
        OscoreOptionValue opt = OscoreOptionValue.decode(req.wire().getOptions().getOscore(), true);
        assertTrue(opt.groupFlag(), "GRP-09 Group Flag");
        assertArrayEquals(g.gid, opt.kidContext(), "GRP-10 kid context in every request");
        g.db(2).responseMode(GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE);
        for (int i = 0; i < 3; i++) {
            ProtectionPipeline.Unprotected<Request> v = verify(req.wire(), g.db(i));
            assertEquals(Code.GET, v.plain().getCode());
            assertEquals("lights", v.plain().getOptions().getUriPathString());
            assertEquals(ProtectionMode.GROUP, v.identifiers().mode());
            // two servers answer in group mode, one in pairwise mode (as other implementations do)
            ProtectionMode answer = i == 2 ? ProtectionMode.PAIRWISE : ProtectionMode.GROUP;
            Response r = respond(content("on-" + i), v.identifiers());
            OscoreOptionValue ro = OscoreOptionValue.decode(r.getOptions().getOscore(), true);
            assertArrayEquals(g.ids.get(i + 1), ro.kid(), "GRP-10 kid in every response to a group-mode request");
            assertNotNull(ro.partialIv(), "responses to a group-mode request carry the server's Partial IV");
            ProtectionPipeline.Unprotected<Response> got = accept(r, req.identifiers());
            assertEquals("on-" + i, got.plain().getPayloadString());
            assertArrayEquals(g.ids.get(i + 1), got.peer().kid());
            assertEquals(answer, got.peer().mode());
        }
    }

    @ParameterizedTest
    @MethodSource("combinations")
    void GRP_04_pairwiseRequestAndResponse(SignatureAlgorithm s, AeadAlgorithm a, KeyAgreementAlgorithm ka) throws Exception {
        TestGroup g = TestGroup.of(algs(s, a, ka));
        ProtectionPipeline.ProtectedRequest req = protect(get("state"), g.client.pairwise(g.ids.get(2)));
        assertFalse(OscoreOptionValue.decode(req.wire().getOptions().getOscore(), true).groupFlag());
        ProtectionPipeline.Unprotected<Request> v = verify(req.wire(), g.db(1));
        assertEquals(ProtectionMode.PAIRWISE, v.identifiers().mode());
        Response r = respond(content("dim 40%"), v.identifiers());
        assertEquals(0, r.getOptions().getOscore().length, "pairwise response to a pairwise request: no kid, no Partial IV");
        assertEquals("dim 40%", accept(r, req.identifiers()).plain().getPayloadString());
        // another member cannot read a pairwise request addressed to a2
        assertThrows(OscoreException.DecryptionFailed.class, () -> verify(req.wire(), g.db(0)));
    }

    /**
     * Issue 6 defect 7: pairwise keys were checked by symmetric round trips only. These are the
     * values another implementation computed for members 26 and 52 of a group with the
     * cacheable-oscore F.1 Group Manager; the keys are checked by encrypting with an independent
     * AES-CCM (Bouncy Castle's) under the expected key.
     */
    @Test
    void GRP_04_pairwiseKeysMatchIndependentlyComputedValues() throws Exception {
        Credential c26 = Credential.parseCcs(Hex.decode("a2026b6a6176612d636c69656e7408a101a40101032720062158202b4a6571815cb574"
                + "701c102a75f5161bf72e4bfdc277ad0878f39133f9af8ce5"));
        Credential c52 = Credential.parseCcs(Hex.decode("a501781a636f6170733a2f2f7365727665722e6578616d706c652e636f6d026673656e"
                + "64657203781a636f6170733a2f2f636c69656e742e6578616d706c652e6f7267041a70004b4f08a101a4010103272006215820"
                + "77ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b"));
        Credential gm = Credential.parseCcs(Hex.decode("a501781a636f6170733a2f2f6d79736974652e6578616d706c652e636f6d026c67726f75"
                + "706d616e6167657203781a636f6170733a2f2f646f6d61696e2e6578616d706c652e6f7267041aab9b154f08a101a40101032720"
                + "06215820cde3efd3bc3f99c9c9ee210415c6cba55061b5046e963b8a58c9143a61166472"));
        PrivateKey k26 = TestGroup.P.privateKey(PrivateKey.Type.ED25519,
                SecretBytes.fromHex("e9907a68d99ae2d7837e89e4116e3856a96ce862b77d62500b2e5adcd21303c4"));
        PrivateKey k52 = TestGroup.P.privateKey(PrivateKey.Type.ED25519,
                SecretBytes.fromHex("857eb61d3f6d70a278a36740d132c099f62880ed497e27bdfd4685fa1a304f26"));
        GroupContext m26 = independentGroupMember(new byte[] {0x26}, k26, c26, new byte[] {0x52}, c52, gm);
        GroupContext m52 = independentGroupMember(new byte[] {0x52}, k52, c52, new byte[] {0x26}, c26, gm);
        assertTrue(m26.derivedKeysForVectors()[0].matches(Hex.decode("152aebae3fd0dd0c44e8ce9a9a12bf96")), "Sender Key of 26");
        assertTrue(m26.derivedKeysForVectors()[1].matches(Hex.decode("85ca7c0bc5b8ea2e267b203dc3b71ce6")), "Signature Encryption Key");
        assertArrayEquals(Hex.decode("47eb80969ab73847084dd6f996"), m26.commonIv());
        byte[] k2652 = Hex.decode("8eb1984d8367d50e86a996af8b6d113c");
        byte[] k5226 = Hex.decode("e690cee6c4738252daa0dcfddac0804b");
        assertSealsLike(k2652, m26.recipient(new byte[] {0x52}).pairwiseSenderKey(), "pairwise key 26->52 at 26");
        assertSealsLike(k2652, m52.recipient(new byte[] {0x26}).pairwiseRecipientKey(), "pairwise key 26->52 at 52");
        assertSealsLike(k5226, m52.recipient(new byte[] {0x26}).pairwiseSenderKey(), "pairwise key 52->26 at 52");
        assertSealsLike(k5226, m26.recipient(new byte[] {0x52}).pairwiseRecipientKey(), "pairwise key 52->26 at 26");
    }

    private static GroupContext independentGroupMember(byte[] id, PrivateKey key, Credential cred, byte[] peer, Credential peerCred,
                                                       Credential gm) throws Exception {
        return GroupContext.builder().algorithms(GroupAlgorithms.defaults()).gid(Hex.decode("dd11"))
                .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7ca92223786340"))
                .groupManagerCredential(gm).sender(id, key, cred).member(peer, peerCred)
                .stateStore(SecurityStateStore.inMemory()).build();
    }

    private static void assertSealsLike(byte[] expectedKey, dev.coterie.keystore.AeadKey key, String what) throws Exception {
        byte[] nonce = Hex.decode("00112233445566778899aabbcc");
        byte[] aad = "aad".getBytes();
        byte[] pt = "pairwise keys".getBytes();
        CCMBlockCipher ccm = new CCMBlockCipher(AESEngine.newInstance());
        ccm.init(true, new AEADParameters(new KeyParameter(expectedKey), 64, nonce, aad));
        byte[] expected = new byte[ccm.getOutputSize(pt.length)];
        ccm.doFinal(expected, ccm.processBytes(pt, 0, pt.length, expected, 0));
        assertArrayEquals(expected, key.seal(nonce, aad, pt), what);
    }

    /** Issue 6 defect 7: the old test never looked at the order. A recording provider does. */
    @Test
    void GRP_14_theSignatureIsVerifiedBeforeAnythingIsDecrypted() throws Exception {
        RecordingProvider rec = new RecordingProvider();
        TestGroup g = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5c},
                SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"), rec);
        Request valid = protect(get("lights"), g.client.groupMode()).wire();
        rec.events.clear();
        verify(valid, g.db(0));
        assertEquals(List.of("verify ok", "decrypt"), rec.events, "positive control: verify, then decrypt");
        Request forged = wire(protect(get("lights"), g.client.groupMode()).wire());
        byte[] payload = forged.getPayload();
        payload[payload.length - 1] ^= 1; // inside the encrypted signature
        forged.setPayload(payload);
        String before = g.servers.get(0).recipient(g.ids.get(0)).replayWindow().snapshot();
        rec.events.clear();
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> verify(forged, g.db(0)));
        assertEquals(List.of("verify failed"), rec.events, "nothing is decrypted after a bad signature");
        assertEquals("Decryption failed", e.diagnostic(), "table 2.9: signature failure reads as decryption failure");
        assertEquals(before, g.servers.get(0).recipient(g.ids.get(0)).replayWindow().snapshot());
    }

    @Test
    void GRP_14_aMemberCannotSignForAnother() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        // server a1 builds a request claiming the client's Sender ID, signed with its own key
        GroupContext impostor = GroupContext.builder().algorithms(g.algs).gid(g.gid).masterSecret(g.secret)
                .masterSalt(new byte[] {(byte) 0x9e, 0x7c}).groupManagerCredential(g.gm)
                .sender(g.ids.get(0), g.keys.get(1), g.creds.get(1)).stateStore(SecurityStateStore.inMemory()).build();
        Request forged = protect(get("unlock"), impostor.groupMode()).wire();
        assertThrows(OscoreException.DecryptionFailed.class, () -> verify(forged, g.db(1)));
        // positive control: the real client's request verifies at the same server
        assertEquals("unlock", verify(protect(get("unlock"), g.client.groupMode()).wire(), g.db(1)).plain().getOptions()
                .getUriPathString());
    }

    @Test
    void GRP_22_responseToAPairwiseRequestFromAnotherServerIsDiscarded() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest toA1 = protect(get("state"), g.client.pairwise(g.ids.get(1)));
        ProtectionPipeline.ProtectedRequest toA2 = protect(get("state"), g.client.pairwise(g.ids.get(2)));
        RequestIdentifiers atA2 = verify(toA2.wire(), g.db(1)).identifiers();
        // a2 answers in group mode, with its kid; the client expected a1
        g.db(1).responseMode(GroupContextDb.ResponseMode.GROUP_WHEN_POSSIBLE);
        Response fromA2 = respond(content("x"), atA2);
        assertThrows(OscoreException.ContextNotFound.class, () -> accept(fromA2, toA1.identifiers()));
        assertEquals("x", accept(fromA2, toA2.identifiers()).plain().getPayloadString(), "positive control");
    }

    @Test
    void GRP_16_unknownKidWithoutCredentialIsNotProcessed() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        // a member the server has no credential for
        GroupContext stranger = GroupContext.builder().algorithms(g.algs).gid(g.gid).masterSecret(g.secret)
                .masterSalt(new byte[] {(byte) 0x9e, 0x7c}).groupManagerCredential(g.gm)
                .sender(new byte[] {0x77}, g.keys.get(0), g.creds.get(0)).stateStore(SecurityStateStore.inMemory()).build();
        Request r = protect(get("x"), stranger.groupMode()).wire();
        assertThrows(OscoreException.ContextNotFound.class, () -> verify(r, g.db(0)));
        assertNull(g.servers.get(0).recipient(new byte[] {0x77}), "no Recipient Context was created");
    }

    @Test
    void GRP_16_fixedPolicyNeverCreatesRecipientContexts() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContext fixed = GroupContext.builder().algorithms(g.algs).gid(g.gid).masterSecret(g.secret)
                .masterSalt(new byte[] {(byte) 0x9e, 0x7c}).groupManagerCredential(g.gm)
                .sender(g.ids.get(1), g.keys.get(1), g.creds.get(1)).member(g.ids.get(2), g.creds.get(2))
                .unknownKids(GroupContext.UnknownKidPolicy.FIXED).stateStore(SecurityStateStore.inMemory()).build();
        assertNotNull(fixed.recipient(g.ids.get(2)));
        assertNull(fixed.recipient(g.ids.get(0)));
    }

    @Test
    void replayedGroupRequestIsRejected() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request r = protect(get("x"), g.client.groupMode()).wire();
        verify(r, g.db(0));
        assertThrows(OscoreException.Replay.class, () -> verify(r, g.db(0)));
    }

    @Test
    void staleGidIsNotFound() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        TestGroup other = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, 0, 1}, g.secret);
        Request stale = protect(get("x"), other.client.groupMode()).wire();
        assertThrows(OscoreException.ContextNotFound.class, () -> verify(stale, g.db(0)));
    }

    @Test
    void GRP_23_requestWithTheServersOwnSenderIdIsNotProcessed() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request own = protect(get("x"), g.servers.get(0).groupMode()).wire();
        assertThrows(OscoreException.ContextNotFound.class, () -> verify(own, g.db(0)));
        assertEquals("x", verify(own, g.db(1)).plain().getOptions().getUriPathString(), "positive control: another member");
    }

    @Test
    void GRP_19_oneResponseNumberPerServerRejectsARepeatedResponse() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest req = protect(get("x"), g.client.groupMode());
        RequestIdentifiers v = verify(req.wire(), g.db(0)).identifiers();
        Response r = respond(content("1"), v);
        accept(r, req.identifiers());
        assertThrows(OscoreException.Replay.class, () -> accept(wire(r), req.identifiers()));
    }

    /**
     * Issue 6 defect 4: notification order was kept per request, so with two servers the client
     * delivered Observe 1,1,2,2,3,3 and Californium's orderer dropped half. Now every newest
     * notification of each server gets the next number of the request.
     */
    @Test
    void GRP_19_notificationsAreOrderedPerServerNotPerRequest() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("alarm");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest req = protect(reg, g.client.groupMode());
        RequestIdentifiers atA1 = verify(req.wire(), g.db(0)).identifiers();
        RequestIdentifiers atA2 = verify(req.wire(), g.db(1)).identifiers();
        int last = -1;
        Response staleFromA1 = null;
        for (int i = 1; i <= 3; i++) {
            for (RequestIdentifiers server : List.of(atA1, atA2)) {
                Response n = content("n" + i);
                n.getOptions().setObserve(i);
                Response w = respond(n, server);
                if (i == 1 && server == atA1) {
                    staleFromA1 = w;
                    continue; // delivered late, below
                }
                int observe = accept(w, req.identifiers()).plain().getOptions().getObserve();
                assertTrue(observe > last, "each server's newest notification is new to the orderer: " + observe + " after " + last);
                last = observe;
            }
        }
        Response stale = staleFromA1;
        assertThrows(OscoreException.Replay.class, () -> accept(stale, req.identifiers()),
                "an older notification of a1 is not delivered: Californium would take any number it could get as new after 128 s");
    }

    @Test
    void GRP_01_senderIdLongerThanTheSmallerNonceAllowsIsRefused() throws Exception {
        GroupAlgorithms mixed = new GroupAlgorithms(AeadAlgorithm.A128GCM, AeadAlgorithm.AES_CCM_16_64_128,
                SignatureAlgorithm.EDDSA_ED25519, KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        assertEquals(13, mixed.commonIvLength(), "the larger nonce");
        assertEquals(6, mixed.maxSenderIdLength(), "the smaller nonce minus 6");
        TestGroup g = new TestGroup(mixed, new byte[] {1}, SecretBytes.fromHex("00112233445566778899aabbccddeeff"));
        assertThrows(IllegalArgumentException.class, () -> GroupContext.builder().algorithms(mixed).gid(g.gid)
                .masterSecret(g.secret).sender(new byte[7], g.keys.get(0), g.creds.get(0))
                .stateStore(SecurityStateStore.inMemory()).build());
    }

    @Test
    void GRP_08_unsetAlgorithmsAreNullInTheAad() {
        GroupAlgorithms groupOnly = new GroupAlgorithms(null, AeadAlgorithm.AES_CCM_16_64_128, SignatureAlgorithm.EDDSA_ED25519,
                null, HkdfAlgorithm.HKDF_SHA_256);
        assertEquals("84f60a27f6", Hex.encode(groupOnly.algorithmsCbor()));
        assertEquals("840a0a27381a", Hex.encode(GroupAlgorithms.defaults().algorithmsCbor()));
    }

    @Test
    void GRP_06_aNewEpochStartsSequenceNumbersAtZeroWithValidWindows() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        for (int i = 0; i < 5; i++) {
            protect(get("x"), g.client.groupMode());
        }
        assertEquals(5, g.client.senderSequence().peek());
        TestGroup next = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5d},
                SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20"));
        assertEquals(0, next.client.senderSequence().peek());
        assertTrue(next.servers.get(0).recipient(next.ids.get(0)).replayWindow().isValid());
    }

    /** A rekeyed copy of {@code g}: same members, keys and Sender IDs (unless {@code ids} says otherwise), new Gid and secret. */
    private static TestGroup rekeyed(TestGroup g, List<byte[]> ids) throws Exception {
        TestGroup r = new TestGroup(g.algs, new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5d},
                SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20"));
        for (int i = 0; i < 4; i++) {
            r.keys.set(i, g.keys.get(i));
            r.creds.set(i, g.creds.get(i));
        }
        if (ids != null) {
            r.idsOverride = ids;
        }
        return r;
    }

    @Test
    void GRP_21_firstResponseWithANewGidCarriesItAndTheClientFollows() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContextDb clientEpochs = new GroupContextDb().add(g.client);
        ProtectionPipeline.ProtectedRequest req = protect(get("alarm"), g.client.groupMode(clientEpochs));
        RequestIdentifiers v = verify(req.wire(), g.db(0)).identifiers();
        // the group is rekeyed while the exchange lasts: same members, new Gid and Master Secret
        TestGroup next = rekeyed(g, null);
        g.db(0).installEpoch(next.member(1, SecurityStateStore.inMemory()));
        Response r = respond(content("still ringing"), v);
        OscoreOptionValue o = OscoreOptionValue.decode(r.getOptions().getOscore(), true);
        assertArrayEquals(next.gid, o.kidContext(), "kid context = new Gid");
        assertNotNull(o.partialIv(), "a new context means a new Partial IV");
        assertThrows(OscoreException.ContextNotFound.class, () -> accept(wire(r), req.identifiers()),
                "the client does not know the new epoch yet");
        clientEpochs.installEpoch(next.member(0, SecurityStateStore.inMemory()));
        assertEquals("still ringing", accept(r, req.identifiers()).plain().getPayloadString());
    }

    /**
     * A response to {@code req} from {@code responder}, or (if {@code responderDb} holds another
     * context of {@code responder}'s group) from that group's current epoch there, with its Gid as
     * kid context. It is
     * built from what the request shows on the wire (kid, Partial IV, kid context); the
     * responder need not have received the request.
     */
    private Response answerFrom(GroupContext responder, GroupContextDb responderDb, ProtectionPipeline.ProtectedRequest req,
                                String payload) throws OscoreException {
        RequestIdentifiers seen = RequestIdentifiers.builder().mode(ProtectionMode.GROUP).contextName(responder.name())
                .kid(req.identifiers().kid()).partialIv(req.identifiers().partialIv()).kidContext(req.identifiers().kidContext())
                .responseProtector(new GroupResponder(responder, null, ProtectionMode.GROUP, responderDb)).build();
        return wire(respond(content(payload), seen));
    }

    /**
     * Review B finding 2, scenario A: a client in groups A and B keeps both in one database. A
     * member of B only, answering a group-A request with its B keys and B's Gid, is not an answer
     * to that request: another Gid is accepted only for the same group.
     */
    @Test
    void GRP_21_aResponseUnderAnotherGroupsGidIsRejected() throws Exception {
        TestGroup a = TestGroup.of(GroupAlgorithms.defaults());
        TestGroup b = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xbb}, SecretBytes.fromHex(
                "2122232425262728292a2b2c2d2e2f30"), TestGroup.P, "other-group");
        GroupContextDb clientDb = new GroupContextDb().add(a.client).add(b.client);
        ProtectionPipeline.ProtectedRequest req = protect(get("alarm"), a.client.groupMode(clientDb));
        // b's a1 answers in the current epoch of its own group (named through b's a2), so its response carries B's Gid
        Response fromB = answerFrom(b.servers.get(1), new GroupContextDb().add(b.servers.get(0)), req, "hijacked");
        assertArrayEquals(b.gid, OscoreOptionValue.decode(fromB.getOptions().getOscore(), true).kidContext());
        OscoreException e = assertThrows(OscoreException.ContextNotFound.class, () -> accept(fromB, req.identifiers()));
        assertTrue(e.getMessage().contains("another group"), e.getMessage());
        // the positive control: a member of group A answering the same request is accepted
        assertEquals("ringing", accept(answerFrom(a.servers.get(0), null, req, "ringing"), req.identifiers())
                .plain().getPayloadString());
    }

    /**
     * Review B finding 2, scenario B: after a rekey the old epoch stays installed for messages in
     * flight. A response to a new-epoch request under the old epoch's Gid (a member the rekey
     * removed still holds the old keys) is rejected: GRP-21 allows only a newer Gid. A response
     * to an old-epoch request under the new Gid is the positive control.
     */
    @Test
    void GRP_21_aResponseUnderAnOlderEpochsGidIsRejectedAndANewerOneAccepted() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        TestGroup next = rekeyed(g, null);
        GroupContext clientNew = next.member(0, SecurityStateStore.inMemory());
        GroupContextDb clientDb = new GroupContextDb().add(g.client).installEpoch(clientNew);
        GroupContext a1Old = g.servers.get(0);
        GroupContext a1New = next.member(1, SecurityStateStore.inMemory());

        ProtectionPipeline.ProtectedRequest inNew = protect(get("alarm"), clientNew.groupMode(clientDb));
        // the old epoch's a1 answers in its own epoch, so its response carries the old Gid
        Response old = answerFrom(a1New, new GroupContextDb().add(a1New).installEpoch(a1Old), inNew, "stale");
        assertArrayEquals(g.gid, OscoreOptionValue.decode(old.getOptions().getOscore(), true).kidContext());
        OscoreException e = assertThrows(OscoreException.ContextNotFound.class, () -> accept(old, inNew.identifiers()));
        assertTrue(e.getMessage().contains("older"), e.getMessage());

        // the positive control: a request of the old epoch, answered in the new one, with the new Gid
        ProtectionPipeline.ProtectedRequest inOld = protect(get("alarm"), g.client.groupMode(clientDb));
        Response newer = answerFrom(a1Old, new GroupContextDb().add(a1Old).installEpoch(a1New), inOld, "still ringing");
        assertArrayEquals(next.gid, OscoreOptionValue.decode(newer.getOptions().getOscore(), true).kidContext());
        assertEquals("still ringing", accept(newer, inOld.identifiers()).plain().getPayloadString());
    }

    /**
     * Issue 6 defect 8: in a new epoch a pairwise response looked up the old request's kid in the
     * new epoch, where that kid may belong to another member. The server finds the client by its
     * credential, and the client checks the responder by credential, not by kid (GRP-20, GRP-22).
     */
    @Test
    void GRP_20_GRP_22_afterARekeyThatReassignsSenderIdsPairwiseResponsesFollowTheCredential() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("state");
        reg.setObserve();
        GroupContextDb clientEpochs = new GroupContextDb().add(g.client);
        ProtectionPipeline.ProtectedRequest req = protect(reg, g.client.pairwise(g.ids.get(1), clientEpochs));
        RequestIdentifiers atA1 = verify(req.wire(), g.db(0)).identifiers();
        Response first = content("1");
        first.getOptions().setObserve(1);
        accept(respond(first, atA1), req.identifiers());
        // rekey: the client is now c2 and the server a9; the client's old Sender ID c1 is now a2's
        List<byte[]> ids = List.of(new byte[] {(byte) 0xc2}, new byte[] {(byte) 0xa9}, new byte[] {(byte) 0xc1},
                new byte[] {(byte) 0xa3});
        TestGroup next = rekeyed(g, ids);
        g.db(0).installEpoch(next.member(1, SecurityStateStore.inMemory()));
        clientEpochs.installEpoch(next.member(0, SecurityStateStore.inMemory()));
        Response second = content("2");
        second.getOptions().setObserve(2);
        Response w = respond(second, atA1);
        OscoreOptionValue o = OscoreOptionValue.decode(w.getOptions().getOscore(), true);
        assertFalse(o.groupFlag(), "still pairwise: the server found the client by its credential");
        assertArrayEquals(new byte[] {(byte) 0xa9}, o.kid(), "the server's new Sender ID");
        ProtectionPipeline.Unprotected<Response> got = accept(w, req.identifiers());
        assertEquals("2", got.plain().getPayloadString());
        assertArrayEquals(new byte[] {(byte) 0xa9}, got.peer().kid());
        // a3 now holds the old kid a1 of the addressed server: a response from it under kid a1 is not the server's,
        // though a check by kid alone would take it (kid a1 = the addressed kid a1)
        List<byte[]> swapped = List.of(new byte[] {(byte) 0xc2}, new byte[] {(byte) 0xa9}, new byte[] {(byte) 0xc1},
                new byte[] {(byte) 0xa1});
        TestGroup third = rekeyed(g, swapped);
        third.gidOverride = new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5e};
        GroupContext a3Old = g.member(3, SecurityStateStore.inMemory());
        GroupContextDb a3Db = new GroupContextDb().add(a3Old).installEpoch(third.member(3, SecurityStateStore.inMemory()));
        clientEpochs.installEpoch(third.member(0, SecurityStateStore.inMemory()));
        RequestIdentifiers forged = RequestIdentifiers.builder().mode(ProtectionMode.PAIRWISE).contextName("test-group")
                .kid(req.identifiers().kid()).partialIv(req.identifiers().partialIv()).kidContext(req.identifiers().kidContext())
                .observe(true).responseProtector(new GroupResponder(a3Old, a3Old.recipient(g.ids.get(0)), ProtectionMode.PAIRWISE,
                        a3Db)).build();
        Response impostor = content("3");
        impostor.getOptions().setObserve(3);
        Response fromA3 = respond(impostor, forged);
        assertArrayEquals(new byte[] {(byte) 0xa1}, OscoreOptionValue.decode(fromA3.getOptions().getOscore(), true).kid());
        assertThrows(OscoreException.ContextNotFound.class, () -> accept(fromA3, req.identifiers()),
                "GRP-22: the responder is identified by its credential, not by its kid");
    }

    @Test
    void notificationsInGroupModeCarryFreshPartialIvs() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("alarm");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest req = protect(reg, g.client.groupMode());
        RequestIdentifiers v = verify(req.wire(), g.db(0)).identifiers();
        for (int i = 1; i <= 3; i++) {
            Response n = content("n" + i);
            n.getOptions().setObserve(i);
            Response w = respond(n, v);
            assertEquals(ResponseCode.CONTENT, w.getCode());
            assertNotNull(OscoreOptionValue.decode(w.getOptions().getOscore(), true).partialIv());
            assertEquals("n" + i, accept(w, req.identifiers()).plain().getPayloadString());
        }
    }

    @Test
    void GRP_17_aModeTheGroupDoesNotUseIsDiscarded() throws Exception {
        GroupAlgorithms groupOnly = new GroupAlgorithms(null, AeadAlgorithm.AES_CCM_16_64_128, SignatureAlgorithm.EDDSA_ED25519,
                null, HkdfAlgorithm.HKDF_SHA_256);
        GroupAlgorithms pairwiseOnly = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, null, null,
                KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        TestGroup both = TestGroup.of(GroupAlgorithms.defaults());
        Request pairwise = protect(get("x"), both.client.pairwise(both.ids.get(1))).wire();
        Request groupMode = protect(get("x"), both.client.groupMode()).wire();
        TestGroup g = new TestGroup(groupOnly, both.gid, both.secret);
        TestGroup pw = new TestGroup(pairwiseOnly, both.gid, both.secret);
        // Group Flag 0 to a group without pairwise mode: 4.02 (table 2.9); Group Flag 1 without group mode: 4.01
        assertThrows(OscoreException.DecodeFailure.class, () -> verify(pairwise, g.db(0)));
        assertThrows(OscoreException.ContextNotFound.class, () -> verify(groupMode, pw.db(0)));
        assertThrows(IllegalStateException.class, () -> g.client.pairwise(g.ids.get(1)));
        assertThrows(IllegalStateException.class, () -> pw.client.groupMode());
    }

    @Test
    void GRP_22_everyResponseToAPairwiseRequestMustComeFromTheAddressedServer() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("state");
        reg.setObserve();
        ProtectionPipeline.ProtectedRequest toA1 = protect(reg, g.client.pairwise(g.ids.get(1)));
        RequestIdentifiers atA1 = verify(toA1.wire(), g.db(0)).identifiers();
        Response first = content("1");
        first.getOptions().setObserve(1);
        assertArrayEquals(g.ids.get(1), accept(respond(first, atA1), toA1.identifiers()).peer().kid());
        // a later "notification" signed by a2 (kid2 != kid1) is not delivered
        RequestIdentifiers atA2 = verify(protect(get("state"), g.client.groupMode()).wire(), g.db(1)).identifiers();
        Response other = content("2");
        other.getOptions().setObserve(2);
        Response fromA2 = respond(other, atA2);
        assertThrows(OscoreException.ContextNotFound.class, () -> accept(fromA2, toA1.identifiers()));
    }

    /**
     * GRP-24, GRP-25. Issue 6 defect 7: the old test passed "fresh Partial IV" itself; here the
     * pipeline's answer to the challenged request draws its own by construction.
     */
    @Test
    void GRP_24_GRP_25_aDeletedRecipientContextComesBackInvalidAndEchoRestoresIt() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContext server = g.servers.get(0);
        verify(protect(get("x"), g.client.pairwise(g.ids.get(1))).wire(), g.db(0));
        server.deleteRecipient(g.ids.get(0));
        Request again = protect(get("x"), g.client.pairwise(g.ids.get(1))).wire();
        ProtectedAnswerRequired challenge = assertThrows(ProtectedAnswerRequired.class, () -> verify(again, g.db(0)));
        assertEquals(ResponseCode.UNAUTHORIZED, challenge.code());
        assertFalse(server.recipient(g.ids.get(0)).replayWindow().isValid(), "GRP-24: the new window starts invalid");
        assertNull(challenge.identifiers().claimReusableNonce(), "an Echo challenge can never reuse the request nonce");
        Response answer = ProtectionPipeline.protectedAnswer(wire(again), challenge);
        answer.setMID(7);
        Response sent = wire(p.protectResponse(answer, challenge.identifiers()));
        assertNotNull(OscoreOptionValue.decode(sent.getOptions().getOscore(), true).partialIv(), "own Partial IV");
        // the client repeats the request with the Echo value: accepted, window valid from that number on
        Request withEcho = get("x");
        withEcho.getOptions().addOption(StandardOptionRegistry.ECHO.create(challenge.echo()));
        Request echoed = protect(withEcho, g.client.pairwise(g.ids.get(1))).wire();
        assertEquals("x", verify(echoed, g.db(0)).plain().getOptions().getUriPathString());
        assertTrue(server.recipient(g.ids.get(0)).replayWindow().isValid());
        assertThrows(OscoreException.Replay.class, () -> verify(again, g.db(0)), "older numbers count as used");
    }

    /**
     * Issue 6 defect 8: an echoing request in group mode on unicast rebuilt the window although
     * the group has pairwise mode; GRP-25 says the echoing request MUST then be pairwise.
     */
    @Test
    void GRP_25_aGroupModeEchoDoesNotRebuildTheWindowWhenPairwiseModeIsAvailable() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContext server = g.servers.get(0);
        verify(protect(get("x"), g.client.groupMode()).wire(), g.db(0));
        server.deleteRecipient(g.ids.get(0));
        ProtectedAnswerRequired challenge = assertThrows(ProtectedAnswerRequired.class,
                () -> verify(protect(get("x"), g.client.groupMode()).wire(), g.db(0)));
        Request groupEcho = get("x");
        groupEcho.getOptions().addOption(StandardOptionRegistry.ECHO.create(challenge.echo()));
        assertThrows(ProtectedAnswerRequired.class, () -> verify(protect(groupEcho, g.client.groupMode()).wire(), g.db(0)),
                "a group-mode echo is challenged again");
        assertFalse(server.recipient(g.ids.get(0)).replayWindow().isValid());
        // positive control: the same Echo in a pairwise request rebuilds the window
        Request pairwiseEcho = get("x");
        pairwiseEcho.getOptions().addOption(StandardOptionRegistry.ECHO.create(challenge.echo()));
        assertEquals("x", verify(protect(pairwiseEcho, g.client.pairwise(g.ids.get(1))).wire(), g.db(0)).plain().getOptions()
                .getUriPathString());
        assertTrue(server.recipient(g.ids.get(0)).replayWindow().isValid());
    }
}
