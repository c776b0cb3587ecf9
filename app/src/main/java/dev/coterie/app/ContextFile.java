package dev.coterie.app;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.JsonFile;
import dev.coterie.keystore.OwnerOnlyFiles;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.OscoreContext;
import java.io.IOException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The security-context file (docs/configuration.md): a JSON object with hex byte strings.
 * <pre>
 * {
 *   "name": "client-c1",
 *   "master_secret": "0102030405060708090a0b0c0d0e0f10",
 *   "master_salt": "9e7ca92223786340",     (absent or null: no salt)
 *   "sender_id": "",                         (the empty Sender ID is legal)
 *   "recipient_id": "01",
 *   "id_context": null,                      (absent or null: no ID Context)
 *   "aead": "AES-CCM-16-64-128",             (name or COSE number)
 *   "hkdf": "HKDF-SHA-256",
 *   "replay_window": 32,
 *   "state_dir": "state/client-c1",          (relative to this file)
 *   "sequence_block": 1000
 * }
 * </pre>
 */
public final class ContextFile {
    private static final Set<String> KNOWN = Set.of("name", "master_secret", "master_salt", "sender_id", "recipient_id",
            "id_context", "aead", "hkdf", "replay_window", "state_dir", "sequence_block", "key_usage_limits", "comment");

    private static final Logger LOG = LoggerFactory.getLogger(ContextFile.class);

    private ContextFile() {
    }

    /** Loads a context file; a warning about its permissions goes to the log (stderr by default). */
    public static OscoreContext load(Path file, CryptoProvider provider) throws IOException, StateUnavailableException {
        return load(file, provider, LOG::warn);
    }

    /**
     * Loads a context file. One that others may write is refused: they could swap its keys. One
     * that others may read is loaded with a warning to {@code warnings}: the published examples
     * of docs/examples are such files after a clone, and their secrets are public anyway.
     */
    public static OscoreContext load(Path file, CryptoProvider provider, Consumer<String> warnings)
            throws IOException, StateUnavailableException {
        if (OwnerOnlyFiles.requireWritableOnlyByOwner(file, "context file")) {
            warnings.accept("context file " + file + " is readable by others: its Master Secret is no secret"
                    + " (chmod 600 it unless its keys are public examples)");
        }
        JsonFile n = JsonFile.read(file, "context file");
        n.allowOnly(KNOWN);
        String name = n.text("name", stripExtension(file.getFileName().toString()));
        SecretBytes secret = n.secret("master_secret");
        Path stateDir;
        try {
            stateDir = Path.of(n.text("state_dir", "state/" + name));
            if (!stateDir.isAbsolute()) {
                stateDir = file.toAbsolutePath().getParent().resolve(stateDir);
            }
        } catch (InvalidPathException e) {
            // a NUL character, say: not a path on this system (the value is not repeated)
            throw n.error(n.has("state_dir") ? "state_dir" : "name", "does not give a usable state directory path");
        }
        long block = n.integer("sequence_block", 1000, 1, Integer.MAX_VALUE);
        AeadAlgorithm aead;
        try {
            aead = AeadAlgorithm.parse(n.nameOrNumber("aead", "10"));
        } catch (IllegalArgumentException e) {
            throw n.error("aead", "is not a supported AEAD (a name or COSE number: docs/configuration.md)");
        }
        HkdfAlgorithm hkdf;
        try {
            hkdf = HkdfAlgorithm.parse(n.nameOrNumber("hkdf", "HKDF-SHA-256"));
        } catch (IllegalArgumentException e) {
            throw n.error("hkdf", "must be HKDF-SHA-256 (5) or HKDF-SHA-512 (7)");
        }
        OscoreContext.Builder b = OscoreContext.builder()
                .provider(provider)
                .name(name)
                .masterSecret(secret)
                .masterSalt(n.hexOrNull("master_salt"))
                .idContext(n.hexOrNull("id_context"))
                .senderId(n.hex("sender_id"))
                .recipientId(n.hex("recipient_id"))
                .aead(aead)
                .hkdf(hkdf)
                .replayWindowSize((int) n.integer("replay_window", 32, 1, 64))
                .keyUsageLimits(n.bool("key_usage_limits", true));
        try {
            return b.stateStore(SecurityStateStore.open(stateDir, block)).build();
        } catch (IllegalArgumentException e) {
            // the builder's checks (ID lengths for the AEAD) name no values
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    private static String stripExtension(String s) {
        int i = s.lastIndexOf('.');
        return i > 0 ? s.substring(0, i) : s;
    }
}
