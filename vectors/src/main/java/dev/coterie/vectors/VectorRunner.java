package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.keystore.CborWriter;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.Nonce;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * Checks every input/output pair of the vector files against Coterie's code, under one crypto
 * provider. Protected messages are produced by the real protection pipeline, with the sequence
 * numbers the vectors give; intermediate values (info, nonce, AAD, ...) are recomputed from
 * public inputs. Derived keys are compared in constant time and, on a mismatch, shown only as
 * fingerprints. Published vectors and Coterie's own are reported apart ({@link VectorResult#own()}).
 */
public final class VectorRunner {
    /** Coterie's own vectors, for what no one has published; reported apart from the published ones. */
    public static final String OWN_FILE = "coterie-group-vectors.json";
    public static final List<String> FILES = List.of("rfc8613-appendix-c.json", "rfc8613-sections-5.4-6.3-examples.json",
            "cacheable-oscore.json", "group-oscore-draft28.json", OWN_FILE);

    private final CryptoProvider provider;
    private final ObjectMapper json = new ObjectMapper();
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    public VectorRunner(CryptoProvider provider) {
        this.provider = provider;
    }

    public List<VectorResult> runAll() {
        List<VectorResult> out = new ArrayList<>();
        for (String f : FILES) {
            out.addAll(run(f));
        }
        return out;
    }

    public List<VectorResult> run(String file) {
        JsonNode root = load(file);
        List<VectorResult> out = new ArrayList<>();
        Map<String, JsonNode> bySection = new HashMap<>();
        for (JsonNode v : root.get("vectors")) {
            bySection.put(v.get("source_section").asText(), v);
        }
        for (JsonNode v : root.get("vectors")) {
            String name = v.get("source_section").asText() + " " + v.get("name").asText();
            try {
                out.add(check(file, name, v, bySection));
            } catch (Mismatch m) {
                out.add(VectorResult.fail(file, name, m.field, m.expected, m.got));
            } catch (Exception e) {
                out.add(VectorResult.fail(file, name, "exception", "none", e.getClass().getSimpleName() + ": " + e.getMessage()));
            }
        }
        return out;
    }

    private VectorResult check(String file, String name, JsonNode v, Map<String, JsonNode> bySection) throws Exception {
        String section = v.get("source_section").asText();
        if (section.startsWith("Appendix C.") && v.has("outputs") && v.get("outputs").has("sender_key")) {
            checkDerivation(v);
        } else if (section.equals("Appendix C.4") || section.equals("Appendix C.5") || section.equals("Appendix C.6")) {
            checkRequest(v, bySection);
        } else if (section.equals("Appendix C.7") || section.equals("Appendix C.8")) {
            checkResponse(v, bySection);
        } else if (section.equals("Section 5.4")) {
            checkAad(v);
        } else if (section.startsWith("Section 6.3")) {
            checkCompression(v);
        } else if (section.equals("Appendix F.1")) {
            GroupVectors.checkSetup(provider, v);
        } else if (section.equals("Appendix F.2")) {
            GroupVectors.checkDeterministicRequest(provider, pipeline, v, bySection.get("Appendix F.1"));
        } else if (section.equals("Appendix F.3")) {
            GroupVectors.checkGroupModeResponse(provider, pipeline, v, bySection.get("Appendix F.1"), bySection.get("Appendix F.2"));
        } else if (section.startsWith("Section 4.3")) {
            GroupVectors.checkCompression(v);
        } else if (section.startsWith("coterie-")) {
            new OwnGroupVectors(provider).check(v);
        } else {
            throw new Mismatch("kind", "a known vector kind", section);
        }
        return VectorResult.pass(file, name);
    }

    private OscoreContext context(JsonNode inputs, long startSeq) throws StateUnavailableException {
        return OscoreContext.builder().provider(provider)
                .aead(AeadAlgorithm.fromCoseId(inputs.get("aead_alg").asInt()))
                .hkdf(HkdfAlgorithm.parse(inputs.get("hkdf").asText()))
                .masterSecret(SecretBytes.fromHex(inputs.get("master_secret").asText()))
                .masterSalt(bytesOrNull(inputs.get("master_salt")))
                .idContext(bytesOrNull(inputs.get("id_context")))
                .senderId(Hex.decode(inputs.get("sender_id").asText()))
                .recipientId(Hex.decode(inputs.get("recipient_id").asText()))
                .stateStore(SecurityStateStore.inMemoryStartingAt(startSeq))
                .keepDerivedKeysForVectors()
                .build();
    }

