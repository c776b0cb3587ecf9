package dev.coterie.grouposcore;

import static dev.coterie.grouposcore.TestGroup.wire;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
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
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.modes.CCMBlockCipher;
import org.bouncycastle.crypto.params.AEADParameters;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.crypto.params.KeyParameter;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/** Deterministic requests (draft-ietf-core-cacheable-oscore Section 3, DET-01 ... DET-11) through the one pipeline. */
class DeterministicRequestTest {
    private static final byte[] DET = {(byte) 0xdc};
    private static final ExtensionOptionRegistry REG = ExtensionOptionRegistry.defaults();
    private final ProtectionPipeline p = new ProtectionPipeline(REG);

    /** A group of one client (c1) and three servers, all knowing the Deterministic Client dc. */
    private static TestGroup group(GroupAlgorithms algs) throws Exception {
        TestGroup g = new TestGroup(algs, new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5c},
                SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"));
        g.detSenderId = DET;
        g.client = g.member(0, SecurityStateStore.inMemory());
        g.servers.clear();
        for (int i = 1; i < 4; i++) {
            g.servers.add(g.member(i, SecurityStateStore.inMemory()));
        }
        return g;
    }

    private static Request get(String path) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(7);
        r.setToken(new byte[] {1, 2, 3});
        r.getOptions().setUriPath(path);
        return r;
    }

    private static Response content(String payload, long maxAge) {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.ACK);
        r.setMID(7);
        r.setToken(new byte[] {1, 2, 3});
        if (maxAge >= 0) {
            r.getOptions().setMaxAge(maxAge);
        }
        r.setPayload(payload);
        return r;
    }

    private RequestProtector det(GroupContext member, byte[] target) {
        return member.deterministic(target, null, REG, false, 0);
    }

    @Test
    void DET_01_DET_04_everyMemberBuildsTheSameRequestWithOuterFetchAndRequestHash() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        Request fromClient = p.protectRequest(get("temp"), det(g.client, null)).wire();
        Request fromServer = p.protectRequest(get("temp"), det(g.servers.get(1), null)).wire();
        assertArrayEquals(fromClient.getPayload(), fromServer.getPayload(), "the same ciphertext from two members");
        assertArrayEquals(fromClient.getOptions().getOscore(), fromServer.getOptions().getOscore());
        assertEquals(Code.FETCH, fromClient.getCode(), "DET-04: outer FETCH for GET semantics");
        assertFalse(fromClient.getOptions().hasObserve(), "DET-04: no outer Observe");
        OscoreOptionValue o = OscoreOptionValue.decode(fromClient.getOptions().getOscore(), true);
        assertArrayEquals(DET, o.kid(), "DET-02: kid = det SID");
        assertArrayEquals(new byte[] {0}, o.partialIv(), "Partial IV 0");
        assertArrayEquals(g.gid, o.kidContext());
        assertFalse(o.groupFlag());
        int hash = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        assertTrue(fromClient.getOptions().hasOption(hash), "Request-Hash outer (class U)");
        assertEquals(0, g.client.senderSequence().peek(), "no sequence number consumed");
        // a different plain request gives a different hash and ciphertext
        Request other = p.protectRequest(get("humidity"), det(g.client, null)).wire();
        assertFalse(java.util.Arrays.equals(other.getPayload(), fromClient.getPayload()));
    }

    /**
     * The vectors use algorithm 10 for both the AEAD and the Group Encryption Algorithm and cannot
     * tell them apart: the Deterministic Client's Sender Key is derived with the Group Encryption
     * Algorithm (Group OSCORE 2.3), the request key K with the AEAD Algorithm (2.5.1). Here they
     * differ, and the request is checked against keys computed independently (Bouncy Castle HKDF
     * and CCM, the JDK's SHA-256).
     */
    @Test
    void DET_01_senderKeyUsesTheGroupEncryptionAlgorithmAndTheRequestKeyTheAead() throws Exception {
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, AeadAlgorithm.A128GCM,
                SignatureAlgorithm.EDDSA_ED25519, KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        TestGroup g = group(algs);
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(get("temp"), det(g.client, null));
        byte[] secret = Hex.decode("0102030405060708090a0b0c0d0e0f10");
        byte[] salt = {(byte) 0x9e, 0x7c};
        byte[] senderKey = hkdf(salt, secret, info(DET, g.gid, 1, 16), 16);   // A128GCM = 1
        byte[] commonIv = hkdf(salt, secret, info(new byte[0], g.gid, 1, "IV", 13), 13);
        byte[] option = pr.wire().getOptions().getOscore();
        byte[] aad = GroupCose.aadArray(algs.algorithmsCbor(), DET, new byte[] {0}, new byte[0], g.gid, option, new byte[0],
                g.gm.encoded());
        byte[] plaintext = Hex.decode("01" + "b4" + Hex.encode("temp".getBytes()));
        java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
        sha.update(senderKey);
        sha.update(aad);
        byte[] h = sha.digest(plaintext);
        assertTrue(g.client.recipientKeyForVectors(DET).matches(senderKey), "the Deterministic Client's Sender Key");
        assertArrayEquals(commonIv, g.client.commonIv(), "Common IV");
        assertArrayEquals(h, pr.identifiers().requestHash());
        byte[] k = hkdf(senderKey, h, info(DET, g.gid, 10, 16), 16);          // AES-CCM-16-64-128 = 10
        byte[] nonce = dev.coterie.oscore.Nonce.build(commonIv, 13, DET, new byte[] {0});
        CCMBlockCipher ccm = new CCMBlockCipher(AESEngine.newInstance());
        ccm.init(true, new AEADParameters(new KeyParameter(k), 64, nonce, ProtectionPipeline.encStructure(aad)));
        byte[] expected = new byte[ccm.getOutputSize(plaintext.length)];
        ccm.doFinal(expected, ccm.processBytes(plaintext, 0, plaintext.length, expected, 0));
        assertArrayEquals(expected, pr.wire().getPayload());
        // and the group-mode response is under the Group Encryption Algorithm (GCM here): it verifies end to end
        RequestIdentifiers at = p.unprotectRequest(wire(pr.wire()), g.db(0)).identifiers();
        assertEquals("21.5", p.unprotectResponse(wire(p.protectResponse(content("21.5", 30), at)), pr.identifiers()).plain()
                .getPayloadString());
        // the test can tell the two algorithms apart: with the AEAD's identifier the Sender Key would differ
        assertFalse(java.util.Arrays.equals(hkdf(salt, secret, info(DET, g.gid, 10, 16), 16), senderKey));
    }

    private static byte[] info(byte[] id, byte[] gid, int alg, int length) {
        return info(id, gid, alg, "Key", length);
    }

    private static byte[] info(byte[] id, byte[] gid, int alg, String type, int length) {
        return new CborWriter(32).array(5).bytes(id).bytes(gid).integer(alg).text(type).integer(length).toByteArray();
    }

    private static byte[] hkdf(byte[] salt, byte[] ikm, byte[] info, int length) {
        HKDFBytesGenerator gen = new HKDFBytesGenerator(new SHA256Digest());
        gen.init(new HKDFParameters(ikm, salt, info));
        byte[] out = new byte[length];
        gen.generateBytes(out, 0, length);
        return out;
    }

    @Test
    void DET_05_noReplayWindowAndTheHashIsCheckedAfterDecryption() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        Request req = p.protectRequest(get("temp"), det(g.client, null)).wire();
        ProtectionPipeline.Unprotected<Request> first = p.unprotectRequest(wire(req), g.db(0));
        assertEquals(ProtectionMode.DETERMINISTIC, first.identifiers().mode());
        // the same request again is accepted: there is no replay window for the Deterministic Client
        assertEquals("temp", p.unprotectRequest(wire(req), g.db(0)).plain().getOptions().getUriPathString());
        // a Request-Hash that does not match the plaintext: the derived key is wrong, or the recomputed H differs
        Request bad = wire(req);
        int number = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        byte[] h = bad.getOptions().getOthers().stream().filter(o -> o.getNumber() == number).findFirst().orElseThrow().getValue();
        h[0] ^= 1;
        bad.getOptions().clearOtherOption(number);
        bad.getOptions().addOption(new Option(REG.californiumRegistry().getDefinitionByNumber(number), h));
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(bad, g.db(0)));
        assertEquals("Decryption failed", e.diagnostic());
        // without Request-Hash, kid dc is an unknown member: not a deterministic request (DET-05)
        Request noHash = wire(req);
        noHash.getOptions().clearOtherOption(number);
        assertThrows(OscoreException.ContextNotFound.class, () -> p.unprotectRequest(noHash, g.db(0)));
    }

    /**
     * DET-05, review B finding 3: a member knows SenderKey_det, so it can derive the request key
     * K from any hash. It sends the Request-Hash of GET /temperature with GET /secret encrypted
     * under K(H(GET /temperature)): the request decrypts, and only recomputing H over the
     * recovered plaintext stops a cache from storing the answer for /secret under /temperature's
     * hash. The honest requests are the positive control.
     */
    @Test
    void DET_05_aRequestThatDecryptsUnderAnotherRequestsHashIsRejectedByTheRecomputation() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        int number = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        Request honest = p.protectRequest(get("temperature"), det(g.client, null)).wire();
        byte[] h = honest.getOptions().getOthers().stream().filter(o -> o.getNumber() == number).findFirst().orElseThrow()
                .getValue();
        // the positive control: the honest requests for /temperature and for /secret are accepted
        assertEquals("temperature", p.unprotectRequest(wire(honest), g.db(0)).plain().getOptions().getUriPathString());
        Request honestSecret = p.protectRequest(get("secret"), det(g.client, null)).wire();
        assertEquals("secret", p.unprotectRequest(wire(honestSecret), g.db(0)).plain().getOptions().getUriPathString());

        // the forgery: the same outer message (OSCORE option, Request-Hash), GET /secret sealed under K(h)
        Request forged = wire(honest);
        byte[] sid = g.client.deterministicSenderIdRaw();
        byte[] aad = GroupCose.aadArray(g.client, sid, new byte[] {0}, dev.coterie.oscore.Plaintext.encodeOptions(List.of()),
                g.gid, forged.getOptions().getOscore(), new byte[0]);
        Request secret = get("secret");
        byte[] pt = dev.coterie.oscore.Plaintext.encode(Code.GET.value, secret.getOptions().asSortedList(), new byte[0]);
        forged.setPayload(GroupCose.seal(g.client, g.client.deterministicRequestKey(h), g.algs.aead(),
                dev.coterie.oscore.SealingNonce.deterministicRequest(sid), aad, pt));
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(wire(forged), g.db(0)));
        // this message comes from the recomputation only: the AEAD accepted the forgery
        assertEquals("the request hash does not match the plaintext", e.getMessage());
        assertEquals("Decryption failed", e.diagnostic());
    }

    @Test
    void DET_06_anUnsafeDeterministicRequestGetsAProtected401() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        Request post = new Request(Code.POST, Type.CON);
        post.setMID(8);
        post.setToken(new byte[] {8});
        post.getOptions().setUriPath("temp");
        RequestProtector view = det(g.client, null);
        Request unsafe = post;
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(unsafe, view), "the client refuses first");
        // a client that does not check: the server answers with a protected 4.01 and does not process it
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(unsafe, new Unchecked(view));
        ProtectedAnswerRequired a = assertThrows(ProtectedAnswerRequired.class, () -> p.unprotectRequest(wire(pr.wire()), g.db(0)));
        assertEquals(ResponseCode.UNAUTHORIZED, a.code());
        Response answer = ProtectionPipeline.protectedAnswer(wire(pr.wire()), a);
        answer.setMID(8);
        Response sent = wire(p.protectResponse(answer, a.identifiers()));
        Response got = p.unprotectResponse(sent, pr.identifiers()).plain();
        assertEquals(ResponseCode.UNAUTHORIZED, got.getCode());
        assertEquals("Deterministic requests must be safe", got.getPayloadString());
    }

    /** A view that skips the client-side checks, as a hostile or careless client would. */
    private record Unchecked(RequestProtector v) implements RequestProtector {
        @Override public ProtectionMode mode() { return v.mode(); }
        @Override public String contextName() { return v.contextName(); }
        @Override public byte[] plaintext(int code, List<Option> inner, byte[] payload) { return v.plaintext(code, inner, payload); }
        @Override public SealedRequest seal(byte[] classI, byte[] pt, boolean observe) throws OscoreException {
            return v.seal(classI, pt, observe);
        }
    }

    @Test
    void DET_07_theResponseIsInGroupModeWithItsOwnPartialIvOuter205AndOuterMaxAge() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(get("temp"), det(g.client, g.ids.get(1)));
        RequestIdentifiers at = p.unprotectRequest(wire(pr.wire()), g.db(0)).identifiers();
        Response sent = wire(p.protectResponse(content("21.5", 30), at));
        assertEquals(ResponseCode.CONTENT, sent.getCode(), "outer 2.05");
        assertEquals(30L, sent.getOptions().getMaxAge(), "outer Max-Age = inner");
        OscoreOptionValue o = OscoreOptionValue.decode(sent.getOptions().getOscore(), true);
        assertTrue(o.groupFlag(), "group mode");
        assertNotNull(o.partialIv(), "the server's own Partial IV");
        assertArrayEquals(g.ids.get(1), o.kid());
        int hash = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        assertFalse(sent.getOptions().hasOption(hash), "Request-Hash elided on the wire");
        assertEquals("21.5", p.unprotectResponse(sent, pr.identifiers()).plain().getPayloadString());
        // no inner Max-Age: the outer one is 60; an inner Max-Age of 0 is refused
        RequestIdentifiers again = p.unprotectRequest(wire(pr.wire()), g.db(0)).identifiers();
        assertEquals(60L, wire(p.protectResponse(content("21.5", -1), again)).getOptions().getMaxAge());
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectResponse(content("x", 0), again));
    }

    @Test
    void DET_08_aResponseToAMulticastDeterministicRequestMustCarryItsKid() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest toGroup = p.protectRequest(get("temp"), det(g.client, null));
        RequestIdentifiers at = p.unprotectRequest(wire(toGroup.wire()), g.db(0)).identifiers();
        Response withKid = wire(p.protectResponse(content("21.5", 30), at));
        Response kidless = wire(withKid);
        OscoreOptionValue o = OscoreOptionValue.decode(kidless.getOptions().getOscore(), true);
        kidless.getOptions().setOscore(new OscoreOptionValue(o.partialIv(), null, null, true).encode());
        assertThrows(OscoreException.DecodeFailure.class, () -> p.unprotectResponse(kidless, toGroup.identifiers()));
        assertEquals("21.5", p.unprotectResponse(withKid, toGroup.identifiers()).plain().getPayloadString(), "positive control");
    }

    @Test
    void DET_09_aResponseWithAnotherRequestHashIsRejected() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(get("temp"), det(g.client, null));
        RequestIdentifiers at = p.unprotectRequest(wire(pr.wire()), g.db(0)).identifiers();
        Response sent = wire(p.protectResponse(content("21.5", 30), at));
        int number = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        Response other = wire(sent);
        other.getOptions().addOption(new Option(REG.californiumRegistry().getDefinitionByNumber(number), new byte[32]));
        OscoreException e = assertThrows(OscoreException.DecodeFailure.class, () -> p.unprotectResponse(other, pr.identifiers()));
        assertTrue(e.getMessage().contains("DET-09"), e.getMessage());
        // the same Request-Hash put back on the wire is fine (a proxy may add it)
        Response same = wire(sent);
        same.getOptions().addOption(new Option(REG.californiumRegistry().getDefinitionByNumber(number), pr.identifiers().requestHash()));
        assertEquals("21.5", p.unprotectResponse(same, pr.identifiers()).plain().getPayloadString());
    }

    @Test
    void DET_11_paddingMakesTheRequestLongerAndTheServerIgnoresIt() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        Request plainOne = p.protectRequest(get("temp"), det(g.client, null)).wire();
        Request padded = p.protectRequest(get("temp"), g.client.deterministic(null, null, REG, false, 40)).wire();
        assertTrue(padded.getPayloadSize() >= plainOne.getPayloadSize() + 40 - 5 - 8, "the plaintext grew to about 40 bytes");
        Request got = p.unprotectRequest(wire(padded), g.db(0)).plain();
        assertEquals("temp", got.getOptions().getUriPathString());
        int padding = REG.byName(ExtensionOptionRegistry.PADDING).number();
        Option pad = got.getOptions().getOthers().stream().filter(o -> o.getNumber() == padding).findFirst().orElseThrow();
        assertTrue(java.util.Arrays.equals(pad.getValue(), new byte[pad.getLength()]), "all-zero Padding");
    }

    @Test
    void innerOnlyObserveAsksForNoObservationAndIsIgnoredInTheResponse() throws Exception {
        TestGroup g = group(GroupAlgorithms.defaults());
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(get("temp"), g.client.deterministic(null, null, REG, true, 0));
        assertFalse(pr.wire().getOptions().hasObserve(), "no outer Observe");
        ProtectionPipeline.Unprotected<Request> v = p.unprotectRequest(wire(pr.wire()), g.db(0));
        assertFalse(v.plain().getOptions().hasObserve(), "the server does not register an observation for an inner-only Observe");
        assertFalse(v.identifiers().isObserve());
        Response n = content("21.5", 30);
        n.getOptions().setObserve(4);
        Response got = p.unprotectResponse(wire(p.protectResponse(n, v.identifiers())), pr.identifiers()).plain();
        assertNull(got.getOptions().getObserve(), "an inner Observe is ignored by the client when only the inner one was sent");
    }
}
