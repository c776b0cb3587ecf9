package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.Test;

/**
 * Inputs the fuzzer found ({@code fuzz/OscoreUnprotectFuzzTest}, {@code fuzz/GroupUnprotectFuzzTest}),
 * each minimized to the plaintext an authentic peer sealed, named after what it broke, and kept
 * in that target's seed corpus too.
 */
class ProtectionPipelineRegressionTest {
    private static final byte[] SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static OscoreContext context(byte[] sender, byte[] recipient) throws Exception {
        return OscoreContext.builder().masterSecret(SecretBytes.copyOf(SECRET)).senderId(sender).recipientId(recipient)
                .stateStore(SecurityStateStore.inMemory()).build();
    }

    /** An authentic request around {@code plaintext}, as the client's view seals it. */
    private static Request sealed(OscoreContext client, String plaintextHex) throws Exception {
        RequestProtector.SealedRequest s = client.protector().seal(new byte[0], Hex.decode(plaintextHex), false);
        Request r = new Request(Code.POST, Type.CON);
        r.setMID(1);
        r.setToken(new byte[] {1});
        r.getOptions().setOscore(s.optionValue());
        r.setPayload(s.payload());
        return r;
    }

    /**
     * Fuzz finding 2: a GET whose plaintext carries a payload (01 ff 00). The window had accepted
     * its Partial IV when Californium's Request.setPayload threw IllegalArgumentException ("Message
     * must not have payload!"): an undocumented exception escaped the pipeline, and the request's
     * Partial IV was used up without an answer. It is delivered now as Californium's own parser
     * delivers a plain GET with payload: marked as unintended payload.
     */
    @Test
    void getWithPayloadIsDeliveredWithUnintendedPayload() throws Exception {
        OscoreContext server = context(new byte[] {1}, new byte[0]);
        OscoreContext client = context(new byte[0], new byte[] {1});
        Request plain = pipeline.unprotectRequest(sealed(client, "01ff00"), new InMemoryContextDb().add(server)).plain();
        assertEquals(Code.GET, plain.getCode());
        assertTrue(plain.isUnintendedPayload());
        assertArrayEquals(new byte[] {0}, plain.getPayload());
        plain = pipeline.unprotectRequest(sealed(client, "04ff0102"), new InMemoryContextDb().add(context(new byte[] {1},
                new byte[0]))).plain();
        assertEquals(Code.DELETE, plain.getCode());
        assertArrayEquals(new byte[] {1, 2}, plain.getPayload());
    }

    /**
     * Fuzz finding 3: an authentic request with inner code 0.09, which no CoAP method has
     * (09 ff 00). The window had accepted its Partial IV when Californium's Code.valueOf threw
     * MessageFormatException: an undocumented exception, and the Partial IV used up without an
     * answer. It gets the protected 4.05 Method Not Allowed of RFC 7252 Section 5.8 now; the
     * Partial IV is used, as for every authentic request.
     */
    @Test
    void unknownInnerMethodCodeGetsAProtected405() throws Exception {
        OscoreContext server = context(new byte[] {1}, new byte[0]);
        OscoreContext client = context(new byte[0], new byte[] {1});
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        for (String code : new String[] {"09", "08", "1f"}) {
            ProtectedAnswerRequired a = assertThrows(ProtectedAnswerRequired.class,
                    () -> pipeline.unprotectRequest(sealed(client, code + "ff00"), db));
            assertEquals(ResponseCode.METHOD_NOT_ALLOWED, a.code());
        }
        assertEquals(Code.CUSTOM_30, pipeline.unprotectRequest(sealed(client, "1e"), db).plain().getCode());
    }

    /**
     * Fuzz finding 4: an authentic response with inner code 3.03 (63 ff 00). Class 3 passes
     * CoAP.isResponse, the client's Response Numbers recorded the responder's Partial IV, and then
     * Californium's ResponseCode.valueOf threw MessageFormatException: an undocumented exception,
     * after the state had changed. Class 3 is reserved; such a response is now a DecodeFailure
     * before anything is recorded, and the same response with a valid code still verifies after it.
     */
    @Test
    void reservedResponseClass3IsADecodeFailureBeforeAnythingIsRecorded() throws Exception {
        OscoreContext server = context(new byte[] {1}, new byte[0]);
        OscoreContext client = context(new byte[0], new byte[] {1});
        Request get = new Request(Code.GET, Type.CON);
        get.setMID(2);
        get.setToken(new byte[] {2});
        ProtectionPipeline.ProtectedRequest sent = pipeline.protectRequest(get, client.protector());
        RequestIdentifiers served = pipeline.unprotectRequest(sent.wire(), new InMemoryContextDb().add(server)).identifiers();
        ResponseProtector.SealedResponse bad = served.responseProtector().seal(served, new byte[0], Hex.decode("63ff00"), true);
        assertThrows(OscoreException.DecodeFailure.class, () -> pipeline.unprotectResponse(response(bad), sent.identifiers()));
        ResponseProtector.SealedResponse good = served.responseProtector().seal(served, new byte[0], Hex.decode("45ff00"), false);
        assertEquals(ResponseCode.CONTENT, pipeline.unprotectResponse(response(good), sent.identifiers()).plain().getCode());
    }

    private static org.eclipse.californium.core.coap.Response response(ResponseProtector.SealedResponse s) {
        org.eclipse.californium.core.coap.Response r = new org.eclipse.californium.core.coap.Response(ResponseCode.CHANGED);
        r.setType(Type.ACK);
        r.setMID(2);
        r.setToken(new byte[] {2});
        r.getOptions().setOscore(s.optionValue());
        r.setPayload(s.payload());
        return r;
    }

    /**
     * Fuzz finding 9 (GroupUnprotectFuzzTest, 150 s run: an authentic pairwise response with an
     * outer Size2 of 2^32 - 1 added on the way, which nothing authenticates): Californium's parser
     * keeps Size1/Size2 in an int, so it held a negative value, and listing the outer options at
     * the end of unprotectResponse threw IllegalArgumentException after the responder's Partial IV
     * had been recorded; on a request, after the window had accepted it. Anyone on the path could
     * so use up an authentic message. The outer options are sorted out first now, and that
     * message is a DecodeFailure before any state moves; the same message without the option
     * still verifies after it.
     */
    @Test
    void outerSize1Of2To31OrMoreIsADecodeFailureBeforeTheWindowMoves() throws Exception {
        OscoreContext server = context(new byte[] {1}, new byte[0]);
        OscoreContext client = context(new byte[0], new byte[] {1});
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        Request r = sealed(client, "01");
        byte[] clean = new org.eclipse.californium.core.network.serialization.UdpDataSerializer().getByteArray(r);
        // what Californium's parser makes of an outer Size1 80 00 00 00: a negative int in the OptionSet
        r.getOptions().addOption(new org.eclipse.californium.core.coap.Option(60, Hex.decode("80000000")));
        Request hostile = r;
        String window = server.replayWindow().snapshot();
        assertThrows(OscoreException.DecodeFailure.class, () -> pipeline.unprotectRequest(hostile, db));
        assertEquals(window, server.replayWindow().snapshot());
        Request good = (Request) new org.eclipse.californium.core.network.serialization.UdpDataParser().parseMessage(clean);
        assertEquals(Code.GET, pipeline.unprotectRequest(good, db).plain().getCode());
    }
}
