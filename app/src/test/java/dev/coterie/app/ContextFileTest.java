package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Context files: a file others may write is refused (they could swap its keys), one others may
 * read loads with a warning (the published examples are such files after a clone); malformed
 * files are refused with file, field and why, never the Master Secret.
 */
class ContextFileTest {
    static final String SECRET = "0102030405060708090a0b0c0d0e0f10";
    @TempDir
    Path dir;

    private Path example(String mode) throws IOException {
        Path f = dir.resolve("client-c1.json");
        Files.copy(Path.of("..", "docs", "examples", "client-c1.json"), f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    @Test
    void aContextFileOthersCanWriteIsRefused() throws Exception {
        Path f = example("rw-rw-rw-");
        IOException e = assertThrows(IOException.class, () -> ContextFile.load(f, CryptoProviders.defaultProvider(), w -> { }));
        assertEquals("context file " + f + " is writable by others (rw-rw-rw-); run chmod go-w on it (chmod 600 if its keys are real)",
                e.getMessage());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertArrayEquals(Hex.decode("4622d4dd6d944168eefb54987c"), ContextFile.load(f, CryptoProviders.defaultProvider(), w -> { }).commonIv());
    }

    @Test
    void aContextFileOthersCanReadLoadsWithAWarning() throws Exception {
        List<String> warnings = new ArrayList<>();
        Path readable = example("rw-r--r--");
        ContextFile.load(readable, CryptoProviders.defaultProvider(), warnings::add).close(); // one owner at a time
        assertEquals(List.of("context file " + readable + " is readable by others: its Master Secret is no secret"
                + " (chmod 600 it unless its keys are public examples)"), warnings);
        warnings.clear();
        ContextFile.load(example("rw-------"), CryptoProviders.defaultProvider(), warnings::add).close();
        assertEquals(List.of(), warnings, "no warning for an owner-only file");
    }

    private String refused(String from, String to) throws Exception {
        String good = Files.readString(Path.of("..", "docs", "examples", "client-c1.json"));
        String bad = good.replace(from, to);
        assertNotEquals(good, bad, "the variant changes the file");
        Path f = dir.resolve("bad.json");
        Files.writeString(f, bad);
        IOException e = assertThrows(IOException.class, () -> ContextFile.load(f, CryptoProviders.defaultProvider(), w -> { }));
        for (int i = 0; i + 8 <= SECRET.length(); i++) {
            assertFalse(e.getMessage().contains(SECRET.substring(i, i + 8)), "a piece of the secret in: " + e.getMessage());
        }
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        return e.getMessage().substring(f.toString().length() + 2);
    }

    @Test
    void malformedContextFilesNameTheFieldNeverTheSecret() throws Exception {
        assertTrue(Files.readString(Path.of("..", "docs", "examples", "client-c1.json")).contains("\"master_secret\": \"" + SECRET + "\","));
        assertEquals("not a context file: JSON syntax error at line 5, column 3 (in or after field 'master_secret')",
                refused("\"" + SECRET + "\",", "\"" + SECRET + "\""));
        assertEquals("field 'master_secret' must be a string, not a number", refused("\"" + SECRET + "\"", "1234567890123456"));
        assertEquals("field 'master_secret' is not valid hex (an odd number of digits); value not shown", refused(SECRET, SECRET + "1"));
        assertEquals("field 'master_secret' appears twice", refused("\"master_salt\"", "\"master_secret\": \"00\", \"master_salt\""));
        assertEquals("field 'replay_window' must be an integer, not a string", refused("\"replay_window\": 32", "\"replay_window\": \"32\""));
        assertEquals("field 'aead' is not a supported AEAD (a name or COSE number: docs/configuration.md)",
                refused("\"AES-CCM-16-64-128\"", "\"AES-XYZ\""));
        assertEquals("field 'key_usage_limits' must be true or false, not a string",
                refused("\"replay_window\": 32", "\"replay_window\": 32, \"key_usage_limits\": \"no\""));
    }

    /** The AEAD key usage limits can be turned off per context, knowingly; a boolean, nothing else. */
    @Test
    void keyUsageLimitsAreOnByDefaultAndCanBeTurnedOff() throws Exception {
        Path f = example("rw-------");
        Files.writeString(f, Files.readString(f).replace("\"replay_window\": 32", "\"replay_window\": 32, \"key_usage_limits\": false"));
        dev.coterie.oscore.OscoreContext off = ContextFile.load(f, CryptoProviders.defaultProvider(), w -> { });
        assertFalse(off.keyUsageLimits());
        off.close();
        Path g = dir.resolve("other");
        Files.createDirectories(g);
        Path on = g.resolve("client-c1.json");
        Files.copy(Path.of("..", "docs", "examples", "client-c1.json"), on);
        Files.setPosixFilePermissions(on, PosixFilePermissions.fromString("rw-------"));
        dev.coterie.oscore.OscoreContext dflt = ContextFile.load(on, CryptoProviders.defaultProvider(), w -> { });
        assertTrue(dflt.keyUsageLimits(), "on unless the file says otherwise");
        dflt.close();
    }
}