    private void checkDerivation(JsonNode v) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode mid = v.get("intermediate");
        JsonNode out = v.get("outputs");
        OscoreContext ctx = context(in, 0);
        expect("info_sender_key", mid, OscoreContext.info(ctx.senderId(), ctx.idContext(), ctx.aead(), "Key", ctx.aead().keyLength()));
        expect("info_recipient_key", mid, OscoreContext.info(ctx.recipientId(), ctx.idContext(), ctx.aead(), "Key",
                ctx.aead().keyLength()));
        expect("info_common_iv", mid, OscoreContext.info(new byte[0], ctx.idContext(), ctx.aead(), "IV", ctx.aead().nonceLength()));
        SecretBytes[] keys = ctx.derivedKeysForVectors();
        expectSecret("sender_key", out, keys[0]);
        expectSecret("recipient_key", out, keys[1]);
        expect("common_iv", out, ctx.commonIv());
        expect("sender_nonce_piv0", out, nonce(ctx, ctx.senderId(), new byte[] {0}));
        expect("recipient_nonce_piv0", out, nonce(ctx, ctx.recipientId(), new byte[] {0}));
    }

    private void checkRequest(JsonNode v, Map<String, JsonNode> bySection) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode ctxVector = bySection.get("Appendix " + v.get("uses_context_from").asText().replace("Appendix ", ""));
        OscoreContext ctx = context(ctxVector.get("inputs"), in.get("sender_sequence_number").asLong());
        expect("common_iv", in, ctx.commonIv());
        Request plain = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_coap_message").asText()));
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(plain, ctx.protector());
        RequestIdentifiers ids = p.identifiers();
        JsonNode mid = v.get("intermediate");
        expect("partial_iv", mid, ids.partialIv());
        expect("aad", mid, aad(ctx, ids.kid(), ids.partialIv()));
        expect("nonce", mid, nonce(ctx, ctx.senderId(), ids.partialIv()));
        JsonNode out = v.get("outputs");
        expect("oscore_option_value", out, p.wire().getOptions().getOscore());
        expect("ciphertext", out, p.wire().getPayload());
        expect("protected_coap_message", out, new UdpDataSerializer().getByteArray(p.wire()));
    }

    private void checkResponse(JsonNode v, Map<String, JsonNode> bySection) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode serverVector = bySection.get("Appendix " + v.get("uses_context_from").asText().replace("Appendix ", ""));
        JsonNode requestVector = bySection.get("Appendix " + v.get("responds_to").asText().replace("Appendix ", ""));
        // the server first verifies the published request, which gives the binding its response needs
        OscoreContext server = context(serverVector.get("inputs"), in.get("sender_sequence_number").asLong());
        Request wire = (Request) new UdpDataParser().parseMessage(
                Hex.decode(requestVector.get("outputs").get("protected_coap_message").asText()));
        RequestIdentifiers ids = pipeline.unprotectRequest(wire, new InMemoryContextDb().add(server)).identifiers();
        expect("request_kid", in, ids.kid());
        expect("request_partial_iv", in, ids.partialIv());
        Response plain = (Response) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_coap_message").asText()));
        if (!v.get("intermediate").get("partial_iv").isNull()) {
            // C.8 is a response with the server's own Partial IV: what every response after the first gets
            ids.claimReusableNonce();
        }
        Response p = pipeline.protectResponse(plain, ids);
        JsonNode mid = v.get("intermediate");
        expect("aad", mid, aad(server, ids.kid(), ids.partialIv()));
        JsonNode out = v.get("outputs");
        expect("oscore_option_value", out, p.getOptions().getOscore());
        expect("ciphertext", out, p.getPayload());
        expect("protected_coap_message", out, new UdpDataSerializer().getByteArray(p));
    }

    private void checkAad(JsonNode v) throws Mismatch {
        JsonNode in = v.get("inputs");
        JsonNode out = v.get("outputs");
        byte[] algs = algorithms(in.get("alg_aead").asInt());
        byte[] array = ProtectionPipeline.oscoreAadArray(algs, Hex.decode(in.get("request_kid").asText()),
                Hex.decode(in.get("request_piv").asText()), Hex.decode(in.get("class_i_options").asText()));
        expect("algorithms", v.get("intermediate"), algs);
        expect("aad_array", out, array);
        expect("external_aad", out, new CborWriter(array.length + 3).bytes(array).toByteArray());
        expect("aad", out, ProtectionPipeline.encStructure(array));
    }

    private void checkCompression(JsonNode v) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode out = v.get("outputs");
        JsonNode unprot = in.get("cose_encrypt0_unprotected");
        byte[] kid = unprot.has("4") ? Hex.decode(unprot.get("4").asText()) : null;
        byte[] piv = unprot.has("6") ? Hex.decode(unprot.get("6").asText()) : null;
        byte[] kidContext = unprot.has("10") ? Hex.decode(unprot.get("10").asText()) : null;
        OscoreOptionValue value = new OscoreOptionValue(piv, kidContext, kid, false);
        byte[] encoded = value.encode();
        expect("oscore_option_value", out, encoded);
        expect("flag_byte", out, new byte[] {encoded.length == 0 ? 0 : encoded[0]});
        OscoreOptionValue decoded = OscoreOptionValue.decode(Hex.decode(out.get("oscore_option_value").asText()), false);
        if (!decoded.equals(value)) {
            throw new Mismatch("decoded option", value.toString(), decoded.toString());
        }
        byte[] ct = Hex.decode(in.get("ciphertext").asText());
        expect("payload", out, ct);
        int after = encoded.length + ct.length;
        if (after != out.get("size_after_compression").asInt()) {
            throw new Mismatch("size_after_compression", out.get("size_after_compression").asText(), String.valueOf(after));
        }
        byte[] cose = coseEncrypt0(kid, piv, kidContext, ct);
        expect("cose_encrypt0_serialized", in, cose);
        if (cose.length != in.get("size_before_compression").asInt()) {
            throw new Mismatch("size_before_compression", in.get("size_before_compression").asText(), String.valueOf(cose.length));
        }
    }

    /** The 'algorithms' element of an RFC 8613 aad_array: [alg_aead]. */
    private static byte[] algorithms(int alg) {
        return new CborWriter(4).array(1).integer(alg).toByteArray();
    }

    private static byte[] aad(OscoreContext ctx, byte[] requestKid, byte[] requestPiv) {
        return ProtectionPipeline.encStructure(ProtectionPipeline.oscoreAadArray(algorithms(ctx.aead().coseId()), requestKid,
                requestPiv, new byte[0]));
    }

    private static byte[] nonce(OscoreContext ctx, byte[] idPiv, byte[] piv) {
        return Nonce.build(ctx.commonIv(), ctx.aead().nonceLength(), idPiv, piv);
    }

    /** The uncompressed COSE_Encrypt0 [h'', {4: kid, 6: piv, 10: kid context}, ciphertext] (Section 6.3). */
    private static byte[] coseEncrypt0(byte[] kid, byte[] piv, byte[] kidContext, byte[] ciphertext) {
        int n = (kid != null ? 1 : 0) + (piv != null ? 1 : 0) + (kidContext != null ? 1 : 0);
        CborWriter w = new CborWriter(64).array(3).bytes(new byte[0]).map(n);
        if (kid != null) {
            w.integer(4).bytes(kid);
        }
        if (piv != null) {
            w.integer(6).bytes(piv);
        }
        if (kidContext != null) {
            w.integer(10).bytes(kidContext);
        }
        return w.bytes(ciphertext).toByteArray();
    }

    static void expect(String field, JsonNode node, byte[] got) throws Mismatch {
        JsonNode e = node.get(field);
        if (e == null) {
            throw new Mismatch(field, "a field in the vector", "none");
        }
        byte[] expected = Hex.decode(e.asText());
        if (!Arrays.equals(expected, got)) {
            throw new Mismatch(field, e.asText(), Hex.encode(got));
        }
    }

    static void expectSecret(String field, JsonNode node, SecretBytes got) throws Mismatch {
        byte[] expected = Hex.decode(node.get(field).asText());
        if (!got.matches(expected)) {
            throw new Mismatch(field, SecretBytes.copyOf(expected).fingerprint(), got.fingerprint()
                    + " (derived keys are shown as fingerprints)");
        }
    }

    private static byte[] bytesOrNull(JsonNode n) {
        return n == null || n.isNull() ? null : Hex.decode(n.asText());
    }

    private JsonNode load(String file) {
        try (InputStream in = VectorRunner.class.getResourceAsStream("data/" + file)) {
            if (in == null) {
                throw new IllegalStateException("vector file missing from the class path: " + file);
            }
            return json.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read vector file " + file, e);
        }
    }

    static final class Mismatch extends Exception {
        private static final long serialVersionUID = 1L;
        final String field;
        final String expected;
        final String got;

        Mismatch(String field, String expected, String got) {
            super(field, null, false, false);
            this.field = field;
            this.expected = expected;
            this.got = got;
        }
    }
}
