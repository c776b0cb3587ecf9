package dev.coterie.app.group;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coterie.app.Coterie;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie group} end to end: the Deterministic Client's Sender ID (--deterministic-sid)
 * reaches every bundle and is never a member's; the Group Manager's key can be encrypted
 * (--gm-passphrase-env) and is then needed for every change.
 */
class GroupCommandLineTest {
    @TempDir
    Path dir;

    record Run(int status, String out, String err) {
    }

    static Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Coterie.execute(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    private Run group(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "group";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--dir";
        all[args.length + 2] = dir.toString();
        return run(all);
    }

    private JsonNode bundle(String sid) throws Exception {
        return MemberBundle.json().readTree(dir.resolve("lights/members/" + sid + ".bundle.json").toFile());
    }

    private List<String> addMembers(int n) {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            Run r = group("add-member", "lights", "--role", "server");
            assertEquals(0, r.status(), r.err());
            ids.add(r.out().replaceAll("(?s)^added member (\\w+) .*", "$1"));
        }
        return ids;
    }

    @Test
    void deterministicSidReachesEveryBundleAndIsNeverAMembersSenderId() throws Exception {
        Run c = group("create", "--name", "lights", "--deterministic-sid", "03");
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().contains("; deterministic client Sender ID 03"), c.out());
        assertEquals(List.of("01", "02", "04", "05"), addMembers(4), "03 is skipped");
        for (String sid : List.of("01", "02", "04", "05")) {
            assertEquals("03", bundle(sid).get("det_sender_id").asText(), sid);
            assertEquals("SHA-256", bundle(sid).get("det_hash_alg").asText(), sid);
            GroupContext ctx = MemberBundle.load(dir.resolve("lights/members/" + sid + ".bundle.json"),
                    CryptoProviders.defaultProvider(), null);
            assertArrayEquals(new byte[] {3}, ctx.deterministicSenderId());
            assertEquals(HashAlgorithm.SHA_256, ctx.deterministicHash());
        }
        // a rekey (and removing a member, which rekeys) keeps it; the freed IDs never include it
        String gidBefore = bundle("01").get("gid").asText();
        assertEquals(0, group("remove-member", "lights", "02").status());
        assertNotEquals(gidBefore, bundle("01").get("gid").asText());
        assertEquals("03", bundle("01").get("det_sender_id").asText());
        assertEquals(List.of("06"), addMembers(1));
        assertEquals(0, group("rekey", "lights").status());
        assertEquals("03", bundle("06").get("det_sender_id").asText());
        assertFalse(group("remove-member", "lights", "03").status() == 0, "the deterministic client is no member to remove");

