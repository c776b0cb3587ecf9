package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files holding key material: errors say file, field and why and never a value (Jackson's own
 * messages quote the source around the error); the owner-only rule lives in one place.
 */
class SecretFileErrorsTest {
    /** The Appendix F.1 server's private key: never to appear in a message. */
    static final String PRIVATE = "857eb61d3f6d70a278a36740d132c099f62880ed497e27bdfd4685fa1a304f26";

    @TempDir
    Path dir;
    Path good;

    @BeforeEach
    void writeGoodKeyFile() throws IOException {
        good = dir.resolve("good.key");
        PrivateKeyFile.write(good, key(), null);
    }

    private static PrivateKey key() {
        return CryptoProviders.defaultProvider().privateKey(PrivateKey.Type.ED25519, SecretBytes.fromHex(PRIVATE));
    }

    private Path keyFile(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        OwnerOnlyFiles.write(f, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return f;
    }

    private static String refused(Path f, char[] passphrase) {
        IOException e = assertThrows(IOException.class, () -> PrivateKeyFile.read(f, passphrase, CryptoProviders.defaultProvider()));
        String m = e.getMessage();
        // neither the key nor any 8-digit piece of it
        for (int i = 0; i + 8 <= PRIVATE.length(); i++) {
            assertFalse(m.toLowerCase().contains(PRIVATE.substring(i, i + 8)), "a piece of the private key in: " + m);
        }
        assertTrue(m.contains(f.toString()), "names the file: " + m);
        return m;
    }

    @Test
    void keyFileSyntaxErrorRightAfterTheKeyNamesTheFieldNotTheValue() throws Exception {
        assertArrayEquals(key().publicKey(), PrivateKeyFile.read(good, null, CryptoProviders.defaultProvider()).publicKey());
        String text = Files.readString(good);
        // drop the comma after the private key: Jackson's message would quote the text around it
        Path f = keyFile("syntax.key", "{\"type\": \"Ed25519\",\n  \"private_key\": \"" + PRIVATE + "\"\n  \"public_key\": \"00\"}");
        assertEquals(f + ": not a private key file: JSON syntax error at line 3, column 3 (in or after field 'private_key')",
                refused(f, null));
        Path eof = keyFile("eof.key", "{\"type\": \"Ed25519\", \"private_key\": \"" + PRIVATE);
        assertEquals(eof + ": not a private key file: the file ends inside a value at line 1, column 101 (in or after field 'private_key')",
                refused(eof, null));
        assertTrue(text.contains(PRIVATE), "the control file holds the key in clear");
    }

    @Test
    void keyFileValuesOfTheWrongShapeAreRefusedWithoutTheValue() throws Exception {
        Path odd = keyFile("odd.key", "{\"type\": \"Ed25519\", \"private_key\": \"" + PRIVATE.substring(1) + "\"}");
        assertEquals(odd + ": field 'private_key' is not valid hex (an odd number of digits); value not shown", refused(odd, null));
        Path number = keyFile("number.key", "{\"type\": \"Ed25519\", \"private_key\": 85706136370278367400132099628800497271}");
        assertEquals(number + ": field 'private_key' must be a string, not a number", refused(number, null));
        Path dup = keyFile("dup.key", "{\"type\": \"Ed25519\", \"private_key\": \"" + PRIVATE + "\", \"private_key\": \"00\"}");
        assertEquals(dup + ": field 'private_key' appears twice", refused(dup, null));
        Path type = keyFile("type.key", "{\"type\": \"" + PRIVATE + "\", \"private_key\": \"" + PRIVATE + "\"}");
        assertEquals(type + ": field 'type' must be Ed25519, X25519 or P-256", refused(type, null));
        Path unknown = keyFile("unknown.key", "{\"type\": \"Ed25519\", \"" + PRIVATE + "\": 1, \"private_key\": \"" + PRIVATE + "\"}");
        assertEquals(unknown + ": unknown field '(name not shown)' (known: comment, encrypted, private_key, public_key, type)",
                refused(unknown, null));
        Path wrongPub = keyFile("pub.key", "{\"type\": \"Ed25519\", \"private_key\": \"" + PRIVATE + "\", \"public_key\": \"00\"}");
        assertEquals(wrongPub + ": field 'public_key' does not belong to the private key", refused(wrongPub, null));
        // the same file with the right public key loads
        Path right = keyFile("right.key", "{\"type\": \"Ed25519\", \"private_key\": \"" + PRIVATE + "\", \"public_key\": \""
                + Hex.encode(key().publicKey()) + "\"}");
        assertArrayEquals(key().publicKey(), PrivateKeyFile.read(right, null, CryptoProviders.defaultProvider()).publicKey());
    }

    @Test
    void wrongPassphraseSaysSoAndNothingElse() throws Exception {
        Path enc = dir.resolve("enc.key");
        PrivateKeyFile.write(enc, key(), "correct horse".toCharArray());
        assertArrayEquals(key().publicKey(),
                PrivateKeyFile.read(enc, "correct horse".toCharArray(), CryptoProviders.defaultProvider()).publicKey());
        assertEquals(enc + ": wrong passphrase or damaged file", refused(enc, "battery staple".toCharArray()));
        assertEquals(enc + ": the private key is encrypted; a passphrase is needed", refused(enc, null));
        // a hostile iteration count is refused before any work
        Path slow = keyFile("slow.key", Files.readString(enc).replace("210000", "2000000000"));
        assertEquals(slow + ": field 'encrypted.iterations' must be between 10000 and 10000000",
                refused(slow, "correct horse".toCharArray()));
    }

    @Test
    void ownerOnlyIsOneRuleForEveryKind() throws Exception {
        OwnerOnlyFiles.requireOwnerOnly(good, "private key file");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(good)));
        Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-r-----"));
        IOException e = assertThrows(IOException.class, () -> OwnerOnlyFiles.requireOwnerOnly(good, "group member bundle"));
        assertEquals("group member bundle " + good + " is accessible to others (rw-r-----); run chmod 600 on it", e.getMessage());
        assertEquals("private key file " + good + " is accessible to others (rw-r-----); run chmod 600 on it",
                refused(good, null));
        // writing replaces a too-open file with an owner-only one
        OwnerOnlyFiles.write(good, "{}".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(good)));
        assertEquals(1, Files.list(dir).count(), "no temporary file left behind");
    }

    @Test
    void readableButNotWritableByOthersIsReportedNotRefused() throws Exception {
        assertFalse(OwnerOnlyFiles.requireWritableOnlyByOwner(good, "context file"));
        Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-r--r--"));
        assertTrue(OwnerOnlyFiles.requireWritableOnlyByOwner(good, "context file"));
        Files.setPosixFilePermissions(good, PosixFilePermissions.fromString("rw-r--rw-"));
        IOException e = assertThrows(IOException.class, () -> OwnerOnlyFiles.requireWritableOnlyByOwner(good, "context file"));
        assertEquals("context file " + good + " is writable by others (rw-r--rw-); run chmod go-w on it (chmod 600 if its keys are real)",
                e.getMessage());
    }

    @Test
    void hexErrorsNeverRepeatTheInput() {
        IllegalArgumentException odd = assertThrows(IllegalArgumentException.class, () -> Hex.decode("abcdef012"));
        assertEquals("not a hex string: an odd number of digits (9)", odd.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Hex.decode("abcdefzz"));
        assertEquals("not a hex string: a character other than 0-9, a-f, A-F at digit 7", bad.getMessage());
        IllegalArgumentException secret = assertThrows(IllegalArgumentException.class, () -> SecretBytes.fromHex("abcdefzz"));
        assertEquals("secret value is not valid hex (value not shown)", secret.getMessage());
        assertArrayEquals(new byte[] {(byte) 0xab, (byte) 0xcd}, Hex.decode("0xAB cd"));
    }
}
