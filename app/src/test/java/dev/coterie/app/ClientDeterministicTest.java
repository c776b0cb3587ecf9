package dev.coterie.app;

import static dev.coterie.app.ClientFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import dev.coterie.app.ClientFixtures.Server;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie client --deterministic} (draft-ietf-core-cacheable-oscore) to one member: the
 * Request-Hash it prints is the one the server verified, the response's outer Max-Age is shown,
 * every block of a large answer is asked for with a deterministic request of its own, and
 * unsafe methods are refused before anything is sent.
 */
class ClientDeterministicTest {
    private static final String HASH_LINE = "deterministic request, Request-Hash ";

    @TempDir
    Path dir;

    private static List<String> printedHashes(Run r) {
        return r.lines().stream().filter(l -> l.startsWith(HASH_LINE)).map(l -> l.substring(HASH_LINE.length()).split(" ")[0])
                .toList();
    }

    @Test
    void theRequestHashPrintedIsTheOneTheServerVerifiedAndTheOuterMaxAgeIsShown() throws Exception {
        Path members = ClientFixtures.group(dir, true, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--deterministic", "--member", "02",
                    server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertEquals(1, server.seen.deterministicHashes.size(), server.seen.events.toString());
            String hash = server.seen.deterministicHashes.get(0);
            assertEquals(64, hash.length(), "SHA-256");
            assertEquals(List.of(HASH_LINE + hash, "from /127.0.0.1:" + server.port() + " member 02 (group mode):",
                    "outer Max-Age: 60", "2.05 CONTENT", "  Content-Format: \"text/plain\"", "Hello World!"), r.lines());
        }
    }

