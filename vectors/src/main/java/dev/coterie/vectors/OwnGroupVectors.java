package dev.coterie.vectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import java.util.Arrays;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * Coterie's own Group OSCORE vectors, for what no one has published (digest 2.10): an ECDSA
 * P-256 group-mode request, pairwise requests and responses with X25519 (from Ed25519
 * credentials) and with P-256, a response protected after a Gid change, and deterministic
 * requests (cacheable-oscore) with ES256 and with a Padding option. Every value follows
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

    static final String DET_SID = "dc";
    /** CON GET, MID 0x1234, Token 4a4b, Uri-Path "temp" (a sensor reading a deterministic request asks for). */
    static final String DET_REQUEST = "42011234" + "4a4b" + "b474656d70";
    /** ACK 2.05, MID 0x1234, Token 4a4b, Max-Age 30, payload "21.5". */
    static final String DET_RESPONSE = "62451234" + "4a4b" + "d1011e" + "ff32312e35";

    private final CryptoProvider provider;
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

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
        vectors.add(entry(json, "Deterministic request and its group-mode response, ES256 (cacheable-oscore)", "coterie-5", "ES256",
                "deterministic", 11));
        vectors.add(entry(json, "Deterministic request padded to 40 plaintext bytes (cacheable-oscore App. A)", "coterie-6", "EdDSA",
                "deterministic-padded", 13));
        // group observations protected with Group OSCORE (observe-multicast-notifications Section 9, multicast-notifications-
        // proxy Section 4): the same fixed exchange, each entry showing one message
        OwnObservationVectors observation = new OwnObservationVectors(this, provider);
        vectors.add(observationEntry(json, observation, "Group observation: phantom request in group mode under the server's "
                + "own Sender ID (observe-multicast-notifications Section 9)", "coterie-7", OwnObservationVectors.KIND_PHANTOM));
        vectors.add(observationEntry(json, observation, "Group observation: protected informative response with tp_info, ph_req "
                + "and last_notif (observe-multicast-notifications Section 9)", "coterie-8",
                OwnObservationVectors.KIND_INFORMATIVE));
        vectors.add(observationEntry(json, observation, "Group observation: ticket request built from the verified ph_req "
                + "(multicast-notifications-proxy Section 4)", "coterie-9", OwnObservationVectors.KIND_TICKET));
        return root;
    }

    private static ObjectNode observationEntry(ObjectMapper json, OwnObservationVectors observation, String name, String section,
                                               String kind) throws Exception {
        ObjectNode v = json.createObjectNode();
        v.put("name", name);
        v.put("source_section", section);
        ObjectNode in = v.putObject("inputs");
        OwnObservationVectors.inputs(in, kind);
        OwnObservationVectors.outputs(v.putObject("outputs"), kind, observation.compute(in));
        return v;
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
        boolean det = kind.startsWith("deterministic");
        in.put("unprotected_request", det ? DET_REQUEST : REQUEST);
        in.put("unprotected_response", det ? DET_RESPONSE : RESPONSE);
        if (det) {
            in.put("det_sender_id", DET_SID);
            in.put("det_hash_alg", -16);
            in.put("inner_observe_zero", true);
            in.put("pad_to", kind.equals("deterministic-padded") ? 40 : 0);
            in.put("note", "client_sender_sequence_number is the server's: a deterministic request uses Partial IV 0, "
                    + "its response the server's own Partial IV");
        }
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

    /** The two members' algorithms, keys, credentials and Sender IDs, and the group's Gid and secret, from a vector's inputs. */
    record Keys(GroupAlgorithms algs, PrivateKey ck, PrivateKey sk, Credential cc, Credential sc, Credential gm, byte[] cid,
                byte[] sid, String gid, String secret) {
    }

    Keys keys(JsonNode in) throws Exception {
        boolean es256 = in.get("signature").asText().equals("ES256");
        PrivateKey.Type type = es256 ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        GroupAlgorithms algs = new GroupAlgorithms(AeadAlgorithm.fromCoseId(in.get("aead").asInt()),
                AeadAlgorithm.fromCoseId(in.get("group_encryption").asInt()),
                es256 ? SignatureAlgorithm.ES256 : SignatureAlgorithm.EDDSA_ED25519,
                es256 ? KeyAgreementAlgorithm.P256 : KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256);
        PrivateKey ck = provider.privateKey(type, SecretBytes.fromHex(in.get("client_private_key").asText()));
        PrivateKey sk = provider.privateKey(type, SecretBytes.fromHex(in.get("server_private_key").asText()));
        PrivateKey gk = provider.privateKey(type, SecretBytes.fromHex(in.get("group_manager_private_key").asText()));
        return new Keys(algs, ck, sk, Credential.ccs("client", ck), Credential.ccs("server", sk),
                Credential.ccs("group-manager", gk), Hex.decode(in.get("client_sender_id").asText()),
                Hex.decode(in.get("server_sender_id").asText()), in.get("gid").asText(), in.get("master_secret").asText());
    }

    /** The client (index 0) and the server (1) of the vector's group, their stores starting at the given numbers. */
    GroupContext[] members(JsonNode in, Keys k, long clientSsn, long serverSsn) throws Exception {
        return new GroupContext[] {
            member(k.algs(), k.gid(), k.secret(), in, k.cid(), k.ck(), k.cc(), k.sid(), k.sc(), k.gm(), clientSsn),
            member(k.algs(), k.gid(), k.secret(), in, k.sid(), k.sk(), k.sc(), k.cid(), k.cc(), k.gm(), serverSsn)};
    }

    private Computed compute(JsonNode in) throws Exception {
        Keys k = keys(in);
        GroupAlgorithms algs = k.algs();
        PrivateKey ck = k.ck();
        PrivateKey sk = k.sk();
        Credential cc = k.cc();
        Credential sc = k.sc();
        Credential gm = k.gm();
        byte[] cid = k.cid();
        byte[] sid = k.sid();
        long ssn = in.get("client_sender_sequence_number").asLong();
        String kind = in.get("kind").asText();
        boolean det = kind.startsWith("deterministic");
        GroupContext[] pair = members(in, k, det ? 0 : ssn, det ? ssn : 0);
        GroupContext client = pair[0];
        GroupContext server = pair[1];
        Request plain = (Request) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_request").asText()));
        // the client's newer epochs: after a Gid change the response comes under one of them (GRP-21)
        GroupContextDb clientEpochs = new GroupContextDb().add(client);
        RequestProtector view = det
                ? client.deterministic(sid, null, ExtensionOptionRegistry.defaults(), in.get("inner_observe_zero").asBoolean(),
                        in.get("pad_to").asInt())
                : kind.equals("pairwise") ? client.pairwise(sid) : client.groupMode(clientEpochs);
        ProtectionPipeline.ProtectedRequest req = pipeline.protectRequest(plain, view);
        Computed c = new Computed();
        c.clientCred = cc.encoded();
        c.serverCred = sc.encoded();
        c.request = new UdpDataSerializer().getByteArray(req.wire());
        // the receiver must accept what was generated
        GroupContextDb serverDb = new GroupContextDb().add(server);
        ProtectionPipeline.Unprotected<Request> v = pipeline.unprotectRequest(
                (Request) new UdpDataParser().parseMessage(c.request), serverDb);
        if (!plain.getOptions().getUriPathString().equals(v.plain().getOptions().getUriPathString())) {
            throw new VectorRunner.Mismatch("round trip", plain.getOptions().getUriPathString(),
                    v.plain().getOptions().getUriPathString());
        }
        if (kind.equals("group-request")) {
            return c;
        }
        Response resp = (Response) new UdpDataParser().parseMessage(Hex.decode(in.get("unprotected_response").asText()));
        if (kind.equals("gid-change")) {
            // the group is rekeyed between the request and the response: the server answers under the new epoch
            serverDb.installEpoch(member(algs, in.get("new_gid").asText(), in.get("new_master_secret").asText(), in, sid, sk,
                    sc, cid, cc, gm, 0));
            clientEpochs.installEpoch(member(algs, in.get("new_gid").asText(), in.get("new_master_secret").asText(), in, cid, ck,
                    cc, sid, sc, gm, 0));
        }
        c.response = new UdpDataSerializer().getByteArray(pipeline.protectResponse(resp, v.identifiers()));
        Response got = pipeline.unprotectResponse((Response) new UdpDataParser().parseMessage(c.response), req.identifiers())
                .plain();
        String expected = new String(ProtectionPipeline.payloadOf(resp), java.nio.charset.StandardCharsets.UTF_8);
        if (!expected.equals(got.getPayloadString())) {
            throw new VectorRunner.Mismatch("round trip", "payload " + expected, got.getPayloadString());
        }
        return c;
    }

    GroupContext member(GroupAlgorithms algs, String gid, String secret, JsonNode in, byte[] id, PrivateKey key,
                                Credential cred, byte[] peer, Credential peerCred, Credential gm, long ssn) throws Exception {
        GroupContext.Builder b = GroupContext.builder().provider(provider).name("coterie-vectors").algorithms(algs).gid(Hex.decode(gid))
                .masterSecret(SecretBytes.fromHex(secret)).masterSalt(Hex.decode(in.get("master_salt").asText()))
                .groupManagerCredential(gm).sender(id, key, cred).member(peer, peerCred)
                .stateStore(SecurityStateStore.inMemoryStartingAt(ssn));
        if (in.has("det_sender_id")) {
            b.deterministicClient(Hex.decode(in.get("det_sender_id").asText()), HashAlgorithm.fromCoseId(in.get("det_hash_alg").asInt()));
        }
        return b.build();
    }

    /** Recomputes one entry of the file and compares every output. */
    void check(JsonNode v) throws Exception {
        if (v.get("inputs").get("kind").asText().startsWith("group-observation-")) {
            new OwnObservationVectors(this, provider).check(v);
            return;
        }
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
