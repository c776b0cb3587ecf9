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
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import java.util.stream.Stream;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Group mode and pairwise mode end to end over serialized messages (draft-ietf-core-oscore-groupcomm-28). */
class GroupProtectionTest {
    private final GroupProtection p = new GroupProtection();

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

    @ParameterizedTest
    @MethodSource("combinations")
    void GRP_13_groupRequestToThreeServersAnsweredInGroupModeAndPairwiseMode(SignatureAlgorithm s, AeadAlgorithm a,
                                                                           KeyAgreementAlgorithm ka) throws Exception {
        TestGroup g = TestGroup.of(algs(s, a, ka));
        GroupRequest req = p.protectRequest(get("lights"), g.client, GroupMode.GROUP, null);
        OscoreOptionValue opt = OscoreOptionValue.decode(req.getOptions().getOscore(), true);
        assertTrue(opt.groupFlag(), "GRP-09 Group Flag");
        assertArrayEquals(g.gid, opt.kidContext(), "GRP-10 kid context in every request");
        Request onWire = wire(req);
        for (int i = 0; i < 3; i++) {
            VerifiedGroupRequest v = p.verifyRequest(onWire, g.db(i));
            assertEquals(Code.GET, v.getCode());
            assertEquals("lights", v.getOptions().getUriPathString());
            assertEquals(GroupMode.GROUP, v.binding().mode());
            // two servers answer in group mode, one in pairwise mode (as other implementations do)
            GroupMode answer = i == 2 ? GroupMode.PAIRWISE : GroupMode.GROUP;
            Response r = wire(p.protectResponse(content("on-" + i), v.binding(), g.servers.get(i), answer, false));
            OscoreOptionValue ro = OscoreOptionValue.decode(r.getOptions().getOscore(), true);
            assertArrayEquals(g.ids.get(i + 1), ro.kid(), "GRP-10 kid in every response to a group-mode request");
            VerifiedGroupResponse got = p.verifyResponse(r, req.binding(), null);
            assertEquals("on-" + i, got.response().getPayloadString());
            assertArrayEquals(g.ids.get(i + 1), got.serverKid());
            assertEquals(answer, got.mode());
        }
    }

    @ParameterizedTest
    @MethodSource("combinations")
    void GRP_04_pairwiseRequestAndResponse(SignatureAlgorithm s, AeadAlgorithm a, KeyAgreementAlgorithm ka) throws Exception {
        TestGroup g = TestGroup.of(algs(s, a, ka));
        GroupRequest req = p.protectRequest(get("state"), g.client, GroupMode.PAIRWISE, g.ids.get(2));
        assertFalse(OscoreOptionValue.decode(req.getOptions().getOscore(), true).groupFlag());
        Request onWire = wire(req);
        VerifiedGroupRequest v = p.verifyRequest(onWire, g.db(1));
        assertEquals(GroupMode.PAIRWISE, v.binding().mode());
        Response r = wire(p.protectResponse(content("dim 40%"), v.binding(), g.servers.get(1), GroupMode.PAIRWISE, false));
        assertEquals(0, r.getOptions().getOscore().length, "pairwise response to a pairwise request: no kid, no Partial IV");
        assertEquals("dim 40%", p.verifyResponse(r, req.binding(), null).response().getPayloadString());
        // another member cannot read a pairwise request addressed to a2
        assertThrows(OscoreException.DecryptionFailed.class, () -> p.verifyRequest(onWire, g.db(0)));
    }

