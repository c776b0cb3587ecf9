package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupCose;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.Nonce;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import org.eclipse.californium.core.coap.Request;
import java.util.Arrays;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * The Group OSCORE vectors: cacheable-oscore Appendix F.1 (setup), F.2 (deterministic request)
 * and F.3 (its group-mode response), Group OSCORE -28 Section 4.3 (compression). F.2 and F.3 go
 * through the real pipeline: a member builds the deterministic request, the server verifies it
 * and protects its response with its own sequence number; intermediate values are recomputed
 * from public inputs, and the published signature is checked against the server's public key.
 */
final class GroupVectors {
    private GroupVectors() {
    }

    /** The F.1 group, seen by the server (Sender ID 52 with its Ed25519 key), its sequence number at {@code ssn}. */
    static GroupContext serverContext(CryptoProvider provider, JsonNode in) throws Exception {
        return serverContext(provider, in, 0, true);
    }

    private static GroupContext serverContext(CryptoProvider provider, JsonNode in, long ssn, boolean sender) throws Exception {
        if (in.get("aead_alg").asInt() != 10 || in.get("group_enc_alg").asInt() != 10 || in.get("signature_alg").asInt() != -8
                || in.get("pairwise_key_agreement_alg").asInt() != -27 || in.get("hkdf_alg").asInt() != 5) {
            throw new VectorRunner.Mismatch("algorithms", "10, 10, -8, -27, 5", "other values in the vector");
        }
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, AeadAlgorithm.AES_CCM_16_64_128,
                SignatureAlgorithm.EDDSA_ED25519, KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        PrivateKey key = provider.privateKey(PrivateKey.Type.ED25519, SecretBytes.fromHex(in.get("server_private_key").asText()));
        Credential cred = Credential.parseCcs(Hex.decode(in.get("server_auth_cred_ccs").asText()));
        GroupContext.Builder b = GroupContext.builder().provider(provider).algorithms(algs)
                .gid(Hex.decode(in.get("id_context").asText()))
                .masterSecret(SecretBytes.fromHex(in.get("master_secret").asText()))
                .masterSalt(Hex.decode(in.get("master_salt").asText()))
                .groupManagerCredential(Credential.parseCcs(Hex.decode(in.get("group_manager_auth_cred_ccs").asText())))
                .deterministicClient(Hex.decode(in.get("deterministic_client_sender_id").asText()),
                        HashAlgorithm.fromCoseId(in.get("det_hash_alg").asInt()))
                .stateStore(SecurityStateStore.inMemoryStartingAt(ssn));
        if (sender) {
            b.sender(Hex.decode(in.get("server_sender_id").asText()), key, cred);
        } else {
            // any member can build a deterministic request: it uses no key of its own
            b.member(Hex.decode(in.get("server_sender_id").asText()), cred);
        }
        return b.build();
    }

