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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * ARCHITECTURE.md principle 2: run the demo (every exchange, a replay, a plaintext request)
 * and the vector runner with every logger at TRACE, and look for every key of the published
 * vectors in the logs and the printed output, in any of the usual hex spellings. The error
 * paths too: malformed bundles, context files and key files, and a wrong passphrase.
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
        assertEquals(0, demo, () -> "the demo failed; its outcome lines:\n" + captured.toString(StandardCharsets.UTF_8).lines()
                .filter(l -> l.contains("=>") || l.contains("summary") || l.startsWith("Part") || l.contains("Exception"))
                .collect(java.util.stream.Collectors.joining("\n")));
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

    // draft-ietf-core-cacheable-oscore Appendix F.1: the server's bundle (both secrets are in secretsFromVectors)
    private static final String MASTER_SECRET = "0102030405060708090a0b0c0d0e0f10";
    private static final String SERVER_PRIVATE = "857eb61d3f6d70a278a36740d132c099f62880ed497e27bdfd4685fa1a304f26";
    private static final String PASSPHRASE = "correct horse battery staple";

    private static String f1Bundle(String keyFile) {
        return "{\n  \"format\": \"coterie-group-member-1\",\n  \"group\": \"f1\",\n  \"gid\": \"dd11\",\n"
                + "  \"master_secret\": \"" + MASTER_SECRET + "\",\n  \"master_salt\": \"9e7ca92223786340\",\n"
                + "  \"algorithms\": {\"aead\": 10, \"group_encryption\": 10, \"signature\": -8, \"pairwise_key_agreement\": \"X25519\"},\n"
                + "  \"sender_id\": \"52\",\n  \"private_key_file\": \"" + keyFile + "\",\n"
                + "  \"own_credential\": \"a501781a636f6170733a2f2f7365727665722e6578616d706c652e636f6d026673656e64657203781a636f6170733a2f2f"
                + "636c69656e742e6578616d706c652e6f7267041a70004b4f08a101a401010327200621582077ec358c1d344e41ee0e87b8383d23a2099acd39bdf989ce"
                + "45b52e887463389b\",\n  \"members\": {},\n  \"det_sender_id\": \"dc\"\n}\n";
    }

    private static Path write(Path dir, String name, String content, String mode) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    /**
     * The error paths: malformed bundles (a syntax error right after the Master Secret, the
     * secret unquoted, as a number, with an odd number of digits), a bundle others can read,
     * malformed context files, a key file with a syntax error after the key, and an encrypted
     * key with the wrong passphrase. Each is refused with a message naming the file and why;
     * nothing printed or logged holds a secret, nor any 12-digit piece of the two used here.
     */
    @Test
    void malformedFilesAndAWrongPassphraseNeverPrintASecret(@TempDir Path dir) throws Exception {
        dev.coterie.keystore.PrivateKey server = dev.coterie.keystore.CryptoProviders.defaultProvider().privateKey(
                dev.coterie.keystore.PrivateKey.Type.ED25519, dev.coterie.keystore.SecretBytes.fromHex(SERVER_PRIVATE));
        dev.coterie.keystore.PrivateKeyFile.write(dir.resolve("server.key"), server, PASSPHRASE.toCharArray());
        String good = f1Bundle("server.key");
        Path goodBundle = write(dir, "good.bundle.json", good, "rw-------");
        // positive control: the well-formed bundle loads with the right passphrase
        assertEquals(1, dev.coterie.app.group.MemberBundle.load(goodBundle, dev.coterie.keystore.CryptoProviders.defaultProvider(),
                PASSPHRASE.toCharArray()).deterministicSenderId().length);
        Path clearKey = write(dir, "clear.key", "{\"type\": \"Ed25519\",\n \"private_key\": \"" + SERVER_PRIVATE
                + "\"\n \"public_key\": \"00\"}", "rw-------");
        String context = Files.readString(Path.of("..", "docs", "examples", "client-c1.json"));
        assertTrue(context.contains("\"" + MASTER_SECRET + "\","), "the example context holds the secret this test hides");

        Map<String, String[]> cases = new LinkedHashMap<>();
        Map<String, String> expected = new LinkedHashMap<>();
        Path syntax = write(dir, "syntax.bundle.json", changed(good, "\"" + MASTER_SECRET + "\",", "\"" + MASTER_SECRET + "\""), "rw-------");
        cases.put("bundle: syntax error after the secret", groupClient(syntax));
        expected.put("bundle: syntax error after the secret", syntax + ": not a group member bundle: JSON syntax error at line 6, column 3"
                + " (in or after field 'master_secret')");
        Path unquoted = write(dir, "unquoted.bundle.json", changed(good, "\"" + MASTER_SECRET + "\"", MASTER_SECRET), "rw-------");
        cases.put("bundle: unquoted secret", groupClient(unquoted));
        expected.put("bundle: unquoted secret", unquoted + ": not a group member bundle: JSON syntax error at line 5, column 21"
                + " (in or after field 'master_secret')");
        Path number = write(dir, "number.bundle.json", changed(good, "\"" + MASTER_SECRET + "\"", "10203040506070809101112131415161"),
                "rw-------");
        cases.put("bundle: secret as a number", groupClient(number));
        expected.put("bundle: secret as a number", number + ": field 'master_secret' must be a string, not a number");
        Path odd = write(dir, "odd.bundle.json", changed(good, MASTER_SECRET, MASTER_SECRET.substring(1)), "rw-------");
        cases.put("bundle: odd hex length", groupClient(odd));
        expected.put("bundle: odd hex length", odd + ": field 'master_secret' is not valid hex (an odd number of digits); value not shown");
        Path open = write(dir, "open.bundle.json", good, "rw-r--r--");
        cases.put("bundle: readable by others", new String[] {"server", "--bundle", open.toString(), "--bind", "127.0.0.1:0"});
        expected.put("bundle: readable by others", "group member bundle " + open + " is accessible to others (rw-r--r--); run chmod 600 on it");
        Path keySyntax = write(dir, "keysyntax.bundle.json", changed(good, "server.key", "clear.key"), "rw-------");
        cases.put("key file: syntax error after the key", groupClient(keySyntax));
        expected.put("key file: syntax error after the key", clearKey + ": not a private key file: JSON syntax error at line 3, column 2"
                + " (in or after field 'private_key')");
        // the passphrase comes from an environment variable: PATH holds anything but the right one
        cases.put("key file: wrong passphrase", new String[] {"client", "--bundle", goodBundle.toString(), "--passphrase-env", "PATH",
                "--group", "--timeout", "1", "coap://224.0.1.187/light"});
        expected.put("key file: wrong passphrase", dir.resolve("server.key") + ": wrong passphrase or damaged file");
        Path ctxSyntax = write(dir, "syntax.json", changed(context, "\"" + MASTER_SECRET + "\",", "\"" + MASTER_SECRET + "\""), "rw-------");
        cases.put("context: syntax error after the secret", oscoreClient(ctxSyntax));
        expected.put("context: syntax error after the secret", ctxSyntax + ": not a context file: JSON syntax error at line 5, column 3"
                + " (in or after field 'master_secret')");
        Path ctxNumber = write(dir, "number.json", changed(context, "\"" + MASTER_SECRET + "\"", "1020304050607080"), "rw-------");
        cases.put("context: secret as a number", oscoreClient(ctxNumber));
        expected.put("context: secret as a number", ctxNumber + ": field 'master_secret' must be a string, not a number");
        Path ctxOdd = write(dir, "odd.json", changed(context, MASTER_SECRET, MASTER_SECRET + "1"), "rw-------");
        cases.put("context: odd hex length", oscoreClient(ctxOdd));
        expected.put("context: odd hex length", ctxOdd + ": field 'master_secret' is not valid hex (an odd number of digits); value not shown");

        LoggerContext lc = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger root = lc.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        root.addAppender(appender);
        root.setLevel(Level.TRACE);
        PrintStream out = System.out;
        PrintStream err = System.err;
        StringBuilder all = new StringBuilder();
        try {
            for (Map.Entry<String, String[]> c : cases.entrySet()) {
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                ByteArrayOutputStream e = new ByteArrayOutputStream();
                System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
                int status = Coterie.execute(c.getValue());
                System.setOut(out);
                System.setErr(err);
                String printed = o.toString(StandardCharsets.UTF_8) + e.toString(StandardCharsets.UTF_8);
                assertEquals(64, status, c.getKey() + ": " + printed);
                assertEquals("coterie " + c.getValue()[0] + ": " + expected.get(c.getKey()) + "\n", printed, c.getKey());
                all.append(printed);
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
            root.setLevel(before);
            root.detachAppender(appender);
        }
        for (ILoggingEvent e : appender.list) {
            all.append(e.getFormattedMessage()).append('\n');
            if (e.getThrowableProxy() != null) {
                all.append(e.getThrowableProxy().getMessage()).append('\n');
            }
        }
        String squashed = all.toString().replaceAll("[\\s:]", "").toLowerCase(Locale.ROOT);
        for (String s : secretsFromVectors()) {
            assertFalse(squashed.contains(s), "secret " + s.substring(0, 6) + "... appears in an error path");
        }
        for (String s : new String[] {MASTER_SECRET, SERVER_PRIVATE}) {
            for (int i = 0; i + 12 <= s.length(); i++) {
                assertFalse(squashed.contains(s.substring(i, i + 12)), "a piece of " + s.substring(0, 6) + "... appears in an error path");
            }
        }
    }

    private static String changed(String text, String from, String to) {
        String out = text.replace(from, to);
        assertFalse(out.equals(text), "the variant differs from the good file: " + from.length());
        return out;
    }

    private static String[] groupClient(Path bundle) {
        // refused while loading, before any request is sent
        return new String[] {"client", "--bundle", bundle.toString(), "--group", "--timeout", "1", "coap://224.0.1.187/light"};
    }

    private static String[] oscoreClient(Path context) {
        return new String[] {"client", "--context", context.toString(), "--timeout", "1", "coap://127.0.0.1:9/hello"};
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
