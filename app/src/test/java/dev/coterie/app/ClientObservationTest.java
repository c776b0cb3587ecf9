package dev.coterie.app;

import static dev.coterie.app.ClientFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import dev.coterie.app.ClientFixtures.Server;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie client --observe}: N notifications, then one deregistration (Observe 1, same
 * Token) whose answer is printed as what it is, never as one more notification; over OSCORE,
 * pairwise mode and group mode to one member.
 */
class ClientObservationTest {
    @TempDir
    Path dir;

    private Path clientFile() throws Exception {
        return ClientFixtures.contextFile(dir, "client", "", "01", ",\n  \"state_dir\": \"client-state\"");
    }

    @Test
    void fewerNotificationsThanAskedForEndWithTheDeregistrationAnswerPrintedAsSuch() throws Exception {
        Held held = new Held();
        try (Server server = Server.oscore(dir, held)) {
            Run r = run("client", "--context", clientFile().toString(), "--observe", "--notifications", "3", "--timeout", "2",
                    server.uri("held"));
            assertEquals(2, r.status(), r.out());
            assertEquals("coterie client: 1 of 3 notifications within 2 s\n", r.err());
            List<String> lines = r.lines();
            assertEquals(9, lines.size(), r.out());
            assertEquals("notification 1:", lines.get(0));
            assertEquals("2.05 CONTENT", lines.get(1));
            assertTrue(lines.get(2).matches("  Observe: \\d+"), lines.get(2));
            assertEquals("  Content-Format: \"text/plain\"", lines.get(3));
            assertEquals("held 0", lines.get(4));
            assertTrue(lines.get(5).matches("deregistering: GET with Observe 1 and the same Token [0-9A-F]+ \\(RFC 7641 3.6\\)"),
                    lines.get(5));
            assertEquals("deregistration answered: 2.05 CONTENT", lines.get(6));
            assertEquals("  Content-Format: \"text/plain\"", lines.get(7));
            assertEquals("held 0", lines.get(8));
            assertEquals(1, r.count("2.05 CONTENT"), "the deregistration's answer is no notification");
            // the server saw the registration and the deregistration, and holds no observer any more
            assertEquals(List.of(0, 1), held.observeValues);
            assertEquals(0, held.getObserverCount());
        }
    }

