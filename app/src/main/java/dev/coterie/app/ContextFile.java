package dev.coterie.app;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.OscoreContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Set;

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
            "id_context", "aead", "hkdf", "replay_window", "state_dir", "sequence_block", "comment");

    private ContextFile() {
    }

    public static OscoreContext load(Path file, CryptoProvider provider) throws IOException, StateUnavailableException {
        ObjectMapper json = new ObjectMapper();
        json.enable(JsonParser.Feature.ALLOW_COMMENTS);
        if (!Files.isReadable(file)) {
            throw new IOException(file + ": no such file or not readable");
        }
        JsonNode n;
        try {
            n = json.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IOException(file + ": not a valid context file (" + e.getClass().getSimpleName() + ")");
        }
        if (n == null || !n.isObject()) {
            throw new IOException(file + ": a context file holds one JSON object");
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext();) {
            String f = it.next();
            if (!KNOWN.contains(f)) {
                throw new IOException(file + ": unknown field '" + f + "' (known: " + KNOWN + ")");
            }
        }
        String name = text(n, "name", stripExtension(file.getFileName().toString()));
        String secretHex = required(n, "master_secret", file);
        Path stateDir = Path.of(text(n, "state_dir", "state/" + name));
        if (!stateDir.isAbsolute()) {
            Path parent = file.toAbsolutePath().getParent();
            stateDir = parent.resolve(stateDir);
        }
        long block = n.has("sequence_block") ? n.get("sequence_block").asLong() : 1000;
        try {
            return OscoreContext.builder()
                    .provider(provider)
                    .name(name)
                    .masterSecret(SecretBytes.fromHex(secretHex))
                    .masterSalt(hexOrNull(n, "master_salt"))
                    .idContext(hexOrNull(n, "id_context"))
                    .senderId(Hex.decode(required(n, "sender_id", file)))
                    .recipientId(Hex.decode(required(n, "recipient_id", file)))
                    .aead(AeadAlgorithm.parse(text(n, "aead", "10")))
                    .hkdf(HkdfAlgorithm.parse(text(n, "hkdf", "HKDF-SHA-256")))
                    .replayWindowSize(n.has("replay_window") ? n.get("replay_window").asInt() : 32)
                    .stateStore(SecurityStateStore.open(stateDir, block))
                    .build();
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    private static String required(JsonNode n, String field, Path file) throws IOException {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            throw new IOException(file + ": missing '" + field + "'");
        }
        return v.asText();
    }

    private static String text(JsonNode n, String field, String dflt) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? dflt : v.asText();
    }

    private static byte[] hexOrNull(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : Hex.decode(v.asText());
    }

    private static String stripExtension(String s) {
        int i = s.lastIndexOf('.');
        return i > 0 ? s.substring(0, i) : s;
    }
}
