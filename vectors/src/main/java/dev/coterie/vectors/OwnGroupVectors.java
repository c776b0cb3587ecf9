package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupMode;
import dev.coterie.grouposcore.GroupProtection;
import dev.coterie.grouposcore.GroupRequest;
import dev.coterie.grouposcore.VerifiedGroupRequest;
import dev.coterie.grouposcore.VerifiedGroupResponse;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import java.util.Arrays;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * Coterie's own Group OSCORE vectors, for what no one has published (digest 2.10): an ECDSA
 * P-256 group-mode request, pairwise requests and responses with X25519 (from Ed25519
 * credentials) and with P-256, and a response protected after a Gid change. Every value follows
 * from the fixed inputs (Ed25519 and RFC 6979 ECDSA are deterministic), so {@link #generate}
 * always writes the same file, and {@link #check} recomputes each entry and also checks that
 * the receiver accepts it.
 */
public final class OwnGroupVectors {
    static final String SECRET = "0102030405060708090a0b0c0d0e0f10";
    static final String SALT = "9e7ca92223786340";
    static final String GID = "b1f05c";
    static final String NEW_GID = "b1f05d";
    static final String NEW_SECRET = "1112131415161718191a1b1c1d1e1f20";
    static final String CLIENT_KEY = "4c9f0e1d2b3a5968778695a4b3c2d1e0f00112233445566778899aabbccddee1";
    static final String SERVER_KEY = "2a0b1c9d8e7f605142332415f6e7d8c9bafbecdd0e1f2031425364758697a8b2";
    static final String GM_KEY = "77665544332211000f1e2d3c4b5a69788796a5b4c3d2e1f00102030405060708";
    /** CON GET, MID 0x1234, Token 4a4b, Uri-Path "light". */
    static final String REQUEST = "42011234" + "4a4b" + "b56c69676874";
    /** ACK 2.05, MID 0x1234, Token 4a4b, payload "on". */
    static final String RESPONSE = "62451234" + "4a4b" + "ff6f6e";

    private final CryptoProvider provider;
    private final GroupProtection protection = new GroupProtection();

    public OwnGroupVectors(CryptoProvider provider) {
        this.provider = provider;
    }

    /** The vector file, recomputed from the fixed inputs. */
    public ObjectNode generate() throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("source", "Coterie's own Group OSCORE vectors (draft-ietf-core-oscore-groupcomm-28), made by "
                + "'coterie vectors generate' from the fixed inputs below; not published by the IETF");
        root.put("document", "draft-ietf-core-oscore-groupcomm-28");
        root.put("note", "Every member credential is the CCS {2: subject, 8: {1: COSE_Key}} that Coterie builds from the "
                + "listed private key. ECDSA signatures are deterministic (RFC 6979), so the file is reproducible.");
        ArrayNode vectors = root.putArray("vectors");
        vectors.add(entry(json, "ECDSA P-256 group-mode request", "coterie-1", "ES256", "group-request", 5));
        vectors.add(entry(json, "Pairwise request and response, X25519 keys from Ed25519 credentials", "coterie-2", "EdDSA",
                "pairwise", 7));
        vectors.add(entry(json, "Pairwise request and response, P-256", "coterie-3", "ES256", "pairwise", 9));
        vectors.add(entry(json, "Group-mode response protected after a Gid change (GRP-21)", "coterie-4", "EdDSA", "gid-change", 3));
        return root;
    }

    private ObjectNode entry(ObjectMapper json, String name, String section, String sig, String kind, long ssn) throws Exception {
        ObjectNode v = json.createObjectNode();
        v.put("name", name);
        v.put("source_section", section);
        ObjectNode in = v.putObject("inputs");
        in.put("kind", kind);
        in.put("signature", sig);
        in.put("master_secret", SECRET);
        in.put("master_salt", SALT);
        in.put("gid", GID);
        in.put("aead", 10);
        in.put("group_encryption", 10);
        in.put("client_sender_id", "c1");
        in.put("server_sender_id", "a1");
        in.put("client_private_key", CLIENT_KEY);
        in.put("server_private_key", SERVER_KEY);
        in.put("group_manager_private_key", GM_KEY);
        in.put("client_sender_sequence_number", ssn);
        in.put("unprotected_request", REQUEST);
        in.put("unprotected_response", RESPONSE);
        if (kind.equals("gid-change")) {
            in.put("new_gid", NEW_GID);
            in.put("new_master_secret", NEW_SECRET);
        }
        Computed c = compute(in);
        ObjectNode out = v.putObject("outputs");
        out.put("client_credential", Hex.encode(c.clientCred));
        out.put("server_credential", Hex.encode(c.serverCred));
        out.put("protected_request", Hex.encode(c.request));
        if (c.response != null) {
            out.put("protected_response", Hex.encode(c.response));
        }
        return v;
    }

    private static final class Computed {
        byte[] clientCred;
        byte[] serverCred;
        byte[] request;
        byte[] response;
    }

    private Computed compute(JsonNode in) throws Exception {
        boolean es256 = in.get("signature").asText().equals("ES256");
        PrivateKey.Type type = es256 ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.fromCoseId(in.get("aead").asInt()),
                AeadAlgorithm.fromCoseId(in.get("group_encryption").asInt()),
                es256 ? SignatureAlgorithm.ES256 : SignatureAlgorithm.EDDSA_ED25519,
                es256 ? KeyAgreementAlgorithm.P256 : KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        PrivateKey ck = provider.privateKey(type, SecretBytes.fromHex(in.get("client_private_key").asText()));
        PrivateKey sk = provider.privateKey(type, SecretBytes.fromHex(in.get("server_private_key").asText()));
        PrivateKey gk = provider.privateKey(type, SecretBytes.fromHex(in.get("group_manager_private_key").asText()));
        Credential cc = Credential.ccs("client", ck);
        Credential sc = Credential.ccs("server", sk);
        Credential gm = Credential.ccs("group-manager", gk);
        byte[] cid = Hex.decode(in.get("client_sender_id").asText());
        byte[] sid = Hex.decode(in.get("server_sender_id").asText());
        String gid = in.get("gid").asText();
        String secret = in.get("master_secret").asText();
        long ssn = in.get("client_sender_sequence_number").asLong();
        GroupContext client = member(algs, gid, secret, in, cid, ck, cc, sid, sc, gm, ssn);
        GroupContext server = member(algs, gid, secret, in, sid, sk, sc, cid, cc, gm, 0);
        String kind = in.get("kind").asText();
        Request plain = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_request").asText()));
        GroupMode mode = kind.equals("pairwise") ? GroupMode.PAIRWISE : GroupMode.GROUP;
        GroupRequest req = protection.protectRequest(plain, client, mode, mode == GroupMode.PAIRWISE ? sid : null);
        Computed c = new Computed();
        c.clientCred = cc.encoded();
        c.serverCred = sc.encoded();
        c.request = new UdpDataSerializer().getByteArray(req);
        // the receiver must accept what was generated
        VerifiedGroupRequest v = protection.verifyRequest((Request) new UdpDataParser().parseMessage(c.request),
                new GroupContextDb().add(server));
        if (!Arrays.equals(v.getOptions().getUriPath().get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8),
                plain.getOptions().getUriPath().get(0).getBytes(java.nio.charset.StandardCharsets.UTF_8))) {
            throw new VectorRunner.Mismatch("round trip", "Uri-Path light", v.getOptions().getUriPathString());
        }
        Response resp = (Response) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_response").asText()));
        if (kind.equals("pairwise")) {
            c.response = new UdpDataSerializer().getByteArray(protection.protectResponse(resp, v.binding(), server,
                    GroupMode.PAIRWISE, false));
        } else if (kind.equals("gid-change")) {
            GroupContext newServer = member(algs, in.get("new_gid").asText(), in.get("new_master_secret").asText(), in, sid, sk,
                    sc, cid, cc, gm, 0);
            GroupContext newClient = member(algs, in.get("new_gid").asText(), in.get("new_master_secret").asText(), in, cid, ck,
                    cc, sid, sc, gm, 0);
            c.response = new UdpDataSerializer().getByteArray(protection.protectResponse(resp, v.binding(), newServer,
                    GroupMode.GROUP, false));
            VerifiedGroupResponse got = protection.verifyResponse((Response) new UdpDataParser().parseMessage(c.response),
                    req.binding(), new GroupContextDb().add(newClient));
            if (!"on".equals(got.response().getPayloadString())) {
                throw new VectorRunner.Mismatch("round trip", "payload on", got.response().getPayloadString());
            }
            return c;
        }
        if (c.response != null) {
            VerifiedGroupResponse got = protection.verifyResponse((Response) new UdpDataParser().parseMessage(c.response),
                    req.binding(), null);
            if (!"on".equals(got.response().getPayloadString())) {
                throw new VectorRunner.Mismatch("round trip", "payload on", got.response().getPayloadString());
            }
        }
        return c;
    }

    private GroupContext member(GroupAlgorithms algs, String gid, String secret, JsonNode in, byte[] id, PrivateKey key,
                                Credential cred, byte[] peer, Credential peerCred, Credential gm, long ssn) throws Exception {
        return GroupContext.builder().provider(provider).algorithms(algs).gid(Hex.decode(gid))
                .masterSecret(SecretBytes.fromHex(secret)).masterSalt(Hex.decode(in.get("master_salt").asText()))
                .groupManagerCredential(gm).sender(id, key, cred).member(peer, peerCred)
                .stateStore(SecurityStateStore.inMemoryStartingAt(ssn)).build();
    }

    /** Recomputes one entry of the file and compares every output. */
    void check(JsonNode v) throws Exception {
        Computed c = compute(v.get("inputs"));
        JsonNode out = v.get("outputs");
        VectorRunner.expect("client_credential", out, c.clientCred);
        VectorRunner.expect("server_credential", out, c.serverCred);
        VectorRunner.expect("protected_request", out, c.request);
        if (out.has("protected_response")) {
            VectorRunner.expect("protected_response", out, c.response);
        }
    }
}
