package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.Coterie;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coterie server --bundle ... --tcp-bind} answers Group OSCORE pairwise requests from
 * {@code coterie client --bundle ... --member SID coap+tcp://...}: unicast Group OSCORE over CoAP
 * over TCP (issue 10). The wire format (group flag clear, no countersignature) and a tampered
 * request are checked in grouposcore's {@code GroupTcpTest}. Loopback only.
 */
@Timeout(180)
class GroupTcpCliTest {
    @TempDir
    Path dir;

    private static void ok(String... args) {
        TcpInteropTest.Cli r = TcpInteropTest.client(args);
        assertEquals(0, r.status(), r.out());
    }

    private static void group(String... args) {
        assertEquals(0, Coterie.execute(args), String.join(" ", args));
    }

    @Test
    void GRP_TCP_pairwiseRequestsOverCoapTcpToAGroupMember() throws Exception {
        Path groups = dir.resolve("groups");
        group("group", "create", "--name", "g", "--dir", groups.toString());
        group("group", "add-member", "g", "--role", "client", "--dir", groups.toString());
        group("group", "add-member", "g", "--role", "server", "--dir", groups.toString());
        Path members = groups.resolve("g").resolve("members");
        try (TcpInteropTest.ServerProcess s = new TcpInteropTest.ServerProcess("UNUSED", "--bundle",
                members.resolve("02.bundle.json").toString(), "--bind", "127.0.0.1:0", "--tcp-bind", "127.0.0.1:0")) {
            int port = s.port("coap+tcp");
            String uri = "coap+tcp://127.0.0.1:" + port + "/hello";
            TcpInteropTest.Cli r = TcpInteropTest.client("--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", uri);
            assertEquals(0, r.status(), r.out() + s.output());
            assertTrue(r.out().contains("2.05 CONTENT"), r.out());
            assertTrue(r.out().contains("member 02 (pairwise mode)"), "answered in pairwise mode by member 02: " + r.out());
            // a second request on a fresh connection: the member's replay window took the first, this one is new
            ok("--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", uri);
            // group mode over TCP is not offered: --bundle without --member is refused before anything is sent
            TcpInteropTest.Cli refused = TcpInteropTest.client("--bundle", members.resolve("01.bundle.json").toString(), uri);
            assertEquals(64, refused.status(), refused.out());
            assertTrue(refused.out().contains("--bundle without --member with a coap+tcp URI is not done yet"), refused.out());
        }
    }
}
