package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.group.MemberBundle;
import dev.coterie.keystore.CryptoProviders;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Context files and member bundles whose paths are no paths (fuzz/ContextFileFuzzTest,
 * fuzz/MemberBundleFuzzTest rule 1: IOException or StateUnavailableException, nothing else).
 */
class ConfigurationFileRegressionTest {
    @TempDir
    Path dir;

    private Path file(String name, String json) throws IOException {
        Path f = dir.resolve(name);
        Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(f, json.getBytes(StandardCharsets.UTF_8));
        return f;
    }

    /**
     * Finding 6: a NUL character in "name" (the default state directory is state/NAME) or in
     * "state_dir" made Path.of throw InvalidPathException, an IllegalArgumentException, out of
     * ContextFile.load. It is an IOException naming the field now, without its value.
     */
    @Test
    void contextFileWithANulInTheStatePathIsAnIOException() throws Exception {
        String ok = "\"master_secret\": \"0102030405060708090a0b0c0d0e0f10\", \"sender_id\": \"\", \"recipient_id\": \"01\"";
        IOException e = assertThrows(IOException.class, () -> ContextFile.load(file("a.json", "{\"name\": \"c\\u0000\", " + ok + "}"),
                CryptoProviders.defaultProvider(), w -> { }));
        assertTrue(e.getMessage().contains("'name'"), e.getMessage());
        e = assertThrows(IOException.class, () -> ContextFile.load(file("b.json", "{\"state_dir\": \"s\\u0000\", " + ok + "}"),
                CryptoProviders.defaultProvider(), w -> { }));
        assertTrue(e.getMessage().contains("'state_dir'"), e.getMessage());
    }

    /** Finding 6, bundles: the same for "group", "state_dir" and "private_key_file". */
    @Test
    void bundleWithANulInAPathIsAnIOException() throws Exception {
        String head = "{\"format\": \"coterie-group-member-1\", \"gid\": \"b1\", \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\","
                + " \"algorithms\": {\"aead\": \"AES-CCM-16-64-128\", \"pairwise_key_agreement\": \"X25519\"}, \"members\": {}";
        for (String extra : new String[] {", \"group\": \"g\\u0000\"", ", \"state_dir\": \"s\\u0000\"",
            ", \"sender_id\": \"01\", \"private_key_file\": \"k\\u0000\""}) {
            Path f = file("b" + extra.length() + ".json", head + extra + "}");
            IOException e = assertThrows(IOException.class, () -> MemberBundle.load(f, CryptoProviders.defaultProvider(), null), extra);
            assertTrue(e.getMessage().contains("path"), e.getMessage());
        }
    }
}
