package dev.coterie.app;

import static dev.coterie.app.ClientFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import dev.coterie.app.ClientFixtures.Server;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie client --bundle} to one member: group mode to a unicast address only when
 * asked (GRP-28), block-wise answers that keep their member and mode, and the combinations of
 * options that are refused before anything is loaded or sent.
 */
class ClientBundleTest {
    @TempDir
    Path dir;

    @Test
    void groupModeToAUnicastAddressIsRefusedUnlessGroupModeUnicastIsAsked() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            String bundle = members.resolve("01.bundle.json").toString();
            Run refused = run("client", "--bundle", bundle, "--group", server.uri("hello"));
            assertEquals(64, refused.status());
            assertEquals("coterie client: --group: 127.0.0.1 is a unicast address; unicast requests use pairwise mode "
                    + "(--member SID, GRP-28); add --group-mode-unicast to send group mode to it anyway\n", refused.err());
            assertEquals("", refused.out());
            assertEquals(0, server.seen.count("REQUEST_VERIFIED"), "nothing was sent");

            Run asked = run("client", "--bundle", bundle, "--group", "--group-mode-unicast", server.uri("hello"));
            assertEquals(0, asked.status(), asked.err());
            assertEquals("coterie client: warning: --group-mode-unicast: any member of the group can answer in the name of "
                    + "127.0.0.1; the member that did is printed with each answer (GRP-28)\n", asked.err());
            assertEquals(List.of("from /127.0.0.1:" + server.port() + " member 02 (group mode):", "2.05 CONTENT",
                    "  Content-Format: \"text/plain\"", "Hello World!"), asked.lines());
            assertEquals(1, server.seen.count("REQUEST_VERIFIED GROUP"));
        }
    }

    @Test
    void aBlockwiseAnswerKeepsTheMemberAndTheMode() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", server.uri("large"));
            assertEquals(0, r.status(), r.err());
            String expected = "from /127.0.0.1:" + server.port() + " member 02 (pairwise mode):\n2.05 CONTENT\n"
                    + "  Content-Format: \"text/plain\"\n  Size2: 2048\n" + new String(DemoResources.LARGE, StandardCharsets.US_ASCII) + "\n";
            assertEquals(expected, r.out());
            assertEquals(4, server.seen.count("REQUEST_VERIFIED PAIRWISE"), "2048 bytes in 512-byte blocks: " + server.seen.events);
        }
    }

    @Test
    void anErrorResponseFromAMemberExits1() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02",
                    server.uri("nothing-here"));
            assertEquals(1, r.status(), r.err());
            assertEquals(List.of("from /127.0.0.1:" + server.port() + " member 02 (pairwise mode):", "4.04 NOT_FOUND"), r.lines());
        }
    }

    /** Each refusal exits 64 with its message and sends nothing; the last case of each pair shows the command works. */
    @Test
    void inconsistentOptionsAreRefusedWith64BeforeAnythingIsSent() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            String bundle = members.resolve("01.bundle.json").toString();
            String hello = server.uri("hello");
            Map<List<String>, String> cases = new LinkedHashMap<>();
            cases.put(List.of("--bundle", bundle, hello), "with --bundle give --group (a request to a multicast group), --member SID "
                    + "(one server: pairwise, or with --deterministic a deterministic request) or --group-mode-unicast");
            cases.put(List.of("--bundle", bundle, "--group", "--member", "02", hello), "with --bundle give --group (a request to a "
                    + "multicast group), --member SID (one server: pairwise, or with --deterministic a deterministic request) or "
                    + "--group-mode-unicast");
            cases.put(List.of("--bundle", bundle, "--member", "02", "coap://224.0.1.187/hello"), "--member: 224.0.1.187 is a "
                    + "multicast address; a request for one member goes to its unicast address (to the group: --group)");
            cases.put(List.of("--bundle", bundle, "--group-mode-unicast", "coap://224.0.1.187/hello"), "--group-mode-unicast: "
                    + "224.0.1.187 is a multicast address; use --group");
            cases.put(List.of("--bundle", bundle, "--member", "02", "--expect", "1", hello), "--expect needs --group with a "
                    + "multicast address");
            cases.put(List.of("--bundle", bundle, "--group", "--expect", "0", "coap://224.0.1.187/hello"), "--expect must be at "
                    + "least 1");
            cases.put(List.of("--bundle", bundle, "--member", "0g", hello), "--member 0g: not a Sender ID in hex");
            cases.put(List.of("--bundle", bundle, "--member", "09", hello), "pairwise mode needs a known member; no credential for 09");
            cases.put(List.of("--member", "02", hello), "give one of --context (OSCORE), --bundle (Group OSCORE), --no-oscore "
                    + "(plaintext) or --proxy with --proxy-context (a hop layer only; with --context or --bundle, over the end-to-end layer)");
            cases.put(List.of("--no-oscore", "--member", "02", hello), "--member needs --bundle");
            cases.put(List.of("--no-oscore", "--group", hello), "--group needs --bundle");
            cases.put(List.of("--no-oscore", "--passphrase-env", "X", hello), "--passphrase-env needs --bundle");
            cases.put(List.of("--no-oscore", "coap://224.0.1.187/hello"), "--no-oscore to a multicast group is not implemented");
            cases.put(List.of("--bundle", bundle, "--member", "02", "--timeout", "0", hello), "--timeout must be at least 1 second");
            for (Map.Entry<List<String>, String> c : cases.entrySet()) {
                String[] args = new String[c.getKey().size() + 1];
                args[0] = "client";
                for (int i = 0; i < c.getKey().size(); i++) {
                    args[i + 1] = c.getKey().get(i);
                }
                Run r = run(args);
                assertEquals(64, r.status(), c.getKey() + ": " + r.out() + r.err());
                assertEquals("coterie client: " + c.getValue() + "\n", r.err(), c.getKey().toString());
                assertEquals("", r.out(), c.getKey().toString());
            }
            assertEquals(0, server.seen.count("REQUEST_VERIFIED"), "none of them sent anything");
            Run ok = run("client", "--bundle", bundle, "--member", "02", hello);
            assertEquals(0, ok.status(), ok.err());
            assertTrue(ok.out().contains("Hello World!"), ok.out());
        }
    }
}
