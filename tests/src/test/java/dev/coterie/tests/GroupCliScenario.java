package dev.coterie.tests;

import dev.coterie.app.Coterie;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs inside a private network namespace: the commissioning tool creates a lighting group,
 * two {@code coterie server --bundle} processes' worth of servers join it, and
 * {@code coterie client --bundle --group} switches them with one multicast request, then reads
 * one in pairwise mode. Prints every command's output and its exit status.
 */
public final class GroupCliScenario {
    private GroupCliScenario() {
    }

    public static void main(String[] args) throws Exception {
        try {
            Path dir = Files.createTempDirectory("coterie-groups");
            String d = dir.toString();
            status("create", Coterie.execute("group", "create", "--name", "lights", "--dir", d, "--epoch", "61532",
                    "--deterministic-sid", "dc"));
            status("add client", Coterie.execute("group", "add-member", "lights", "--role", "client", "--dir", d));
            status("add lamp 1", Coterie.execute("group", "add-member", "lights", "--role", "server", "--dir", d,
                    "--member-name", "lamp-1"));
            status("add lamp 2", Coterie.execute("group", "add-member", "lights", "--role", "server", "--dir", d,
                    "--member-name", "lamp-2"));
            status("show", Coterie.execute("group", "show", "lights", "--dir", d));
            Path members = dir.resolve("lights").resolve("members");
            startServer(members.resolve("02.bundle.json"), "127.0.0.1:5702", false);
            startServer(members.resolve("03.bundle.json"), "127.0.0.1:5703", true);
            Thread.sleep(1500);
            status("group PUT", Coterie.execute("client", "--bundle", members.resolve("01.bundle.json").toString(), "--group",
                    "-m", "PUT", "--payload", "on", "--timeout", "2", "coap://224.0.1.187/light"));
            status("pairwise GET", Coterie.execute("client", "--bundle", members.resolve("01.bundle.json").toString(),
                    "--member", "02", "--timeout", "3", "coap://127.0.0.1:5702/light"));
            status("plain OSCORE bundle misuse", Coterie.execute("client", "--bundle", members.resolve("01.bundle.json").toString(),
                    "--timeout", "1", "coap://127.0.0.1:5702/light"));
            String client = members.resolve("01.bundle.json").toString();
            // GRP-28: group mode to a unicast address only when asked for
            status("group to unicast", Coterie.execute("client", "--bundle", client, "--group", "--timeout", "1",
                    "coap://127.0.0.1:5702/light"));
            status("group mode unicast", Coterie.execute("client", "--bundle", client, "--group", "--group-mode-unicast",
                    "--timeout", "3", "coap://127.0.0.1:5702/light"));
            // --expect: the first answer ends the wait (a long --timeout would show a second one otherwise)
            status("expect 1", Coterie.execute("client", "--bundle", client, "--group", "--expect", "1", "--timeout", "30",
                    "coap://224.0.1.187/light"));
            status("expect 3 of 2", Coterie.execute("client", "--bundle", client, "--group", "--expect", "3", "--timeout", "2",
                    "coap://224.0.1.187/light"));
            // GCB-09: one observation of the group, each member's notifications, one deregistration to the group
            status("group observe", Coterie.execute("client", "--bundle", client, "--group", "--observe", "--notifications", "2",
                    "--expect", "2", "--timeout", "30", "coap://224.0.1.187/observe"));
            status("pairwise observe", Coterie.execute("client", "--bundle", client, "--member", "03", "--observe",
                    "--notifications", "2", "--timeout", "30", "coap://127.0.0.1:5703/observe"));
            // cacheable OSCORE to the group: every member answers the one deterministic request
            status("deterministic group", Coterie.execute("client", "--bundle", client, "--deterministic", "--group",
                    "--expect", "2", "--timeout", "30", "coap://224.0.1.187/hello"));
            status("deterministic unicast", Coterie.execute("client", "--bundle", client, "--deterministic", "--member", "02",
                    "--timeout", "10", "coap://127.0.0.1:5702/hello"));
            status("group large", Coterie.execute("client", "--bundle", client, "--group", "--expect", "2", "--timeout", "10",
                    "coap://224.0.1.187/large"));
            System.out.println("SCENARIO DONE");
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(2);
        }
    }

    private static void startServer(Path bundle, String bind, boolean pairwise) {
        Thread t = new Thread(() -> Coterie.execute(pairwise
                ? new String[] {"server", "--bundle", bundle.toString(), "--bind", bind, "--join", "224.0.1.187", "--pairwise-responses",
                    "--leisure", "300"}
                : new String[] {"server", "--bundle", bundle.toString(), "--bind", bind, "--join", "224.0.1.187",
                    "--leisure", "300"}));
        t.setDaemon(true);
        t.start();
    }

    private static void status(String what, int status) {
        System.out.println("STATUS " + what + " = " + status);
    }
}
