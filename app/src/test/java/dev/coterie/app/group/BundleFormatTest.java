package dev.coterie.app.group;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.OwnerOnlyFiles;
import dev.coterie.keystore.PrivateKeyFile;
import dev.coterie.keystore.SecretBytes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The member bundle format: the published Appendix F.1 group context (with its Deterministic
 * Client) written as a bundle reproduces the published keys; a malformed bundle is refused with
 * file, field and why, and never with the Master Secret or the private key.
 */
class BundleFormatTest {
    // draft-ietf-core-cacheable-oscore Appendix F.1
    static final String MASTER_SECRET = "0102030405060708090a0b0c0d0e0f10";
    static final String SERVER_PRIVATE = "857eb61d3f6d70a278a36740d132c099f62880ed497e27bdfd4685fa1a304f26";
    static final String SERVER_CCS = "a501781a636f6170733a2f2f7365727665722e6578616d706c652e636f6d026673656e64657203781a636f6170733a2f2f636c69656e742e6578616d706c652e6f7267041a70004b4f08a101a401010327200621582077ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce45b52e887463389b";
    static final String GM_CCS = "a501781a636f6170733a2f2f6d79736974652e6578616d706c652e636f6d026c67726f75706d616e6167657203781a636f6170733a2f2f646f6d61696e2e6578616d706c652e6f7267041aab9b154f08a101a4010103272006215820cde3efd3bc3f99c9c9ee210415c6cba55061b5046e963b8a58c9143a61166472";

    @TempDir
    Path dir;

    /** The F.1 server's bundle; its lines are what the malformed variants below change. */
    static String f1Bundle() {
        return "{\n"
                + "  \"format\": \"coterie-group-member-1\",\n"
                + "  \"group\": \"f1\",\n"
                + "  \"gid\": \"dd11\",\n"
                + "  \"master_secret\": \"" + MASTER_SECRET + "\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n"
                + "  \"algorithms\": {\"aead\": 10, \"group_encryption\": 10, \"signature\": -8,\n"
                + "                 \"pairwise_key_agreement\": \"X25519\", \"hkdf\": 5},\n"
                + "  \"group_manager_credential\": \"" + GM_CCS + "\",\n"
                + "  \"sender_id\": \"52\",\n"
                + "  \"private_key_file\": \"server.key\",\n"
                + "  \"own_credential\": \"" + SERVER_CCS + "\",\n"
                + "  \"members\": {},\n"
                + "  \"det_sender_id\": \"dc\",\n"
                + "  \"det_hash_alg\": -16\n"
                + "}\n";
    }

    @BeforeEach
    void writeServerKey() throws IOException {
        PrivateKeyFile.write(dir.resolve("server.key"), CryptoProviders.defaultProvider()
                .privateKey(dev.coterie.keystore.PrivateKey.Type.ED25519, SecretBytes.fromHex(SERVER_PRIVATE)), null);
    }

    private Path bundle(String name, String content) throws IOException {
        Path f = dir.resolve(name + ".bundle.json");
        OwnerOnlyFiles.write(f, content.getBytes(StandardCharsets.UTF_8));
        return f;
    }

    private GroupContext load(Path f) throws Exception {
        return MemberBundle.load(f, CryptoProviders.defaultProvider(), null);
    }

    /** The variant differs from the good bundle (so that the refusal is its doing) and is refused. */
    private String refused(String name, String from, String to) throws Exception {
        String good = f1Bundle();
        String bad = good.replace(from, to);
        assertNotEquals(good, bad, "the variant changes the bundle");
        Path f = bundle(name, bad);
        IOException e = assertThrows(IOException.class, () -> load(f));
        String m = e.getMessage();
        for (String secret : new String[] {MASTER_SECRET, SERVER_PRIVATE}) {
            for (int i = 0; i + 8 <= secret.length(); i++) {
                assertFalse(m.contains(secret.substring(i, i + 8)), "a piece of a secret in: " + m);
            }
        }
        assertTrue(m.startsWith(f + ": "), "the message names the file: " + m);
        return m.substring(f.toString().length() + 2);
    }