    @Test
    void GRP_04_pairwiseKeysAreSymmetricBetweenTheTwoMembers() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        RecipientContext serverAtClient = g.client.recipient(g.ids.get(1));
        RecipientContext clientAtServer = g.servers.get(0).recipient(g.ids.get(0));
        byte[] nonce = new byte[13];
        byte[] sealed = serverAtClient.pairwiseSenderKey().seal(nonce, new byte[0], new byte[] {42});
        assertArrayEquals(new byte[] {42}, clientAtServer.pairwiseRecipientKey().open(nonce, new byte[0], sealed));
        assertTrue(serverAtClient.hasPairwiseKeys(), "cached after first use");
    }

    @Test
    void GRP_14_forgedSignatureIsRejectedBeforeDecryptionAndTheWindowIsUntouched() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupRequest req = p.protectRequest(get("lights"), g.client, GroupMode.GROUP, null);
        Request onWire = wire(req);
        byte[] payload = onWire.getPayload();
        payload[payload.length - 1] ^= 1; // inside the encrypted signature
        onWire.setPayload(payload);
        String before = g.servers.get(0).recipient(g.ids.get(0)).replayWindow().snapshot();
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.verifyRequest(onWire, g.db(0)));
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
        Request forged = wire(p.protectRequest(get("unlock"), impostor, GroupMode.GROUP, null));
        assertThrows(OscoreException.DecryptionFailed.class, () -> p.verifyRequest(forged, g.db(1)));
    }

    @Test
    void GRP_22_responseToAPairwiseRequestFromAnotherServerIsDiscarded() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupRequest toA1 = p.protectRequest(get("state"), g.client, GroupMode.PAIRWISE, g.ids.get(1));
        GroupRequest toA2 = p.protectRequest(get("state"), g.client, GroupMode.PAIRWISE, g.ids.get(2));
        VerifiedGroupRequest atA2 = p.verifyRequest(wire(toA2), g.db(1));
        // a2 answers in group mode (with its kid); the client expected a1
        Response fromA2 = wire(p.protectResponse(content("x"), atA2.binding(), g.servers.get(1), GroupMode.GROUP, true));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyResponse(fromA2, toA1.binding(), null));
    }

    @Test
    void GRP_16_unknownKidWithoutCredentialIsNotProcessed() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        // a member the server has no credential for
        GroupContext stranger = GroupContext.builder().algorithms(g.algs).gid(g.gid).masterSecret(g.secret)
                .masterSalt(new byte[] {(byte) 0x9e, 0x7c}).groupManagerCredential(g.gm)
                .sender(new byte[] {0x77}, g.keys.get(0), g.creds.get(0)).stateStore(SecurityStateStore.inMemory()).build();
        Request r = wire(p.protectRequest(get("x"), stranger, GroupMode.GROUP, null));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyRequest(r, g.db(0)));
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
        Request r = wire(p.protectRequest(get("x"), g.client, GroupMode.GROUP, null));
        p.verifyRequest(r, g.db(0));
        assertThrows(OscoreException.Replay.class, () -> p.verifyRequest(wire(r), g.db(0)));
    }

    @Test
    void staleGidIsNotFound() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        TestGroup other = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, 0, 1}, g.secret);
        Request stale = wire(p.protectRequest(get("x"), other.client, GroupMode.GROUP, null));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyRequest(stale, g.db(0)));
    }

    @Test
    void GRP_23_requestWithTheServersOwnSenderIdIsNotProcessed() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request own = wire(p.protectRequest(get("x"), g.servers.get(0), GroupMode.GROUP, null));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyRequest(own, g.db(0)));
    }

    @Test
    void GRP_19_oneResponseNumberPerServerRejectsARepeatedResponse() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupRequest req = p.protectRequest(get("x"), g.client, GroupMode.GROUP, null);
        VerifiedGroupRequest v = p.verifyRequest(wire(req), g.db(0));
        Response r = wire(p.protectResponse(content("1"), v.binding(), g.servers.get(0), GroupMode.GROUP, false));
        p.verifyResponse(r, req.binding(), null);
        assertThrows(OscoreException.Replay.class, () -> p.verifyResponse(wire(r), req.binding(), null));
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
        assertEquals("840a0a2738 1a".replace(" ", ""), Hex.encode(GroupAlgorithms.defaults().algorithmsCbor()));
    }

    @Test
    void GRP_06_aNewEpochStartsSequenceNumbersAtZeroWithValidWindows() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        for (int i = 0; i < 5; i++) {
            p.protectRequest(get("x"), g.client, GroupMode.GROUP, null);
        }
        assertEquals(5, g.client.senderSequence().peek());
        TestGroup next = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5d},
                SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20"));
        assertEquals(0, next.client.senderSequence().peek());
        assertTrue(next.servers.get(0).recipient(next.ids.get(0)).replayWindow().isValid());
    }

    @Test
    void GRP_21_firstResponseWithANewGidCarriesItAndTheClientFollows() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupRequest req = p.protectRequest(get("alarm"), g.client, GroupMode.GROUP, null);
        VerifiedGroupRequest v = p.verifyRequest(wire(req), g.db(0));
        // the group is rekeyed while the exchange lasts: same members, new Gid and Master Secret
        TestGroup rekeyed = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5d},
                SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20"));
        // reuse the old members' keys and credentials in the new epoch
        for (int i = 0; i < 4; i++) {
            rekeyed.keys.set(i, g.keys.get(i));
            rekeyed.creds.set(i, g.creds.get(i));
        }
        GroupContext newServer = rekeyed.member(1, SecurityStateStore.inMemory());
        GroupContext newClient = rekeyed.member(0, SecurityStateStore.inMemory());
        Response r = wire(p.protectResponse(content("still ringing"), v.binding(), newServer, GroupMode.GROUP, false));
        OscoreOptionValue o = OscoreOptionValue.decode(r.getOptions().getOscore(), true);
        assertArrayEquals(rekeyed.gid, o.kidContext(), "kid context = new Gid");
        assertNotNull(o.partialIv(), "a new context means a new Partial IV");
        VerifiedGroupResponse got = p.verifyResponse(r, req.binding(), new GroupContextDb().add(newClient));
        assertEquals("still ringing", got.response().getPayloadString());
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyResponse(wire(r), req.binding(), null));
    }

    @Test
    void notificationsInGroupModeCarryFreshPartialIvs() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("alarm");
        reg.setObserve();
        GroupRequest req = p.protectRequest(reg, g.client, GroupMode.GROUP, null);
        VerifiedGroupRequest v = p.verifyRequest(wire(req), g.db(0));
        for (int i = 1; i <= 3; i++) {
            Response n = content("n" + i);
            n.getOptions().setObserve(i);
            Response w = wire(p.protectResponse(n, v.binding(), g.servers.get(0), GroupMode.GROUP, false));
            assertEquals(ResponseCode.CONTENT, w.getCode());
            VerifiedGroupResponse got = p.verifyResponse(w, req.binding(), null);
            assertEquals("n" + i, got.response().getPayloadString());
        }
    }

    @Test
    void GRP_17_aModeTheGroupDoesNotUseIsDiscarded() throws Exception {
        GroupAlgorithms groupOnly = new GroupAlgorithms(null, AeadAlgorithm.AES_CCM_16_64_128, SignatureAlgorithm.EDDSA_ED25519,
                null, HkdfAlgorithm.HKDF_SHA_256);
        GroupAlgorithms pairwiseOnly = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, null, null,
                KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        TestGroup both = TestGroup.of(GroupAlgorithms.defaults());
        Request pairwise = wire(p.protectRequest(get("x"), both.client, GroupMode.PAIRWISE, both.ids.get(1)));
        Request groupMode = wire(p.protectRequest(get("x"), both.client, GroupMode.GROUP, null));
        TestGroup g = new TestGroup(groupOnly, both.gid, both.secret);
        TestGroup pw = new TestGroup(pairwiseOnly, both.gid, both.secret);
        // Group Flag 0 to a group without pairwise mode: 4.02 (table 2.9); Group Flag 1 without group mode: 4.01
        assertThrows(OscoreException.DecodeFailure.class, () -> p.verifyRequest(pairwise, g.db(0)));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyRequest(groupMode, pw.db(0)));
        assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectRequest(get("x"), g.client, GroupMode.PAIRWISE, g.ids.get(1)));
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(get("x"), pw.client, GroupMode.GROUP, null));
    }

    @Test
    void GRP_22_everyResponseToAPairwiseRequestMustComeFromTheAddressedServer() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request reg = get("state");
        reg.setObserve();
        GroupRequest toA1 = p.protectRequest(reg, g.client, GroupMode.PAIRWISE, g.ids.get(1));
        VerifiedGroupRequest atA1 = p.verifyRequest(wire(toA1), g.db(0));
        Response first = content("1");
        first.getOptions().setObserve(1);
        assertArrayEquals(g.ids.get(1), p.verifyResponse(wire(p.protectResponse(first, atA1.binding(), g.servers.get(0),
                GroupMode.GROUP, false)), toA1.binding(), null).serverKid());
        // a later "notification" signed by a2 (kid2 != kid1) is not delivered
        VerifiedGroupRequest atA2 = p.verifyRequest(wire(p.protectRequest(get("state"), g.client, GroupMode.GROUP, null)), g.db(1));
        Response other = content("2");
        other.getOptions().setObserve(2);
        Response fromA2 = wire(p.protectResponse(other, atA2.binding(), g.servers.get(1), GroupMode.GROUP, true));
        assertThrows(OscoreException.ContextNotFound.class, () -> p.verifyResponse(fromA2, toA1.binding(), null));
    }

    @Test
    void GRP_24_GRP_25_aDeletedRecipientContextComesBackInvalidAndEchoRestoresIt() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContext server = g.servers.get(0);
        p.verifyRequest(wire(p.protectRequest(get("x"), g.client, GroupMode.PAIRWISE, g.ids.get(1))), g.db(0));
        server.deleteRecipient(g.ids.get(0));
        Request again = wire(p.protectRequest(get("x"), g.client, GroupMode.PAIRWISE, g.ids.get(1)));
        GroupEchoRequired challenge = assertThrows(GroupEchoRequired.class, () -> p.verifyRequest(again, g.db(0)));
        assertFalse(server.recipient(g.ids.get(0)).replayWindow().isValid(), "GRP-24: the new window starts invalid");
        // GRP-25: the 4.01 carries only an Echo and the server's own Partial IV
        Response r401 = new Response(ResponseCode.UNAUTHORIZED);
        r401.setType(org.eclipse.californium.core.coap.CoAP.Type.ACK);
        r401.setMID(7);
        r401.setToken(new byte[] {1, 2, 3});
        r401.getOptions().addOption(org.eclipse.californium.core.coap.option.StandardOptionRegistry.ECHO.create(challenge.echo()));
        Response sent = wire(p.protectResponse(r401, challenge.binding(), server, challenge.binding().mode(), true));
        assertNotNull(OscoreOptionValue.decode(sent.getOptions().getOscore(), true).partialIv(), "own Partial IV");
        // the client repeats the request with the Echo value: accepted, window valid from that number on
        Request withEcho = get("x");
        withEcho.getOptions().addOption(org.eclipse.californium.core.coap.option.StandardOptionRegistry.ECHO.create(challenge.echo()));
        Request echoed = wire(p.protectRequest(withEcho, g.client, GroupMode.PAIRWISE, g.ids.get(1)));
        assertEquals("x", p.verifyRequest(echoed, g.db(0)).getOptions().getUriPathString());
        assertTrue(server.recipient(g.ids.get(0)).replayWindow().isValid());
        assertThrows(OscoreException.Replay.class, () -> p.verifyRequest(wire(again), g.db(0)), "older numbers count as used");
    }
}