    @Test
    void nNotificationsThenOneDeregistrationAndStatus0() throws Exception {
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "--observe", "--notifications", "2", server.uri("observe"));
            assertEquals(0, r.status(), r.out() + r.err());
            assertEquals("", r.err());
            assertEquals(List.of("notification 1:", "notification 2:"), r.lines().stream().filter(l -> l.startsWith("notification"))
                    .toList());
            assertEquals(2, r.count("2.05 CONTENT"));
            assertEquals(1, r.count("deregistration answered: 2.05 CONTENT"));
            assertEquals(1, r.count("deregistering: GET with Observe 1"));
        }
    }

    /** A NON deregistration's answer is NON too; it must not be taken for an overlapping notification and dropped. */
    @Test
    void aNonDeregistrationIsAnsweredAndTheAnswerShown() throws Exception {
        try (Server server = Server.oscore(dir)) {
            Run r = run("client", "--context", clientFile().toString(), "--non", "--observe", "--notifications", "1",
                    server.uri("observe"));
            assertEquals(0, r.status(), r.out() + r.err());
            assertEquals(1, r.count("deregistration answered: 2.05 CONTENT"), r.out());
            assertEquals(0, r.count("deregistration: no answer"), r.out());
        }
    }

    @Test
    void pairwiseObservationPrintsTheMemberAndTheModeOfEveryNotification() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            Run r = run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", "--observe",
                    "--notifications", "2", server.uri("observe"));
            assertEquals(0, r.status(), r.out() + r.err());
            String from = "from /127.0.0.1:" + server.port() + " member 02 (pairwise mode)";
            assertEquals(List.of("notification 1 " + from + ":", "notification 2 " + from + ":"),
                    r.lines().stream().filter(l -> l.startsWith("notification")).toList());
            assertEquals(1, r.count("deregistration answered " + from + ": 2.05 CONTENT"), r.out());
            assertEquals(2, server.seen.count("REQUEST_VERIFIED PAIRWISE"), "registration, deregistration: " + server.seen.events);
        }
    }

    @Test
    void groupModeObservationOfOneMemberNeedsGroupModeUnicastAndPrintsGroupMode() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        try (Server server = Server.member(members.resolve("02.bundle.json"))) {
            String bundle = members.resolve("01.bundle.json").toString();
            Run refused = run("client", "--bundle", bundle, "--group", "--observe", server.uri("observe"));
            assertEquals(64, refused.status());
            assertEquals("coterie client: --group: 127.0.0.1 is a unicast address; unicast requests use pairwise mode "
                    + "(--member SID, GRP-28); add --group-mode-unicast to send group mode to it anyway\n", refused.err());
            assertEquals(0, server.seen.count("REQUEST_VERIFIED"), "refused before sending");

            Run r = run("client", "--bundle", bundle, "--group", "--group-mode-unicast", "--observe", "--notifications", "2",
                    server.uri("observe"));
            assertEquals(0, r.status(), r.out() + r.err());
            String from = "from /127.0.0.1:" + server.port() + " member 02 (group mode)";
            assertEquals(List.of("notification 1 " + from + ":", "notification 2 " + from + ":"),
                    r.lines().stream().filter(l -> l.startsWith("notification")).toList());
            assertEquals(1, r.count("deregistration answered " + from + ": 2.05 CONTENT"), r.out());
        }
    }

    @Test
    void TCP_08_observeOverCoapTcpPrintsNotificationsThenDeregisters() throws Exception {
        try (Server server = Server.oscoreTcp(dir)) {
            assertTrue(server.uri("observe").startsWith("coap+tcp://127.0.0.1:"), server.uri("observe"));
            Run r = run("client", "--context", clientFile().toString(), "--observe", "--notifications", "3", server.uri("observe"));
            assertEquals(0, r.status(), r.out() + r.err());
            assertEquals("", r.err());
            List<String> lines = r.lines();
            assertEquals(List.of("notification 1:", "notification 2:", "notification 3:"),
                    lines.stream().filter(l -> l.startsWith("notification")).toList(), r.out());
            // each notification: 2.05, its Observe value, the counter; the counters rise (TCP keeps the order)
            List<Integer> counters = new java.util.ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).startsWith("notification")) {
                    assertEquals("2.05 CONTENT", lines.get(i + 1));
                    assertTrue(lines.get(i + 2).matches("  Observe: \\d+"), lines.get(i + 2));
                    counters.add(Integer.parseInt(lines.get(i + 4)));
                }
            }
            assertEquals(counters.stream().sorted().distinct().toList(), counters, "notifications in order, none twice");
            assertEquals(1, r.count("deregistering: GET with Observe 1"), r.out());
            assertEquals(1, r.count("deregistration answered: 2.05 CONTENT"), r.out());
            assertEquals(0, ((CoapResource) server.server.getRoot().getChild("observe")).getObserverCount(),
                    "the server holds no observer");
            assertEquals(2, server.seen.count("REQUEST_VERIFIED"), "registration, deregistration: " + server.seen.events);
        }
    }

    @Test
    void observeNeedsGetOrFetchAndNotificationsNeedObserve() throws Exception {
        Run post = run("client", "--context", clientFile().toString(), "--observe", "-m", "POST", "coap://127.0.0.1:9/observe");
        assertEquals(64, post.status());
        assertEquals("coterie client: --observe needs GET or FETCH (RFC 7641, RFC 8132), not POST\n", post.err());
        Run count = run("client", "--context", clientFile().toString(), "--notifications", "2", "coap://127.0.0.1:9/observe");
        assertEquals(64, count.status());
        assertEquals("coterie client: --notifications needs --observe\n", count.err());
        Run zero = run("client", "--context", clientFile().toString(), "--observe", "--notifications", "0",
                "coap://127.0.0.1:9/observe");
        assertEquals(64, zero.status());
        assertEquals("coterie client: --notifications must be at least 1\n", zero.err());
    }

    /** Observable, but changes only when a test says so; records the Observe value of each GET. */
    static final class Held extends CoapResource {
        final List<Integer> observeValues = new CopyOnWriteArrayList<>();

        Held() {
            super("held");
            setObservable(true);
            getAttributes().setObservable();
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            Integer o = exchange.getRequestOptions().getObserve();
            observeValues.add(o == null ? -1 : o);
            exchange.respond(ResponseCode.CONTENT, "held 0", MediaTypeRegistry.TEXT_PLAIN);
        }
    }
}