    @Test
    void theAppendixF1ContextWithItsDeterministicClientIsABundle() throws Exception {
        GroupContext ctx = load(bundle("f1", f1Bundle()));
        assertArrayEquals(new byte[] {(byte) 0xdc}, ctx.deterministicSenderId());
        assertEquals(HashAlgorithm.SHA_256, ctx.deterministicHash());
        assertArrayEquals(Hex.decode("47eb80969ab73847084dd6f996"), ctx.commonIv());
        SecretBytes[] keys = ctx.derivedKeysForVectors();
        assertTrue(keys[0].matches(Hex.decode("a8c8b7db5d05cfc7faa2bb1afaca6c2f")), "server Sender Key");
        assertTrue(keys[1].matches(Hex.decode("85ca7c0bc5b8ea2e267b203dc3b71ce6")), "Signature Encryption Key");
        assertTrue(ctx.recipientKeyForVectors(new byte[] {(byte) 0xdc}).matches(Hex.decode("761c3081b8d8329790a8b321b3b4c3a4")),
                "the Deterministic Client's Sender Key");
        ctx.close(); // one owner of the state at a time
        // det_hash_alg by name, or left out (SHA-256 is the default)
        GroupContext byName = load(bundle("byname", f1Bundle().replace("-16", "\"SHA-384\"")));
        assertEquals(HashAlgorithm.SHA_384, byName.deterministicHash());
        byName.close();
        GroupContext byDefault = load(bundle("default", f1Bundle().replace(",\n  \"det_hash_alg\": -16", "")));
        assertEquals(HashAlgorithm.SHA_256, byDefault.deterministicHash());
        byDefault.close();
    }

    @Test
    void deterministicClientFieldsAreChecked() throws Exception {
        assertEquals("field 'det_hash_alg' needs det_sender_id", refused("nosid", "\"det_sender_id\": \"dc\",\n", ""));
        assertEquals("field 'det_hash_alg' must be SHA-256 (-16), SHA-384 (-43) or SHA-512 (-44)",
                refused("md5", "\"det_hash_alg\": -16", "\"det_hash_alg\": \"MD5\""));
        assertEquals("field 'det_sender_id' is also a member's Sender ID; the deterministic client's is never assigned to a member",
                refused("own", "\"det_sender_id\": \"dc\"", "\"det_sender_id\": \"52\""));
        assertEquals("field 'det_sender_id' must be a string, not a number",
                refused("number", "\"det_sender_id\": \"dc\"", "\"det_sender_id\": 220"));
    }

    @Test
    void malformedMasterSecretsNameTheFieldNeverTheValue() throws Exception {
        // a syntax error right after the secret: Jackson's own message would quote the secret
        assertEquals("not a group member bundle: JSON syntax error at line 6, column 3 (in or after field 'master_secret')",
                refused("syntax", "\"" + MASTER_SECRET + "\",", "\"" + MASTER_SECRET + "\""));
        // the hex without quotes is no JSON number
        assertEquals("not a group member bundle: JSON syntax error at line 5, column 21 (in or after field 'master_secret')",
                refused("unquoted", "\"" + MASTER_SECRET + "\"", MASTER_SECRET));
        assertEquals("field 'master_secret' must be a string, not a number",
                refused("number", "\"" + MASTER_SECRET + "\"", "10203040506070809101112131415161"));
        assertEquals("field 'master_secret' is not valid hex (an odd number of digits); value not shown",
                refused("odd", MASTER_SECRET, MASTER_SECRET.substring(1)));
        assertEquals("field 'master_secret' is not valid hex; value not shown",
                refused("nothex", MASTER_SECRET, "zz" + MASTER_SECRET.substring(2)));
        assertEquals("field 'master_secret' appears twice",
                refused("twice", "\"master_salt\"", "\"master_secret\": \"00\",\n  \"master_salt\""));
        assertEquals("field 'master_secret' is missing", refused("missing", "\"master_secret\"", "\"comment\""));
        assertEquals("not a group member bundle: the file ends inside a value at line 5, column 37 (in or after field 'master_secret')",
                refused("truncated", f1Bundle().substring(f1Bundle().indexOf(MASTER_SECRET) + 16), ""));
    }

    @Test
    void otherMalformedFieldsNameTheFieldAndWhy() throws Exception {
        assertEquals("field 'own_credential' is not a usable CCS: credential: COSE_Key label 1 (kty) must be an integer, not a text string",
                refused("kty", SERVER_CCS, SERVER_CCS.replace("a4010103272006", "a401634f4b5003272006")));
        assertEquals("field 'algorithms.aead' is not a supported AEAD (a name or COSE number: docs/configuration.md)",
                refused("aead", "{\"aead\": 10", "{\"aead\": \"AES-XYZ\""));
        assertEquals("field 'algorithms.signature' must be a name or a COSE number, not an array",
                refused("sig", "\"signature\": -8", "\"signature\": [-8]"));
        assertEquals("field 'members.zz' is not a Sender ID in hex", refused("member", "\"members\": {}", "\"members\": {\"zz\": \"00\"}"));
        assertEquals("field 'replay_window' must be between 1 and 64", refused("window", "\"members\": {}", "\"members\": {}, \"replay_window\": 65"));
        assertEquals("field 'gid' must be a string, not an object", refused("gid", "\"dd11\"", "{}"));
        assertTrue(refused("unknown", "\"group\"", "\"groupp\"").startsWith("unknown field 'groupp' (known: "));
        assertEquals("field 'own_credential' needs sender_id (a silent server has neither)",
                refused("silent", "\"sender_id\": \"52\",\n  \"private_key_file\": \"server.key\",\n", ""));
    }
}
