package dev.coterie.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.coterie.app.group.MemberBundle;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Group member bundles (docs/configuration.md) through {@link MemberBundle#load}: the input is the
 * bundle, written owner-only into a fresh directory beside a shared {@code keys/} directory that
 * holds the private key files the seed bundles name ({@code ../keys/NAME}, resources
 * {@code MemberBundleFuzzTestKeys/}), owner-only too.
 *
 * <p>Rules: loaded (then closed) or {@link IOException} / {@link StateUnavailableException}, nothing
 * else; at most 4 MiB plus 64 bytes per input byte allocated; no file left open. An input whose
 * state directory would leave its directory, or whose key file would leave the sandbox, is
 * skipped ({@link FileRules#staysInside}).
 */
class MemberBundleFuzzTest {
    private static final CryptoProvider PROVIDER = CryptoProviders.defaultProvider();

    private static final class Sandbox {
        static final Path ROOT;

        static {
            try {
                ROOT = FuzzRules.tempDir("fuzz-bundles-");
                Path keys = java.nio.file.Files.createDirectory(ROOT.resolve("keys"));
                Path seeds = Path.of(MemberBundleFuzzTest.class.getResource("MemberBundleFuzzTestKeys").toURI());
                try (Stream<Path> files = java.nio.file.Files.list(seeds)) {
                    for (Path k : (Iterable<Path>) files::iterator) {
                        FuzzRules.ownerOnlyFile(keys, k.getFileName().toString(), java.nio.file.Files.readAllBytes(k));
                    }
                }
                Runtime.getRuntime().addShutdownHook(new Thread(() -> FuzzRules.deleteTree(ROOT)));
            } catch (Exception e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /** The format's field names and a few values that matter to paths, algorithms and hex. */
    @DictionaryEntries({"\"format\"", "\"group\"", "\"gid\"", "\"master_secret\"", "\"algorithms\"", "\"sender_id\"",
        "\"private_key_file\"", "\"own_credential\"", "\"members\"", "\"det_sender_id\"", "\"det_hash_alg\"",
        "\"unknown_kids\"", "\"fixed\"", "\"state_dir\"", "\"group_manager_credential\"", "\\u0000", "../", "null",
        "\"ES256\"", "\"P-256\"", "\"X25519\"", "\"SHA-512\""})
    @FuzzTest
    void bundle(byte[] input) throws Exception {
        FuzzRules.reporting(input, () -> check(input));
    }

    private static void check(byte[] input) throws Exception {
        Path root = Sandbox.ROOT;
        Path dir = java.nio.file.Files.createTempDirectory(root, "in-");
        try {
            String group = FileRules.text(dir, input, "group", "group");
            if (!FileRules.staysInside(dir, dir, input, "state_dir", "state/" + group)
                    || !FileRules.staysInside(root, dir, input, "private_key_file", null)) {
                return;
            }
            Path file = FuzzRules.ownerOnlyFile(dir, "member.bundle.json", input);
            FileRules.load("member bundle", root, input.length, 4 << 20, 64, () -> {
                try {
                    return MemberBundle.load(file, PROVIDER, PrivateKeyFileFuzzTest.PASSPHRASE);
                } catch (IOException | StateUnavailableException rejected) {
                    return (GroupContext) null;
                }
            }, GroupContext::close);
        } finally {
            FuzzRules.deleteTree(dir);
        }
    }
}
