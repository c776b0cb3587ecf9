package dev.coterie.app.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.JsonFile;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.OwnerOnlyFiles;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.PrivateKeyFile;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.keystore.StateUnavailableException;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A member's view of a Group OSCORE group (docs/configuration.md, "Group member bundle"):
 * everything a member needs to build its {@link GroupContext}. Written by {@code coterie group},
 * or by hand from another Group Manager's published parameters.
 */
public final class MemberBundle {
    public static final String FORMAT = "coterie-group-member-1";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> KNOWN = Set.of("format", "comment", "group", "gid", "master_secret", "master_salt",
            "algorithms", "credential_format", "group_manager_credential", "sender_id", "private_key_file",
            "own_credential", "members", "replay_window", "state_dir", "sequence_block", "unknown_kids", "key_usage_limits",
            "det_sender_id", "det_hash_alg");
    private static final Set<String> ALGORITHMS = Set.of("aead", "group_encryption", "signature", "pairwise_key_agreement", "hkdf");

    private MemberBundle() {
    }

    /**
     * Loads a bundle and builds the member's group context. The bundle must be owner-only (it
     * holds the group's Master Secret); every error names the file, the field and why, never a
     * value.
     */
    public static GroupContext load(Path file, CryptoProvider provider, char[] passphrase)
            throws IOException, StateUnavailableException {
        OwnerOnlyFiles.requireOwnerOnly(file, "group member bundle");
        JsonFile n = JsonFile.read(file, "group member bundle");
        n.allowOnly(KNOWN);
        if (!FORMAT.equals(n.text("format"))) {
            throw n.error("format", "must be \"" + FORMAT + "\"");
        }
        if (!n.text("credential_format", "kccs").equals("kccs")) {
            throw n.error("credential_format", "must be kccs (the only credential format supported)");
        }
        String group = n.text("group", "group");
        GroupAlgorithms algs = algorithms(n.object("algorithms"));
        GroupContext.Builder b = GroupContext.builder().provider(provider)
                .name(group)
                .algorithms(algs)
                .gid(n.hex("gid"))
                .masterSecret(n.secret("master_secret"))
                .masterSalt(n.hexOrNull("master_salt"))
                .replayWindowSize((int) n.integer("replay_window", 32, 1, 64))
                .keyUsageLimits(n.bool("key_usage_limits", true));
        if (n.has("group_manager_credential")) {
            b.groupManagerCredential(credential(n, "group_manager_credential"));
        }
        Set<String> ids = new HashSet<>();
        byte[] own = null;
        if (n.has("sender_id")) {
            own = n.hex("sender_id");
            ids.add(Hex.encode(own));
            Path keyFile;
            try {
                keyFile = file.toAbsolutePath().getParent().resolve(n.text("private_key_file"));
            } catch (InvalidPathException e) {
                throw n.error("private_key_file", "is not a usable path");
            }
            PrivateKey key = PrivateKeyFile.read(keyFile, passphrase, provider);
            b.sender(own, key, credential(n, "own_credential"));
        } else {
            for (String f : List.of("private_key_file", "own_credential")) {
                if (n.has(f)) {
                    throw n.error(f, "needs sender_id (a silent server has neither)");
                }
            }
        }
        if (!n.has("members")) {
            throw n.error("members", "is missing (an empty object for a group of one)");
        }
        JsonFile members = n.object("members");
        for (String sid : members.fieldNames()) {
            byte[] id;
            try {
                id = Hex.decode(sid);
            } catch (IllegalArgumentException e) {
                throw members.error(sid, "is not a Sender ID in hex");
            }
            if (!ids.add(Hex.encode(id))) {
                throw members.error(sid, "is a Sender ID listed twice (or the own one)");
            }
            b.member(id, credential(members, sid));
        }
        if (n.has("det_sender_id")) {
            byte[] det = n.hex("det_sender_id");
            if (ids.contains(Hex.encode(det))) {
                throw n.error("det_sender_id", "is also a member's Sender ID; the deterministic client's is never assigned to a member");
            }
            b.deterministicClient(det, hash(n.nameOrNumber("det_hash_alg", "SHA-256"), n));
        } else if (n.has("det_hash_alg")) {
            throw n.error("det_hash_alg", "needs det_sender_id");
        }
        String kids = n.text("unknown_kids", "create");
        if (!kids.equals("create") && !kids.equals("fixed")) {
            throw n.error("unknown_kids", "must be create or fixed");
        }
        if (kids.equals("fixed")) {
            b.unknownKids(GroupContext.UnknownKidPolicy.FIXED);
        }
        Path state;
        try {
            state = Path.of(n.text("state_dir", "state/" + group));
            if (!state.isAbsolute()) {
                state = file.toAbsolutePath().getParent().resolve(state);
            }
        } catch (InvalidPathException e) {
            throw n.error(n.has("state_dir") ? "state_dir" : "group", "does not give a usable state directory path");
        }
        long block = n.integer("sequence_block", 1000, 1, Integer.MAX_VALUE);
        try {
            return b.stateStore(SecurityStateStore.open(state, block)).build();
        } catch (IllegalArgumentException e) {
            // the builder's checks (ID lengths, credential types) name no values
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    private static Credential credential(JsonFile n, String field) throws IOException {
        byte[] ccs = n.hex(field);
        try {
            return Credential.parseCcs(ccs);
        } catch (IllegalArgumentException e) {
            throw n.error(field, "is not a usable CCS: " + e.getMessage());
        }
    }

    private static HashAlgorithm hash(String s, JsonFile n) throws IOException {
        try {
            return HashAlgorithm.parse(s);
        } catch (IllegalArgumentException e) {
            throw n.error("det_hash_alg", "must be SHA-256 (-16), SHA-384 (-43) or SHA-512 (-44)");
        }
    }

    static GroupAlgorithms algorithms(JsonFile a) throws IOException {
        a.allowOnly(ALGORITHMS);
        String aead = a.nameOrNumber("aead", null);
        String groupEncryption = a.nameOrNumber("group_encryption", null);
        String signature = a.nameOrNumber("signature", null);
        String keyAgreement = a.nameOrNumber("pairwise_key_agreement", null);
        SignatureAlgorithm sig = null;
        KeyAgreementAlgorithm ka = null;
        try {
            sig = signature == null ? null : signature(signature);
        } catch (IllegalArgumentException e) {
            throw a.error("signature", "must be EdDSA (-8) or ES256 (-7)");
        }
        try {
            ka = keyAgreement == null ? null : keyAgreement(keyAgreement);
        } catch (IllegalArgumentException e) {
            throw a.error("pairwise_key_agreement", "must be X25519 or P-256");
        }
        try {
            return new GroupAlgorithms(aead == null ? null : aead(aead, a, "aead"),
                    groupEncryption == null ? null : aead(groupEncryption, a, "group_encryption"),
                    sig, ka, hkdf(a.nameOrNumber("hkdf", "HKDF-SHA-256"), a));
        } catch (IllegalArgumentException e) {
            // GroupAlgorithms' own consistency checks name algorithms, not values from the file
            throw a.error(e.getMessage());
        }
    }

    private static AeadAlgorithm aead(String s, JsonFile a, String field) throws IOException {
        try {
            return AeadAlgorithm.parse(s);
        } catch (IllegalArgumentException e) {
            throw a.error(field, "is not a supported AEAD (a name or COSE number: docs/configuration.md)");
        }
    }

    private static HkdfAlgorithm hkdf(String s, JsonFile a) throws IOException {
        try {
            return HkdfAlgorithm.parse(s);
        } catch (IllegalArgumentException e) {
            throw a.error("hkdf", "must be HKDF-SHA-256 (5) or HKDF-SHA-512 (7)");
        }
    }


    static ObjectNode algorithmsJson(GroupAlgorithms g) {
        ObjectNode a = JSON.createObjectNode();
        a.put("aead", g.aead() == null ? null : g.aead().coseName());
        a.put("group_encryption", g.groupEncryption() == null ? null : g.groupEncryption().coseName());
        a.put("signature", g.signature() == null ? null : g.signature() == SignatureAlgorithm.ES256 ? "ES256" : "EdDSA");
        a.put("pairwise_key_agreement", g.pairwiseKeyAgreement() == null ? null
                : g.pairwiseKeyAgreement() == KeyAgreementAlgorithm.X25519 ? "X25519" : "P-256");
        a.put("hkdf", g.hkdf() == HkdfAlgorithm.HKDF_SHA_256 ? "HKDF-SHA-256" : "HKDF-SHA-512");
        return a;
    }

    static SignatureAlgorithm signature(String s) {
        switch (s.trim().toUpperCase().replace("-", "")) {
            case "EDDSA": case "8": case "ED25519": return SignatureAlgorithm.EDDSA_ED25519;
            case "ES256": case "7": return SignatureAlgorithm.ES256;
            default: throw new IllegalArgumentException("unsupported signature algorithm (EdDSA, ES256)");
        }
    }

    static KeyAgreementAlgorithm keyAgreement(String s) {
        switch (s.trim().toUpperCase().replace("-", "")) {
            case "X25519": return KeyAgreementAlgorithm.X25519;
            case "P256": return KeyAgreementAlgorithm.P256;
            default: throw new IllegalArgumentException("unsupported key agreement (X25519, P-256)");
        }
    }

    /** Writes JSON owner-only (a bundle carries the group's Master Secret). */
    static void writeSecret(Path file, JsonNode content) throws IOException {
        OwnerOnlyFiles.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(content));
    }

    static ObjectMapper json() {
        return JSON;
    }
}
