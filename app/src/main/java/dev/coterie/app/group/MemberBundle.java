package dev.coterie.app.group;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.PrivateKeyFile;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.keystore.StateUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * A member's view of a Group OSCORE group (docs/configuration.md, "Group member bundle"):
 * everything a member needs to build its {@link GroupContext}. Written by {@code coterie group},
 * or by hand from another Group Manager's published parameters.
 */
public final class MemberBundle {
    public static final String FORMAT = "coterie-group-member-1";
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.ALLOW_COMMENTS);
    private static final Set<String> KNOWN = Set.of("format", "comment", "group", "gid", "master_secret", "master_salt",
            "algorithms", "credential_format", "group_manager_credential", "sender_id", "private_key_file",
            "own_credential", "members", "replay_window", "state_dir", "sequence_block", "unknown_kids");

    private MemberBundle() {
    }

    /** Loads a bundle and builds the member's group context. */
    public static GroupContext load(Path file, CryptoProvider provider, char[] passphrase)
            throws IOException, StateUnavailableException {
        if (!Files.isReadable(file)) {
            throw new IOException(file + ": no such file or not readable");
        }
        JsonNode n = JSON.readTree(file.toFile());
        if (n == null || !n.isObject()) {
            throw new IOException(file + ": a bundle holds one JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!KNOWN.contains(f)) {
                throw new IOException(file + ": unknown field '" + f + "'");
            }
        }
        if (!FORMAT.equals(n.path("format").asText())) {
            throw new IOException(file + ": format must be \"" + FORMAT + "\"");
        }
        if (!n.path("credential_format").asText("kccs").equals("kccs")) {
            throw new IOException(file + ": only the kccs credential format is supported");
        }
        try {
            GroupContext.Builder b = GroupContext.builder().provider(provider)
                    .name(n.path("group").asText("group"))
                    .algorithms(algorithms(n.path("algorithms")))
                    .gid(Hex.decode(required(n, "gid", file)))
                    .masterSecret(SecretBytes.fromHex(required(n, "master_secret", file)))
                    .masterSalt(n.hasNonNull("master_salt") ? Hex.decode(n.get("master_salt").asText()) : null)
                    .replayWindowSize(n.path("replay_window").asInt(32));
            if (n.hasNonNull("group_manager_credential")) {
                b.groupManagerCredential(Credential.parseCcs(Hex.decode(n.get("group_manager_credential").asText())));
            }
            if (n.hasNonNull("sender_id")) {
                Path keyFile = file.toAbsolutePath().getParent().resolve(required(n, "private_key_file", file));
                PrivateKey key = PrivateKeyFile.read(keyFile, passphrase, provider);
                b.sender(Hex.decode(n.get("sender_id").asText()), key,
                        Credential.parseCcs(Hex.decode(required(n, "own_credential", file))));
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = n.path("members").fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> m = it.next();
                b.member(Hex.decode(m.getKey()), Credential.parseCcs(Hex.decode(m.getValue().asText())));
            }
            if ("fixed".equals(n.path("unknown_kids").asText())) {
                b.unknownKids(GroupContext.UnknownKidPolicy.FIXED);
            }
            Path state = Path.of(n.path("state_dir").asText("state/" + n.path("group").asText("group")));
            if (!state.isAbsolute()) {
                state = file.toAbsolutePath().getParent().resolve(state);
            }
            return b.stateStore(SecurityStateStore.open(state, n.path("sequence_block").asLong(1000))).build();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    static GroupAlgorithms algorithms(JsonNode a) {
        return new GroupAlgorithms(
                a.hasNonNull("aead") ? AeadAlgorithm.parse(a.get("aead").asText()) : null,
                a.hasNonNull("group_encryption") ? AeadAlgorithm.parse(a.get("group_encryption").asText()) : null,
                a.hasNonNull("signature") ? signature(a.get("signature").asText()) : null,
                a.hasNonNull("pairwise_key_agreement") ? keyAgreement(a.get("pairwise_key_agreement").asText()) : null,
                HkdfAlgorithm.parse(a.path("hkdf").asText("HKDF-SHA-256")));
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
            default: throw new IllegalArgumentException("unsupported signature algorithm " + s + " (EdDSA, ES256)");
        }
    }

    static KeyAgreementAlgorithm keyAgreement(String s) {
        switch (s.trim().toUpperCase().replace("-", "")) {
            case "X25519": return KeyAgreementAlgorithm.X25519;
            case "P256": return KeyAgreementAlgorithm.P256;
            default: throw new IllegalArgumentException("unsupported key agreement " + s + " (X25519, P-256)");
        }
    }

    private static String required(JsonNode n, String field, Path file) throws IOException {
        if (!n.hasNonNull(field)) {
            throw new IOException(file + ": missing '" + field + "'");
        }
        return n.get(field).asText();
    }

    /** Writes JSON owner-only (a bundle carries the group's Master Secret). */
    static void writeSecret(Path file, JsonNode content) throws IOException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        Files.write(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(content));
    }

    static ObjectMapper json() {
        return JSON;
    }
}