    static void checkSetup(CryptoProvider provider, JsonNode v) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode out = v.get("outputs");
        JsonNode rc = v.get("recomputed_checkpoints");
        GroupContext ctx = serverContext(provider, in);
        SecretBytes[] keys = ctx.derivedKeysForVectors();
        VectorRunner.expectSecret("server_sender_key", out, keys[0]);
        VectorRunner.expectSecret("signature_encryption_key", out, keys[1]);
        VectorRunner.expectSecret("deterministic_client_sender_key", out,
                ctx.recipientKeyForVectors(Hex.decode(in.get("deterministic_client_sender_id").asText())));
        VectorRunner.expect("common_iv", rc, ctx.commonIv());
        VectorRunner.expect("server_public_key_ed25519", rc, ctx.ownCredential().publicKey());
        VectorRunner.expect("server_x25519_public_key_from_ed25519", rc,
                ctx.ownCredential().agreementPublicKey(KeyAgreementAlgorithm.X25519, provider));
        PrivateKey ed = provider.privateKey(PrivateKey.Type.ED25519, SecretBytes.fromHex(in.get("server_private_key").asText()));
        VectorRunner.expect("server_x25519_public_key_from_ed25519", rc, provider.ed25519PrivateToX25519(ed).publicKey());
    }

    /** F.2: a member builds the deterministic request with the real pipeline (DET-01 ... DET-04). */
    static void checkDeterministicRequest(CryptoProvider provider, ProtectionPipeline pipeline, JsonNode v, JsonNode setup)
            throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode mid = v.get("intermediate");
        JsonNode out = v.get("outputs");
        JsonNode rc = v.get("recomputed_checkpoints");
        GroupContext member = serverContext(provider, setup.get("inputs"), 0, false);
        Request plain = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_coap_request").asText()));
        ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(plain, member.deterministic(null, null,
                ExtensionOptionRegistry.defaults(), in.get("inner_observe").asBoolean(), 0));
        RequestIdentifiers ids = p.identifiers();
        byte[] kid = Hex.decode(in.get("kid").asText());
        byte[] piv = Hex.decode(in.get("partial_iv").asText());
        byte[] gid = Hex.decode(in.get("kid_context").asText());
        VectorRunner.expect("kid", in, ids.kid());
        VectorRunner.expect("partial_iv", in, ids.partialIv());
        byte[] option = p.wire().getOptions().getOscore();
        VectorRunner.expect("oscore_option_value", out, option);
        byte[] aadArray = GroupCose.aadArray(algorithms(), kid, piv, new byte[0], gid, option, new byte[0],
                member.groupManagerCredential().encoded());
        VectorRunner.expect("aad_array", mid, aadArray);
        VectorRunner.expect("aad", mid, ProtectionPipeline.encStructure(aadArray));
        VectorRunner.expect("nonce", mid, Nonce.build(member.commonIv(), 13, kid, piv));
        VectorRunner.expect("request_hash", mid, ids.requestHash());
        VectorRunner.expect("request_hash_option_value", out, ids.requestHash());
        VectorRunner.expect("hkdf_info_for_deterministic_key", rc, new CborWriter(32).array(5).bytes(kid).bytes(gid)
                .integer(10).text("Key").integer(16).toByteArray());
        VectorRunner.expect("ciphertext", out, p.wire().getPayload());
        VectorRunner.expect("protected_coap_request", out, new UdpDataSerializer().getByteArray(p.wire()));
    }

    /**
     * F.3: the server verifies the published F.2 request as a deterministic request (no replay
     * window, H recomputed) and protects the published plain response with its own sequence
     * number (the vector's Partial IV): group mode, outer 2.05, outer Max-Age, Request-Hash in the
     * AAD and elided (DET-07, GRP-11, GRP-12).
     */
    static void checkGroupModeResponse(CryptoProvider provider, ProtectionPipeline pipeline, JsonNode v, JsonNode setup,
                                       JsonNode request) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode mid = v.get("intermediate");
        JsonNode out = v.get("outputs");
        JsonNode rc = v.get("recomputed_checkpoints");
        byte[] piv = Hex.decode(in.get("partial_iv").asText());
        GroupContext server = serverContext(provider, setup.get("inputs"), dev.coterie.oscore.SealingNonce.toLong(piv), true);
        Request wire = (Request) new UdpDataParser().parseMessage(
                Hex.decode(request.get("outputs").get("protected_coap_request").asText()));
        ProtectionPipeline.Unprotected<Request> verified = pipeline.unprotectRequest(wire, new GroupContextDb().add(server));
        RequestIdentifiers ids = verified.identifiers();
        if (ids.mode() != dev.coterie.oscore.ProtectionMode.DETERMINISTIC) {
            throw new VectorRunner.Mismatch("mode", "deterministic request", ids.mode().label());
        }
        VectorRunner.expect("request_kid", in, ids.kid());
        VectorRunner.expect("request_partial_iv", in, ids.partialIv());
        VectorRunner.expect("request_kid_context", in, ids.kidContext());
        Response plain = (Response) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_coap_response").asText()));
        Response p = pipeline.protectResponse(plain, ids);
        byte[] kid = Hex.decode(in.get("kid").asText());
        byte[] option = p.getOptions().getOscore();
        VectorRunner.expect("oscore_option_value", out, option);
        byte[] aadArray = GroupCose.aadArray(algorithms(), ids.kid(), ids.partialIv(), Hex.decode(mid.get("class_i_options_in_aad").asText()),
                ids.kidContext(), option, server.ownCredential().encoded(), server.groupManagerCredential().encoded());
        VectorRunner.expect("aad_array", mid, aadArray);
        VectorRunner.expect("aad", mid, ProtectionPipeline.encStructure(aadArray));
        VectorRunner.expect("nonce", mid, Nonce.build(server.commonIv(), 13, kid, piv));
        byte[] sealed = p.getPayload();
        byte[] ct = Arrays.copyOf(sealed, sealed.length - 64);
        byte[] encSig = Arrays.copyOfRange(sealed, sealed.length - 64, sealed.length);
        VectorRunner.expect("ciphertext", out, ct);
        byte[] cs = GroupCose.countersignStructure(aadArray, ct);
        VectorRunner.expect("countersign_structure", rc, cs);
        byte[] sig = Hex.decode(mid.get("plain_signature").asText());
        if (!provider.verify(SignatureAlgorithm.EDDSA_ED25519, server.ownCredential().publicKey(), cs, sig)) {
            throw new VectorRunner.Mismatch("plain_signature", "a signature over our Countersign_structure", "does not verify");
        }
        VectorRunner.expect("keystream_hkdf_info", rc, GroupCose.keystreamInfo(kid, server.gid(), false, 64));
        byte[] keystream = new byte[64];
        for (int i = 0; i < 64; i++) {
            keystream[i] = (byte) (sig[i] ^ encSig[i]);
        }
        VectorRunner.expect("signature_keystream", mid, keystream);
        VectorRunner.expect("encrypted_signature", out, encSig);
        VectorRunner.expect("protected_coap_response", out, new UdpDataSerializer().getByteArray(p));
    }

    /** The 'algorithms' element of the F.1 group: [10, 10, -8, -27]. */
    private static byte[] algorithms() {
        return new CborWriter(16).array(4).integer(10).integer(10).integer(-8).integer(-27).toByteArray();
    }

    static void checkCompression(JsonNode v) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode out = v.get("outputs");
        JsonNode u = in.get("cose_encrypt0_unprotected");
        byte[] kid = u.has("4") ? Hex.decode(u.get("4").asText()) : null;
        byte[] piv = u.has("6") ? Hex.decode(u.get("6").asText()) : null;
        byte[] kidContext = u.has("10") ? Hex.decode(u.get("10").asText()) : null;
        byte[] sig = u.has("12") ? Hex.decode(u.get("12").asText()) : null;
        OscoreOptionValue value = new OscoreOptionValue(piv, kidContext, kid, sig != null);
        byte[] encoded = value.encode();
        VectorRunner.expect("oscore_option_value", out, encoded);
        VectorRunner.expect("flag_byte", out, new byte[] {encoded.length == 0 ? 0 : encoded[0]});
        if (!OscoreOptionValue.decode(encoded, true).equals(value)) {
            throw new VectorRunner.Mismatch("decoded option", value.toString(), "a different value");
        }
        byte[] ct = Hex.decode(in.get("ciphertext").asText());
        int n = (kid != null ? 1 : 0) + (piv != null ? 1 : 0) + (kidContext != null ? 1 : 0) + (sig != null ? 1 : 0);
        CborWriter w = new CborWriter(128).array(3).bytes(new byte[0]).map(n);
        if (kid != null) { w.integer(4).bytes(kid); }
        if (piv != null) { w.integer(6).bytes(piv); }
        if (kidContext != null) { w.integer(10).bytes(kidContext); }
        if (sig != null) { w.integer(12).bytes(sig); }
        byte[] cose = w.bytes(ct).toByteArray();
        VectorRunner.expect("cose_encrypt0_serialized", in, cose);
        if (cose.length != in.get("size_before_compression").asInt()) {
            throw new VectorRunner.Mismatch("size_before_compression", in.get("size_before_compression").asText(), "" + cose.length);
        }
        int payloadLength = out.has("payload_length") ? out.get("payload_length").asInt() : ct.length;
        if (sig != null && payloadLength != ct.length + sig.length) {
            throw new VectorRunner.Mismatch("payload_length", ct.length + sig.length + "", payloadLength + "");
        }
        if (encoded.length + payloadLength != out.get("size_after_compression").asInt()) {
            throw new VectorRunner.Mismatch("size_after_compression", out.get("size_after_compression").asText(),
                    "" + (encoded.length + payloadLength));
        }
        if (sig == null) {
            VectorRunner.expect("payload", out, ct);
        } else {
            // the draft prints the ciphertext and only the first bytes of the encrypted signature
            byte[] first = Hex.decode(out.get("payload_first_bytes").asText());
            if (!Arrays.equals(Arrays.copyOf(first, ct.length), ct)) {
                throw new VectorRunner.Mismatch("payload_first_bytes", Hex.encode(first), Hex.encode(ct) + "...");
            }
        }
    }
}
