package dev.coterie.app.group;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.JsonFile;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.OwnerOnlyFiles;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.PrivateKeyFile;
import dev.coterie.keystore.SignatureAlgorithm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A local commissioning tool acting as the Group Manager of one group (Group OSCORE Section 12
 * for what a GM must do). Its state lives in {@code DIR/NAME/group.json} (owner-only: it holds
 * the Master Secret) with the GM's private key beside it. Every change re-issues every member's
 * bundle in {@code DIR/NAME/members/}.
 *
 * <ul>
 *   <li>GRP-29: a rekey installs a new Gid (prefix || epoch) and Master Secret, increments the
 *       key generation and lists the stale Sender IDs.</li>
 *   <li>GRP-30: under one Gid a Sender ID is never issued twice, nor one in use when the Gid was set.</li>
 *   <li>GRP-31: when epochs wrap and a Gid comes back, members born under it are evicted.</li>
 *   <li>GRP-32: removing a member rekeys at once.</li>
 * </ul>
 */
public final class GroupManager {
    public static final String FORMAT = "coterie-group-manager-1";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dir;
    private final ObjectNode state;
    private final CryptoProvider provider;
    private final char[] gmPassphrase;
    /** The Group Manager's private key, once opened and checked against gm_credential. */
    private PrivateKey gmKey;

    private GroupManager(Path dir, ObjectNode state, CryptoProvider provider, char[] gmPassphrase) {
        this.dir = dir;
        this.state = state;
        this.provider = provider;
        this.gmPassphrase = gmPassphrase == null ? null : gmPassphrase.clone();
    }

    /** Creates a group; fails if it exists. */
    public static GroupManager create(Path groupsDir, String name, GroupAlgorithms algs, byte[] gidPrefix, int epoch,
                                      CryptoProvider provider) throws IOException {
        return create(groupsDir, name, algs, gidPrefix, epoch, 2, provider);
    }

    /** @param epochBytes width of the epoch in the Gid: 1 or 2 bytes */
    public static GroupManager create(Path groupsDir, String name, GroupAlgorithms algs, byte[] gidPrefix, int epoch,
                                      int epochBytes, CryptoProvider provider) throws IOException {
        return create(groupsDir, name, algs, gidPrefix, epoch, epochBytes, null, null, null, provider);
    }