        Run show = group("show", "lights");
        assertEquals(0, show.status());
        assertTrue(show.out().contains("  deterministic client: Sender ID 03, det_hash_alg SHA-256 (never a member's)\n"), show.out());
        assertFalse(show.out().contains("    03  "), "not listed as a member: " + show.out());
    }

    @Test
    void aStateFileGivingAMemberTheDeterministicSidIsRefused() throws Exception {
        assertEquals(0, group("create", "--name", "lights").status());
        addMembers(1);
        Path state = dir.resolve("lights/group.json");
        var n = (com.fasterxml.jackson.databind.node.ObjectNode) MemberBundle.json().readTree(state.toFile());
        n.put("det_sender_id", "02");
        dev.coterie.keystore.OwnerOnlyFiles.write(state, n.toPrettyString().getBytes(StandardCharsets.UTF_8));
        assertEquals(0, group("show", "lights").status(), "02 is nobody's yet");
        n.put("det_sender_id", "01");
        dev.coterie.keystore.OwnerOnlyFiles.write(state, n.toPrettyString().getBytes(StandardCharsets.UTF_8));
        Run r = group("show", "lights");
        assertEquals(64, r.status());
        assertEquals("coterie show: " + state + ": field 'det_sender_id' is also a member's Sender ID\n", r.err());
    }

    @Test
    void withoutDeterministicSidNothingIsSkippedOrWritten() throws Exception {
        assertEquals(0, group("create", "--name", "lights").status());
        assertEquals(List.of("01", "02", "03"), addMembers(3));
        assertNull(bundle("03").get("det_sender_id"));
        assertNull(bundle("03").get("det_hash_alg"));
        assertNull(MemberBundle.load(dir.resolve("lights/members/03.bundle.json"), CryptoProviders.defaultProvider(), null)
                .deterministicSenderId());
        assertTrue(group("show", "lights").out().contains("  deterministic client: none\n"));
    }

    @Test
    void deterministicHashIsChosenOrRefused() throws Exception {
        Run c = group("create", "--name", "lights", "--deterministic-sid", "dc", "--deterministic-hash", "-44");
        assertEquals(0, c.status(), c.err());
        addMembers(1);
        assertEquals("SHA-512", bundle("01").get("det_hash_alg").asText());
        assertEquals(HashAlgorithm.SHA_512, MemberBundle.load(dir.resolve("lights/members/01.bundle.json"),
                CryptoProviders.defaultProvider(), null).deterministicHash());

        Run noSid = group("create", "--name", "other", "--deterministic-hash", "SHA-256");
        assertEquals(64, noSid.status());
        assertEquals("coterie create: --deterministic-hash needs --deterministic-sid\n", noSid.err());
        Run md5 = group("create", "--name", "other", "--deterministic-sid", "dc", "--deterministic-hash", "MD5");
        assertEquals("coterie create: --deterministic-hash must be SHA-256 (-16), SHA-384 (-43) or SHA-512 (-44)\n", md5.err());
        Run pairwiseOnly = group("create", "--name", "other", "--deterministic-sid", "dc", "--signature", "none",
                "--group-encryption", "none");
        assertEquals("coterie create: a deterministic client needs pairwise mode (requests) and group mode (responses)\n",
                pairwiseOnly.err());
        Run notHex = group("create", "--name", "other", "--deterministic-sid", "dcx");
        assertEquals("coterie create: --deterministic-sid is not a hex string: an odd number of digits (3)\n", notHex.err());
        Run tooLong = group("create", "--name", "other", "--deterministic-sid", "0102030405060708");
        assertEquals("coterie create: the deterministic client Sender ID is longer than 7 bytes, the most these algorithms allow\n",
                tooLong.err());
        assertFalse(Files.exists(dir.resolve("other")), "nothing written for a refused group");
    }

    /** Two environment variables with different values: the test's right and wrong passphrases. */
    private static String[] twoEnvironmentVariables() {
        Map<String, String> env = new TreeMap<>(System.getenv());
        env.values().removeIf(v -> v.isEmpty());
        String first = env.keySet().iterator().next();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (!e.getValue().equals(env.get(first))) {
                return new String[] {first, e.getKey()};
            }
        }
        throw new IllegalStateException("the test needs two environment variables with different values");
    }

    @Test
    void groupManagerKeyIsEncryptedWithItsPassphraseAndNeededForEveryChange() throws Exception {
        String[] vars = twoEnvironmentVariables();
        String right = vars[0];
        String wrong = vars[1];
        Run c = group("create", "--name", "lights", "--gm-passphrase-env", right);
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().endsWith("; Group Manager key encrypted\n"), c.out());
        JsonNode key = MemberBundle.json().readTree(dir.resolve("lights/gm.key").toFile());
        assertTrue(key.has("encrypted"));
        assertFalse(key.has("private_key"));
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("lights/gm.key"))));

        Path gmKey = dir.resolve("lights/gm.key");
        Run without = group("add-member", "lights", "--role", "client");
        assertEquals(64, without.status());
        assertEquals("coterie add-member: " + gmKey + ": the private key is encrypted; a passphrase is needed\n", without.err());
        Run bad = group("rekey", "lights", "--gm-passphrase-env", wrong);
        assertEquals("coterie rekey: " + gmKey + ": wrong passphrase or damaged file\n", bad.err());
        assertEquals(List.of(), MemberBundle.json().readTree(dir.resolve("lights/group.json").toFile()).get("members")
                .findValuesAsText("sender_id"), "nothing changed");

        // the member's own passphrase is a separate option: the member key stays unencrypted here
        Run add = group("add-member", "lights", "--role", "client", "--gm-passphrase-env", right);
        assertEquals(0, add.status(), add.err());
        assertTrue(MemberBundle.json().readTree(dir.resolve("lights/members/01.key").toFile()).has("private_key"));
        assertEquals(0, group("rekey", "lights", "--gm-passphrase-env", right).status());
        assertEquals(0, group("remove-member", "lights", "01", "--gm-passphrase-env", right).status());
        Run show = group("show", "lights");
        assertEquals(0, show.status(), "show needs no passphrase");
        assertTrue(show.out().contains("  Group Manager key: gm.key, encrypted with a passphrase\n"), show.out());
    }

    @Test
    void anUnencryptedGroupManagerKeyNeedsNoPassphraseButMustMatchTheCredential() throws Exception {
        assertEquals(0, group("create", "--name", "lights").status());
        assertTrue(MemberBundle.json().readTree(dir.resolve("lights/gm.key").toFile()).has("private_key"));
        assertEquals(0, group("add-member", "lights", "--role", "client").status());
        assertTrue(group("show", "lights").out().contains("  Group Manager key: gm.key, not encrypted\n"));
        // another group's key in its place is refused before anything changes
        assertEquals(0, group("create", "--name", "other").status());
        Files.copy(dir.resolve("other/gm.key"), dir.resolve("lights/gm.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Run swapped = group("add-member", "lights", "--role", "client");
        assertEquals("coterie add-member: " + dir.resolve("lights/gm.key") + ": not the key of this group's Group Manager credential\n",
                swapped.err());
    }
}
