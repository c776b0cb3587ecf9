package dev.coterie.app.group;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local Group Manager (GRP-29 to GRP-32) and the member bundle format. */
class GroupManagerTest {
    @TempDir
    Path dir;

    private GroupManager create(int epoch) throws Exception {
        return GroupManager.create(dir, "lights", GroupAlgorithms.defaults(), Hex.decode("b1"), epoch,
                CryptoProviders.defaultProvider());
    }

    private static GroupContext load(Path bundle) throws Exception {
        return MemberBundle.load(bundle, CryptoProviders.defaultProvider(), null);
    }

    @Test
    void bundlesOfTwoMembersTalkToEachOther() throws Exception {
        GroupManager gm = create(61532);
        assertEquals("b1f05c", Hex.encode(gm.gid()), "Gid = prefix || epoch");
        Path client = gm.addMember("client", "switch", null);
        Path lamp = gm.addMember("server", "lamp", null);
        GroupContext c = load(client);
        GroupContext s = load(lamp);
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(1);
        r.setToken(new byte[] {1});
        r.getOptions().setUriPath("light");
        ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        Request pr = p.protectRequest(r, c.groupMode()).wire();
        Request v = p.unprotectRequest(pr, new GroupContextDb().add(s)).plain();
        assertEquals("light", v.getOptions().getUriPathString());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(lamp)));
    }

    @Test
    void GRP_30_aSenderIdIsNeverIssuedTwiceUnderOneGid() throws Exception {
        GroupManager gm = create(7);
        gm.addMember("client", null, null);
        gm.addMember("server", null, null);
        gm.addMember("server", null, null);
        // removing 02 rekeys (GRP-32); under the new Gid the IDs in use stay taken
        List<String> stale = gm.removeMember("02");
        assertEquals(List.of("02"), stale);
        Path next = gm.addMember("server", null, null);
        assertFalse(next.getFileName().toString().startsWith("01.") || next.getFileName().toString().startsWith("03."));
        assertEquals(List.of("01", "03", "04"), gm.memberIds());
    }

    @Test
    void GRP_29_rekeyGivesANewGidAndMasterSecretAndReissuesBundles() throws Exception {
        GroupManager gm = create(61532);
        Path b = gm.addMember("both", null, null);
        String before = Files.readString(b);
        GroupContext old = load(b);
        List<String> stale = gm.rekey();
        assertTrue(stale.isEmpty());
        assertEquals("b1f05d", Hex.encode(gm.gid()));
        String after = Files.readString(b);
        assertNotEquals(before, after);
        GroupContext fresh = load(b);
        assertFalse(java.util.Arrays.equals(old.commonIv(), fresh.commonIv()), "new keying material");
        assertArrayEquals(old.senderId(), fresh.senderId(), "members keep their Sender IDs");
        assertEquals(0, fresh.senderSequence().peek(), "GRP-06: a new epoch starts at 0");
    }

    @Test
    void GRP_31_whenEpochsWrapMembersBornUnderTheReturningGidAreEvicted() throws Exception {
        // a one-byte epoch wraps after 256 rekeys
        GroupManager gm = GroupManager.create(dir, "small", GroupAlgorithms.defaults(), Hex.decode("b1"), 0xfe, 1,
                CryptoProviders.defaultProvider());
        gm.addMember("server", "old-timer", null); // born under b1fe
        List<String> stale = null;
        for (int i = 0; i < 256; i++) {
            stale = gm.rekey();
            assertEquals(i == 255 ? List.of("01") : List.of(), stale, "rekey " + i + " to " + Hex.encode(gm.gid()));
        }
        assertEquals("b1fe", Hex.encode(gm.gid()));
        assertTrue(gm.memberIds().isEmpty());
    }

    @Test
    void showNeverPrintsTheMasterSecret() throws Exception {
        GroupManager gm = create(1);
        Path b = gm.addMember("client", null, null);
        String secret = MemberBundle.json().readTree(b.toFile()).get("master_secret").asText();
        String shown = gm.describe();
        assertFalse(shown.contains(secret));
        assertTrue(shown.contains("(not shown)"));
    }

    @Test
    void bundleErrorsNameTheProblem() throws Exception {
        GroupManager gm = create(1);
        Path b = gm.addMember("client", null, null);
        assertNotNull(load(b));
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, Files.readString(b).replace("\"format\"", "\"formatt\""));
        // written with the umask's mode: a bundle others can read is refused like a key file
        java.io.IOException open = assertThrows(java.io.IOException.class, () -> load(bad));
        assertEquals("group member bundle " + bad + " is accessible to others ("
                + java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(bad)) + "); run chmod 600 on it",
                open.getMessage());
        Files.setPosixFilePermissions(bad, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> load(bad));
        assertTrue(e.getMessage().startsWith(bad + ": unknown field 'formatt' (known: "), e.getMessage());
        // a key file others can read is refused
        Path key = b.resolveSibling("01.key");
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        java.io.IOException k = assertThrows(java.io.IOException.class, () -> load(b));
        assertTrue(k.getMessage().contains("chmod 600"), k.getMessage());
    }

    @Test
    void handWrittenBundleForASilentServer() throws Exception {
        GroupManager gm = create(1);
        Path client = gm.addMember("client", null, null);
        gm.addMember("server", null, null);
        var n = (com.fasterxml.jackson.databind.node.ObjectNode) MemberBundle.json().readTree(client.toFile());
        n.remove("sender_id");
        n.remove("private_key_file");
        n.remove("own_credential");
        n.put("comment", "a silent server: no Sender Context");
        Path silent = dir.resolve("silent.bundle.json");
        Files.writeString(silent, n.toPrettyString());
        Files.setPosixFilePermissions(silent, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        GroupContext s = load(silent);
        assertTrue(s.isSilent());
        assertNotNull(s.recipient(Hex.decode("02")), "it still verifies the other members");
    }
}
