package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.coterie.app.Coterie;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * ARCHITECTURE.md principle 2: run the demo (every exchange, a replay, a plaintext request)
 * and the vector runner with every logger at TRACE, and look for every key of the published
 * vectors in the logs and the printed output, in any of the usual hex spellings.
 */
class KeyMaterialNeverLoggedTest {

    @Test
    void noKeyMasterSecretOrKeystreamReachesALogOrTheTerminal() throws Exception {
        List<String> secrets = secretsFromVectors();
        assertTrue(secrets.size() >= 15, "RFC 8613 keys, group keys, the published keystream and private keys: " + secrets.size());

        LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = lc.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        Logger californium = lc.getLogger("org.eclipse.californium");
        Level cfBefore = californium.getLevel();
        californium.setLevel(Level.TRACE);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        root.setLevel(Level.TRACE);
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int demo;
        int vectors;
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            demo = Coterie.execute("demo");
            vectors = Coterie.execute("vectors");
        } finally {
            System.setOut(out);
            root.setLevel(before);
            californium.setLevel(cfBefore);
            root.detachAppender(appender);
        }
        assertEquals(0, demo);
        assertEquals(0, vectors);
        StringBuilder all = new StringBuilder(captured.toString(StandardCharsets.UTF_8));
        for (ILoggingEvent e : appender.list) {
            all.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                all.append(e.getThrowableProxy().getMessage()).append('\n');
            }
        }
        assertTrue(appender.list.size() > 100, "TRACE logging really ran: " + appender.list.size() + " events");
        String text = all.toString();
        String squashed = text.replaceAll("[\\s:]", "").toLowerCase(Locale.ROOT);
        for (String s : secrets) {
            assertFalse(squashed.contains(s), "secret " + s.substring(0, 6) + "... appears in logs or output");
        }
    }

    private static List<String> secretsFromVectors() throws Exception {
        List<String> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try (InputStream in = dev.coterie.vectors.VectorRunner.class.getResourceAsStream("data/rfc8613-appendix-c.json")) {
            for (JsonNode v : json.readTree(in).get("vectors")) {
                for (String section : new String[] {"inputs", "outputs", "intermediate"}) {
                    JsonNode n = v.get(section);
                    if (n == null) {
                        continue;
                    }
                    for (String f : new String[] {"master_secret", "sender_key", "recipient_key", "encryption_key"}) {
                        if (n.has(f) && !n.get(f).isNull() && !out.contains(n.get(f).asText())) {
                            out.add(n.get(f).asText());
                        }
                    }
                }
            }
        }
        // Group OSCORE: Sender Keys, Signature Encryption Key, keystream and private keys of the group vectors
        for (String file : new String[] {"data/cacheable-oscore.json", "data/coterie-group-vectors.json"}) {
            try (InputStream in = dev.coterie.vectors.VectorRunner.class.getResourceAsStream(file)) {
                collect(json.readTree(in), out);
            }
        }
        return out;
    }

    private static final java.util.Set<String> SECRET_FIELDS = java.util.Set.of("deterministic_client_sender_key",
            "signature_encryption_key", "server_sender_key", "server_private_key", "signature_keystream",
            "client_private_key", "group_manager_private_key", "encryption_key", "new_master_secret");

    private static void collect(JsonNode n, List<String> out) {
        n.fields().forEachRemaining(e -> {
            if (SECRET_FIELDS.contains(e.getKey()) && e.getValue().isTextual() && !out.contains(e.getValue().asText())) {
                out.add(e.getValue().asText());
            }
            collect(e.getValue(), out);
        });
        if (n.isArray()) {
            n.forEach(x -> collect(x, out));
        }
    }
}
