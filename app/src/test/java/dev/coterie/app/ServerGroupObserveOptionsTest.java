package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code coterie server --group-observe} and its options: every refused value exits 64 with one
 * line naming the option, before any context or socket is opened; the accepted values give the
 * plan the server runs (the end-to-end runs are the tests module's ServerGroupObserveTest).
 */
class ServerGroupObserveOptionsTest {

    private static String[] server(String... groupOptions) {
        List<String> a = new ArrayList<>(List.of("server", "--context", "/nonexistent/never-opened.json", "--bind",
                "127.0.0.1:5683"));
        a.addAll(List.of(groupOptions));
        return a.toArray(new String[0]);
    }

    @Test
    void badGroupObserveValuesExit64NamingTheOption() {
        Map<String[], String> cases = new LinkedHashMap<>();
        cases.put(server("--group-observe", "alarm"), "--group-observe needs --notify-group");
        cases.put(server("--group-observe", "a/b", "--notify-group", "224.0.1.190:5683"), "--group-observe: 'a/b' is not one "
                + "path segment");
        cases.put(server("--group-observe", "", "--notify-group", "224.0.1.190:5683"), "--group-observe: '' is not one path "
                + "segment");
        cases.put(server("--group-observe", "..", "--notify-group", "224.0.1.190:5683"), "--group-observe: '..' is not one path "
                + "segment");
        cases.put(server("--group-observe", "hello", "--notify-group", "224.0.1.190:5683"), "--group-observe: /hello is one of "
                + "the server's own resources");
        cases.put(server("--group-observe", "alarm", "--notify-group", "10.1.2.3:5683"), "--notify-group: 10.1.2.3 is not a "
                + "multicast address");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5684"), "--notify-group: port 5684 (coaps) "
                + "must not carry group communication (GCB-10)");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:0"), "--notify-group: 0 is out of range "
                + "(1 to 65535)");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:http"), "--notify-group: 'http' is not a "
                + "number");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190"), "--notify-group: expected a multicast "
                + "ADDR:PORT, got 224.0.1.190");
        cases.put(server("--group-observe", "alarm", "--notify-group", "alarms.example:5683"), "--notify-group: expected a "
                + "multicast ADDR:PORT, got alarms.example:5683");
        cases.put(server("--group-observe", "alarm", "--notify-group", "ff02::1:5683"), "--notify-group: write an IPv6 group "
                + "as [ADDR]:PORT");
        cases.put(server("--group-observe", "alarm", "--notify-group", "[fe80::1]:5683"), "--notify-group: fe80:0:0:0:0:0:0:1 "
                + "is not a multicast address");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--notify-period", "0"),
                "--notify-period: 0 is out of range (1 to 86400000)");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--notify-period", "86400001"),
                "--notify-period: 86400001 is out of range (1 to 86400000)");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--notify-period", "1s"),
                "--notify-period: '1s' is not a number");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--informative-format", "65536"),
                "--informative-format: 65536 is out of range (0 to 65535)");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--informative-format", "-1"),
                "--informative-format: -1 is out of range (0 to 65535)");
        cases.put(server("--notify-group", "224.0.1.190:5683"), "--notify-group, --notify-period and --informative-format need "
                + "--group-observe");
        cases.put(server("--group-observe", "alarm", "--notify-group", "224.0.1.190:5683", "--tcp-bind"),
                "--group-observe notifies over UDP multicast: drop --tcp-bind and --tls-bind");
        cases.put(new String[] {"server", "--context", "/nonexistent/never-opened.json", "--bind", "0.0.0.0:5683",
                "--group-observe", "alarm", "--notify-group", "224.0.1.190:5683"}, "--group-observe needs a concrete --bind address");
        PrintStream out = System.out;
        PrintStream err = System.err;
        try {
            for (Map.Entry<String[], String> c : cases.entrySet()) {
                ByteArrayOutputStream o = new ByteArrayOutputStream();
                System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(o, true, StandardCharsets.UTF_8));
                int status = Coterie.execute(c.getKey());
                String printed = o.toString(StandardCharsets.UTF_8);
                String what = String.join(" ", c.getKey());
                assertEquals(64, status, what + ": " + printed);
                // one line, the option's own message: the context file was never opened
                assertEquals(1, printed.lines().count(), what + ": " + printed);
                org.junit.jupiter.api.Assertions.assertTrue(printed.startsWith("coterie server: " + c.getValue()),
                        what + ": " + printed);
            }
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void acceptedGroupObserveValuesGiveThePlan() {
        GroupObserveOptions o = new GroupObserveOptions();
        assertNull(o.plan(), "no --group-observe: nothing offered");
        o.path = "/fire-alarm";
        o.notifyGroup = "224.0.1.190:5683";
        GroupObserveOptions.Plan p = o.plan();
        assertEquals(new GroupObserveOptions.Plan("fire-alarm", new InetSocketAddress("224.0.1.190", 5683), 1000, 65000), p);
        o.notifyGroup = "[ff05::fd]:61616";
        o.notifyPeriod = "250";
        o.informativeFormat = "65010";
        assertEquals(new GroupObserveOptions.Plan("fire-alarm", new InetSocketAddress("ff05::fd", 61616), 250, 65010), o.plan());
        // the limits themselves are accepted
        o.notifyPeriod = "86400000";
        o.informativeFormat = "0";
        o.notifyGroup = "239.255.0.1:65535";
        assertEquals(new GroupObserveOptions.Plan("fire-alarm", new InetSocketAddress("239.255.0.1", 65535), 86_400_000, 0),
                o.plan());
    }
}