    @Test
    void aLargeAnswerArrivesBlockByBlockEachAskedForWithItsOwnDeterministicRequest() throws Exception {
        Path members = ClientFixtures.group(dir, true, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--deterministic", "--member", "02",
                    server.uri("large"));
            assertEquals(0, r.status(), r.err());
            List<String> verified = server.seen.deterministicHashes;
            assertEquals(4, verified.size(), "2048 bytes in 512-byte blocks, each a deterministic request: " + server.seen.events);
            assertEquals(4, new HashSet<>(verified).size(), "each block request has its own hash: " + verified);
            assertEquals(verified, printedHashes(r));
            assertEquals(List.of(HASH_LINE + verified.get(0), HASH_LINE + verified.get(1) + " (Block2 1)",
                    HASH_LINE + verified.get(2) + " (Block2 2)", HASH_LINE + verified.get(3) + " (Block2 3)"),
                    r.lines().stream().filter(l -> l.startsWith(HASH_LINE)).toList());
            assertTrue(r.out().endsWith("from /127.0.0.1:" + server.port() + " member 02 (group mode):\nouter Max-Age: 60\n"
                    + "2.05 CONTENT\n  Content-Format: \"text/plain\"\n  Size2: 2048\n"
                    + new String(DemoResources.LARGE, StandardCharsets.US_ASCII) + "\n"), r.out());
            assertEquals(0, server.seen.count("REQUEST_VERIFIED PAIRWISE") + server.seen.count("REQUEST_VERIFIED GROUP"));
        }
    }

    @Test
    void innerObserveAndPaddingShapeTheRequestAndSoItsHash() throws Exception {
        Path members = ClientFixtures.group(dir, true, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            String bundle = members.resolve("01.bundle.json").toString();
            Run plain = run("client", "--bundle", bundle, "--deterministic", "--member", "02", server.uri("inspect"));
            Run again = run("client", "--bundle", bundle, "--deterministic", "--member", "02", server.uri("inspect"));
            Run noObserve = run("client", "--bundle", bundle, "--deterministic", "--member", "02", "--no-inner-observe",
                    server.uri("inspect"));
            Run padded = run("client", "--bundle", bundle, "--deterministic", "--member", "02", "--pad-to", "40",
                    server.uri("inspect"));
            for (Run r : List.of(plain, again, noObserve, padded)) {
                assertEquals(0, r.status(), r.err());
                assertTrue(r.lines().contains("mode=DETERMINISTIC"), r.out());
            }
            assertEquals(printedHashes(plain), printedHashes(again), "the same request, the same hash: what makes it cacheable");
            assertNotEquals(printedHashes(plain), printedHashes(noObserve), "inner Observe 0 is part of the plaintext");
            assertNotEquals(printedHashes(plain), printedHashes(padded));
            assertTrue(plain.lines().stream().noneMatch(l -> l.startsWith("64988=")), "no Padding unless asked: " + plain.out());
            String padding = padded.lines().stream().filter(l -> l.startsWith("64988=")).findFirst().orElseThrow();
            assertTrue(padding.substring(6).matches("(00)+"), "all-zero Padding (class E, inside the plaintext): " + padding);
            assertEquals(server.seen.deterministicHashes, List.of(printedHashes(plain).get(0), printedHashes(again).get(0),
                    printedHashes(noObserve).get(0), printedHashes(padded).get(0)));
        }
    }

    /** The server's refusal of a resource that did not opt in is a protected 4.01: shown with its member, exit 1. */
    @Test
    void aResourceThatDoesNotAcceptDeterministicRequestsAnswersAProtected401() throws Exception {
        Path members = ClientFixtures.group(dir, true, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--deterministic", "--member", "02",
                    server.uri("echo"));
            assertEquals(1, r.status(), r.err());
            List<String> lines = r.lines();
            assertEquals(List.of("from /127.0.0.1:" + server.port() + " member 02 (group mode):", "outer Max-Age: 60",
                    "4.01 UNAUTHORIZED", "The resource does not accept deterministic requests"), lines.subList(1, lines.size()));
            assertTrue(lines.get(0).startsWith(HASH_LINE), lines.get(0));
        }
    }

    @Test
    void unsafeMethodsAreRefusedBeforeSending() throws Exception {
        Path members = ClientFixtures.group(dir, true, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            String bundle = members.resolve("01.bundle.json").toString();
            for (String m : List.of("POST", "PUT", "DELETE", "PATCH", "IPATCH")) {
                Run r = run("client", "--bundle", bundle, "--deterministic", "--member", "02", "-m", m, server.uri("echo"));
                assertEquals(64, r.status(), m);
                assertEquals("coterie client: --deterministic needs a safe method, GET or FETCH (cacheable OSCORE), not " + m
                        + "; nothing was sent\n", r.err());
                assertEquals("", r.out());
            }
            assertTrue(server.seen.events.isEmpty(), "nothing reached the server: " + server.seen.events);
            Run fetch = run("client", "--bundle", bundle, "--deterministic", "--member", "02", "-m", "FETCH", "--payload", "x",
                    server.uri("inspect"));
            assertEquals(0, fetch.status(), fetch.err());
            assertTrue(fetch.lines().contains("payload=78"), fetch.out());
        }
    }

    @Test
    void deterministicOptionsNeedTheirContextAndAGroupWithADeterministicClient() throws Exception {
        Path withDet = ClientFixtures.group(dir.resolve("a"), true, 1);
        Path withoutDet = ClientFixtures.group(dir.resolve("b"), false, 1);
        String uri = "coap://127.0.0.1:9/hello";
        String bundle = withoutDet.resolve("01.bundle.json").toString();
        Run none = run("client", "--bundle", bundle, "--deterministic", "--member", "02", uri);
        assertEquals(64, none.status());
        assertEquals("coterie client: --deterministic: " + bundle + " names no Deterministic Client (det_sender_id)\n", none.err());
        String[][] refused = {
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--deterministic", "--member", "02", "--observe", uri},
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--deterministic", "--group", uri},
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--deterministic", "--group-mode-unicast", uri},
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--member", "02", "--pad-to", "10", uri},
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--member", "02", "--no-inner-observe", uri},
            {"--bundle", withDet.resolve("01.bundle.json").toString(), "--deterministic", "--member", "02", "--pad-to", "-1", uri},
            {"--no-oscore", "--deterministic", uri},
        };
        String[] messages = {
            "--observe with --deterministic is not implemented",
            "--group: 127.0.0.1 is a unicast address; a deterministic request to one server takes --member SID",
            "--deterministic takes --member SID (unicast) or --group (multicast), not --group-mode-unicast",
            "--pad-to needs --deterministic",
            "--no-inner-observe needs --deterministic",
            "--pad-to must be 0 to 65535",
            "--deterministic needs --bundle",
        };
        for (int i = 0; i < refused.length; i++) {
            String[] args = new String[refused[i].length + 1];
            args[0] = "client";
            System.arraycopy(refused[i], 0, args, 1, refused[i].length);
            Run r = run(args);
            assertEquals(64, r.status(), String.join(" ", refused[i]));
            assertEquals("coterie client: " + messages[i] + "\n", r.err());
        }
    }
}