    /**
     * Creates a group; fails if it exists.
     *
     * @param epochBytes width of the epoch in the Gid: 1 or 2 bytes
     * @param deterministicSenderId the Deterministic Client's Sender ID (cacheable-oscore
     *     Section 3), fixed for the group's lifetime and never assigned to a member; null for none
     * @param deterministicHash its det_hash_alg; null means SHA-256 when there is a Deterministic Client
     * @param gmPassphrase encrypts the Group Manager's private key; null writes it unencrypted
     */
    public static GroupManager create(Path groupsDir, String name, GroupAlgorithms algs, byte[] gidPrefix, int epoch,
                                      int epochBytes, byte[] deterministicSenderId, HashAlgorithm deterministicHash,
                                      char[] gmPassphrase, CryptoProvider provider) throws IOException {
        if (epochBytes != 1 && epochBytes != 2) {
            throw new IllegalArgumentException("the epoch is 1 or 2 bytes");
        }
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new IllegalArgumentException("group name must be a plain name: " + name);
        }
        if (deterministicSenderId == null && deterministicHash != null) {
            throw new IllegalArgumentException("a deterministic hash algorithm needs a deterministic client Sender ID");
        }
        if (deterministicSenderId != null) {
            // the same rules GroupContext applies when a member loads its bundle, checked before anything is written
            if (!algs.groupMode() || !algs.pairwiseMode()) {
                throw new IllegalArgumentException("a deterministic client needs pairwise mode (requests) and group mode (responses)");
            }
            if (deterministicSenderId.length > algs.maxSenderIdLength()) {
                throw new IllegalArgumentException("the deterministic client Sender ID is longer than " + algs.maxSenderIdLength()
                        + " bytes, the most these algorithms allow");
            }
        }
        Path dir = groupsDir.resolve(name);
        if (Files.exists(dir.resolve("group.json"))) {
            throw new IllegalArgumentException("group " + name + " already exists in " + dir);
        }
        Files.createDirectories(dir.resolve("members"));
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
            // non-POSIX file system
        }
        ObjectNode s = MemberBundle.json().createObjectNode();
        s.put("format", FORMAT);
        s.put("name", name);
        s.put("gid_prefix", Hex.encode(gidPrefix));
        s.put("epoch_bytes", epochBytes);
        s.put("epoch", epoch & epochMask(epochBytes));
        s.put("key_generation", 0);
        s.set("algorithms", MemberBundle.algorithmsJson(algs));
        if (deterministicSenderId != null) {
            s.put("det_sender_id", Hex.encode(deterministicSenderId));
            s.put("det_hash_alg", (deterministicHash != null ? deterministicHash : HashAlgorithm.SHA_256).coseName());
        }
        PrivateKey key = provider.generate(keyType(algs));
        PrivateKeyFile.write(dir.resolve("gm.key"), key, gmPassphrase);
        s.put("gm_credential", Hex.encode(Credential.ccs("group-manager:" + name, key).encoded()));
        s.put("next_sender_id", 1);
        s.putArray("issued_sender_ids");
        s.putArray("stale_sender_ids");
        s.putArray("members");
        GroupManager gm = new GroupManager(dir, s, provider, gmPassphrase);
        gm.gmKey = key;
        gm.newKeyingMaterial();
        gm.save();
        return gm;
    }

    /** Opens a group whose Group Manager key is not encrypted (or for {@link #describe} only). */
    public static GroupManager open(Path groupsDir, String name, CryptoProvider provider) throws IOException {
        return open(groupsDir, name, provider, null);
    }

    /**
     * Opens a group. Changes (add-member, rekey, remove-member) first open the Group Manager's
     * private key with {@code gmPassphrase} and check it against the group's GM credential.
     */
    public static GroupManager open(Path groupsDir, String name, CryptoProvider provider, char[] gmPassphrase) throws IOException {
        Path dir = groupsDir.resolve(name);
        Path f = dir.resolve("group.json");
        if (!Files.isRegularFile(f)) {
            throw new IOException("no group " + name + " in " + groupsDir + " (coterie group create --name " + name + ")");
        }
        OwnerOnlyFiles.requireOwnerOnly(f, "Group Manager state");
        JsonFile n = JsonFile.read(f, "Group Manager state file");
        if (!FORMAT.equals(n.text("format"))) {
            throw n.error("format", "must be \"" + FORMAT + "\"");
        }
        // the fields every command relies on, checked once here so that later code cannot trip on them
        n.text("name");
        n.hex("gid_prefix");
        int epochBytes = (int) n.integer("epoch_bytes", 2, 1, 2);
        n.integer("epoch", 0, epochMask(epochBytes));
        n.integer("key_generation", 0, Long.MAX_VALUE);
        n.integer("next_sender_id", 1, Long.MAX_VALUE);
        n.secret("master_secret");
        n.hexOrNull("master_salt");
        try {
            Credential.parseCcs(n.hex("gm_credential"));
        } catch (IllegalArgumentException e) {
            throw n.error("gm_credential", "is not a usable CCS: " + e.getMessage());
        }
        MemberBundle.algorithms(n.object("algorithms"));
        if (n.has("det_sender_id")) {
            String det = Hex.encode(n.hex("det_sender_id"));
            // a hand-edited state must not give a member the Deterministic Client's Sender ID
            for (JsonNode m : n.node().withArray("members")) {
                if (det.equals(m.path("sender_id").asText())) {
                    throw n.error("det_sender_id", "is also a member's Sender ID");
                }
            }
            try {
                HashAlgorithm.parse(n.text("det_hash_alg", "SHA-256"));
            } catch (IllegalArgumentException e) {
                throw n.error("det_hash_alg", "must be SHA-256, SHA-384 or SHA-512");
            }
        }
        return new GroupManager(dir, n.node(), provider, gmPassphrase);
    }

    /**
     * The Group Manager's key, opened once: proof that whoever changes the group holds it, and
     * a check that gm.key and the published gm_credential belong together.
     */
    private PrivateKey gmKey() throws IOException {
        if (gmKey == null) {
            Path f = dir.resolve("gm.key");
            PrivateKey k = PrivateKeyFile.read(f, gmPassphrase, provider);
            Credential published = Credential.parseCcs(Hex.decode(state.get("gm_credential").asText()));
            if (!java.util.Arrays.equals(k.publicKey(), published.publicKey())) {
                throw new IOException(f + ": not the key of this group's Group Manager credential");
            }
            gmKey = k;
        }
        return gmKey;
    }

    /** How gm.key is kept, read from the file itself (its content is not shown). */
    private String gmKeyProtection() {
        try {
            return JsonFile.read(dir.resolve("gm.key"), "private key file").has("encrypted") ? "encrypted with a passphrase"
                    : "not encrypted";
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }

    /** The Deterministic Client's Sender ID (hex), or null. */
    public String deterministicSenderId() {
        return state.hasNonNull("det_sender_id") ? state.get("det_sender_id").asText() : null;
    }

    static PrivateKey.Type keyType(GroupAlgorithms algs) {
        if (algs.signature() != null) {
            return algs.signature() == SignatureAlgorithm.ES256 ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        }
        return algs.pairwiseKeyAgreement() == KeyAgreementAlgorithm.P256 ? PrivateKey.Type.P256 : PrivateKey.Type.X25519;
    }

    public GroupAlgorithms algorithms() {
        try {
            return MemberBundle.algorithms(JsonFile.of(dir.resolve("group.json"), (ObjectNode) state.get("algorithms")));
        } catch (IOException e) {
            throw new IllegalStateException(e.getMessage());
        }
    }

    public byte[] gid() {
        byte[] prefix = Hex.decode(state.get("gid_prefix").asText());
        int epoch = state.get("epoch").asInt();
        int n = state.path("epoch_bytes").asInt(2);
        byte[] gid = new byte[prefix.length + n];
        System.arraycopy(prefix, 0, gid, 0, prefix.length);
        for (int i = 0; i < n; i++) {
            gid[gid.length - 1 - i] = (byte) (epoch >> (8 * i));
        }
        return gid;
    }

    private static int epochMask(int bytes) {
        return bytes == 1 ? 0xff : 0xffff;
    }

    private void newKeyingMaterial() {
        byte[] secret = new byte[16];
        byte[] salt = new byte[8];
        RANDOM.nextBytes(secret);
        RANDOM.nextBytes(salt);
        state.put("master_secret", Hex.encode(secret));
        state.put("master_salt", Hex.encode(salt));
        java.util.Arrays.fill(secret, (byte) 0);
    }

    /** Adds a member with a fresh Sender ID and key pair; returns its bundle. */
    public Path addMember(String role, String memberName, char[] passphrase) throws IOException {
        if (!List.of("client", "server", "both").contains(role)) {
            throw new IllegalArgumentException("role must be client, server or both");
        }
        gmKey();
        List<String> issued = strings(state.withArray("issued_sender_ids"));
        long next = state.get("next_sender_id").asLong();
        String det = deterministicSenderId();
        String sid;
        do {
            sid = Hex.encode(minimal(next++));
            // the Deterministic Client's Sender ID belongs to no member, ever (cacheable-oscore Section 3)
        } while (issued.contains(sid) || memberIndex(sid) >= 0 || sid.equals(det));
        if (Hex.decode(sid).length > algorithms().maxSenderIdLength()) {
            throw new IllegalStateException("Sender IDs exhausted for these algorithms; rekey the group");
        }
        state.put("next_sender_id", next);
        state.withArray("issued_sender_ids").add(sid);
        PrivateKey key = provider.generate(keyType(algorithms()));
        Credential cred = Credential.ccs(memberName != null ? memberName : "member-" + sid, key);
        PrivateKeyFile.write(dir.resolve("members").resolve(sid + ".key"), key, passphrase);
        ObjectNode m = state.withArray("members").addObject();
        m.put("sender_id", sid);
        m.put("name", memberName != null ? memberName : "member-" + sid);
        m.put("role", role);
        m.put("credential", Hex.encode(cred.encoded()));
        m.put("birth_gid", Hex.encode(gid()));
        save();
        return bundlePath(sid);
    }

    /** Removes a member and rekeys at once (GRP-32); returns the stale Sender IDs of the rekey. */
    public List<String> removeMember(String sid) throws IOException {
        gmKey();
        int i = memberIndex(sid);
        if (i < 0) {
            throw new IllegalArgumentException("no member with Sender ID " + sid);
        }
        state.withArray("members").remove(i);
        state.withArray("stale_sender_ids").add(sid);
        Files.deleteIfExists(bundlePath(sid));
        Files.deleteIfExists(dir.resolve("members").resolve(sid + ".key"));
        return rekey();
    }

    /** A new epoch: new Gid and Master Secret (GRP-29); returns the stale Sender IDs. */
    public List<String> rekey() throws IOException {
        gmKey();
        int epoch = (state.get("epoch").asInt() + 1) & epochMask(state.path("epoch_bytes").asInt(2));
        state.put("epoch", epoch);
        state.put("key_generation", state.get("key_generation").asInt() + 1);
        newKeyingMaterial();
        String gid = Hex.encode(gid());
        List<String> stale = strings(state.withArray("stale_sender_ids"));
        // GRP-31: a recycled Gid evicts the members born under it
        ArrayNode members = state.withArray("members");
        for (Iterator<JsonNode> it = members.elements(); it.hasNext();) {
            JsonNode m = it.next();
            if (gid.equals(m.path("birth_gid").asText())) {
                stale.add(m.get("sender_id").asText());
                Files.deleteIfExists(bundlePath(m.get("sender_id").asText()));
                it.remove();
            }
        }
        // GRP-30: under the new Gid, the IDs in use count as issued
        ArrayNode issued = state.putArray("issued_sender_ids");
        for (JsonNode m : members) {
            issued.add(m.get("sender_id").asText());
        }
        state.putArray("stale_sender_ids");
        save();
        return stale;
    }

    /** Human-readable parameters; never the Master Secret or any private key. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        sb.append("group ").append(state.get("name").asText()).append('\n');
        sb.append("  Gid ").append(Hex.encode(gid())).append(" (prefix ").append(state.get("gid_prefix").asText())
                .append(", epoch ").append(state.get("epoch").asInt()).append("), key generation ")
                .append(state.get("key_generation").asInt()).append('\n');
        sb.append("  algorithms ").append(state.get("algorithms").toString()).append('\n');
        sb.append("  master secret: (not shown)\n");
        String det = deterministicSenderId();
        sb.append("  deterministic client: ").append(det == null ? "none"
                : "Sender ID " + det + ", det_hash_alg " + state.path("det_hash_alg").asText("SHA-256") + " (never a member's)")
                .append('\n');
        sb.append("  Group Manager key: gm.key, ").append(gmKeyProtection()).append('\n');
        sb.append("  members:\n");
        for (JsonNode m : state.withArray("members")) {
            sb.append("    ").append(m.get("sender_id").asText()).append("  ").append(m.get("role").asText()).append("  ")
                    .append(m.get("name").asText()).append('\n');
        }
        return sb.toString();
    }

    public Path bundlePath(String sid) {
        return dir.resolve("members").resolve(sid + ".bundle.json");
    }

    public List<String> memberIds() {
        List<String> out = new ArrayList<>();
        for (JsonNode m : state.withArray("members")) {
            out.add(m.get("sender_id").asText());
        }
        return out;
    }

    private int memberIndex(String sid) {
        int i = 0;
        for (JsonNode m : state.withArray("members")) {
            if (sid.equals(m.get("sender_id").asText())) {
                return i;
            }
            i++;
        }
        return -1;
    }

    private void save() throws IOException {
        MemberBundle.writeSecret(dir.resolve("group.json"), state);
        for (JsonNode m : state.withArray("members")) {
            writeBundle(m);
        }
    }

    private void writeBundle(JsonNode member) throws IOException {
        String sid = member.get("sender_id").asText();
        ObjectNode b = MemberBundle.json().createObjectNode();
        b.put("format", MemberBundle.FORMAT);
        b.put("group", state.get("name").asText());
        b.put("gid", Hex.encode(gid()));
        b.put("master_secret", state.get("master_secret").asText());
        b.put("master_salt", state.get("master_salt").asText());
        b.set("algorithms", state.get("algorithms"));
        b.put("credential_format", "kccs");
        if (state.hasNonNull("det_sender_id")) {
            b.put("det_sender_id", state.get("det_sender_id").asText());
            b.put("det_hash_alg", state.path("det_hash_alg").asText("SHA-256"));
        }
        b.put("group_manager_credential", state.get("gm_credential").asText());
        b.put("sender_id", sid);
        b.put("private_key_file", sid + ".key");
        b.put("own_credential", member.get("credential").asText());
        ObjectNode peers = b.putObject("members");
        for (JsonNode m : state.withArray("members")) {
            if (!m.get("sender_id").asText().equals(sid)) {
                peers.put(m.get("sender_id").asText(), m.get("credential").asText());
            }
        }
        b.put("replay_window", 32);
        b.put("state_dir", "state-" + sid);
        MemberBundle.writeSecret(bundlePath(sid), b);
    }

    private static byte[] minimal(long v) {
        int n = 1;
        while (n < 8 && (v >>> (8 * n)) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[n - 1 - i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private static List<String> strings(ArrayNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(x -> out.add(x.asText()));
        return out;
    }
}
