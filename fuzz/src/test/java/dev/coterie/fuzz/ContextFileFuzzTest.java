package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.app.ContextFile;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.OscoreContext;
import java.io.IOException;
import java.nio.file.Path;

/**
 * OSCORE security-context files (docs/configuration.md) through {@link ContextFile#load}: the input
 * is the file, written owner-only into a fresh directory, where its state directory goes too.
 *
 * <p>Rules: loaded (then closed) or {@link IOException} / {@link StateUnavailableException}, nothing
 * else; at most 4 MiB plus 64 bytes per input byte allocated (HKDF, the state store and Jackson's
 * buffers are most of the constant); no file left open, loaded or not. An input whose state
 * directory would be outside its directory is skipped ({@link FileRules#staysInside}).
 */
class ContextFileFuzzTest {
    private static final CryptoProvider PROVIDER = CryptoProviders.defaultProvider();

    /** The format's field names and a few values that matter to paths and hex: where mutations of JSON are worth it. */
    @DictionaryEntries({"\"name\"", "\"master_secret\"", "\"master_salt\"", "\"sender_id\"", "\"recipient_id\"",
        "\"id_context\"", "\"aead\"", "\"hkdf\"", "\"replay_window\"", "\"state_dir\"", "\"sequence_block\"", "\\u0000",
        "../", "null", "\"A128GCM\"", "\"HKDF-SHA-512\"", "2147483648", "-1"})
    @FuzzTest
    void contextFile(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        Path dir = FuzzRules.tempDir("fuzz-context-");
        try {
            String name = FileRules.text(dir, input, "name", "context");
            if (!FileRules.staysInside(dir, dir, input, "state_dir", "state/" + name)) {
                return;
            }
            Path file = FuzzRules.ownerOnlyFile(dir, "context.json", input);
            FileRules.load("context file", dir, input.length, 4 << 20, 64, () -> {
                try {
                    return ContextFile.load(file, PROVIDER, warning -> { });
                } catch (IOException | StateUnavailableException rejected) {
                    return (OscoreContext) null;
                }
            }, OscoreContext::close);
        } finally {
            FuzzRules.deleteTree(dir);
        }
    }
}
