package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupVectorProbe;
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
import dev.coterie.oscore.OscoreOptionValue;
import java.util.Arrays;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/** The Group OSCORE vectors: cacheable-oscore Appendix F.1 and F.3, Group OSCORE -28 Section 4.3. */
final class GroupVectors {
    private GroupVectors() {
    }

    /** The F.1 group, seen by the server (Sender ID 52 with its Ed25519 key). */
    static GroupContext serverContext(CryptoProvider provider, JsonNode in) throws Exception {
        if (in.get("aead_alg").asInt() != 10 || in.get("group_enc_alg").asInt() != 10 || in.get("signature_alg").asInt() != -8
                || in.get("pairwise_key_agreement_alg").asInt() != -27 || in.get("hkdf_alg").asInt() != 5) {
            throw new VectorRunner.Mismatch("algorithms", "10, 10, -8, -27, 5", "other values in the vector");
        }
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, AeadAlgorithm.AES_CCM_16_64_128,
                SignatureAlgorithm.EDDSA_ED25519, KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        PrivateKey key = provider.privateKey(PrivateKey.Type.ED25519, SecretBytes.fromHex(in.get("server_private_key").asText()));
        Credential cred = Credential.parseCcs(Hex.decode(in.get("server_auth_cred_ccs").asText()));
        return GroupContext.builder().provider(provider).algorithms(algs)
                .gid(Hex.decode(in.get("id_context").asText()))
                .masterSecret(SecretBytes.fromHex(in.get("master_secret").asText()))
                .masterSalt(Hex.decode(in.get("master_salt").asText()))
                .groupManagerCredential(Credential.parseCcs(Hex.decode(in.get("group_manager_auth_cred_ccs").asText())))
                .sender(Hex.decode(in.get("server_sender_id").asText()), key, cred)
                .stateStore(SecurityStateStore.inMemory()).build();
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

    static void checkGroupModeResponse(CryptoProvider provider, JsonNode v, JsonNode setup) throws Exception {
        JsonNode in = v.get("inputs");
        JsonNode mid = v.get("intermediate");
        JsonNode out = v.get("outputs");
        JsonNode rc = v.get("recomputed_checkpoints");
        GroupContext ctx = serverContext(provider, setup.get("inputs"));
        GroupVectorProbe probe = new GroupVectorProbe(ctx);
        byte[] kid = Hex.decode(in.get("kid").asText());
        byte[] piv = Hex.decode(in.get("partial_iv").asText());
        byte[] option = new OscoreOptionValue(piv, null, kid, true).encode();
        VectorRunner.expect("oscore_option_value", out, option);
        byte[] aadArray = probe.aadArray(Hex.decode(in.get("request_kid").asText()), Hex.decode(in.get("request_partial_iv").asText()),
                Hex.decode(mid.get("class_i_options_in_aad").asText()), Hex.decode(in.get("request_kid_context").asText()),
                option, ctx.ownCredential().encoded());
        VectorRunner.expect("aad_array", mid, aadArray);
        VectorRunner.expect("aad", mid, probe.aad(aadArray));
        VectorRunner.expect("nonce", mid, probe.nonce(kid, piv, 13));
        byte[] sealed = probe.sealAndSign(kid, piv, false, aadArray, Hex.decode(mid.get("plaintext").asText()));
        byte[] ct = Arrays.copyOf(sealed, sealed.length - 64);
        byte[] encSig = Arrays.copyOfRange(sealed, sealed.length - 64, sealed.length);
        VectorRunner.expect("ciphertext", out, ct);
        byte[] cs = GroupVectorProbe.countersignStructure(aadArray, ct);
        VectorRunner.expect("countersign_structure", rc, cs);
        byte[] sig = probe.sign(cs);
        VectorRunner.expect("plain_signature", mid, sig);
        byte[] info = GroupVectorProbe.keystreamInfo(kid, ctx.gid(), false, 64);
        VectorRunner.expect("keystream_hkdf_info", rc, info);
        byte[] keystream = new byte[64];
        for (int i = 0; i < 64; i++) {
            keystream[i] = (byte) (sig[i] ^ encSig[i]);
        }
        VectorRunner.expect("signature_keystream", mid, keystream);
        VectorRunner.expect("encrypted_signature", out, encSig);
        VectorRunner.expect("encrypted_signature", out, probe.xorKeystream(piv, info, sig));
        // the message on the wire as the draft assembles it: the OSCORE option, the outer Max-Age
        // of a cacheable response, the Request-Hash elided, payload = ciphertext || encrypted signature
        Response plain = (Response) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_coap_response").asText()));
        Response wire = new Response(org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTENT);
        wire.setType(plain.getType());
        wire.setMID(plain.getMID());
        wire.setToken(plain.getToken());
        wire.getOptions().setOscore(option).setMaxAge(plain.getOptions().getMaxAge());
        wire.setPayload(sealed);
        VectorRunner.expect("protected_coap_response", out, new UdpDataSerializer().getByteArray(wire));
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
