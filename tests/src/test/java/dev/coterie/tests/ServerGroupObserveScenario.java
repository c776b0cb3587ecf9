package dev.coterie.tests;

import dev.coterie.app.Coterie;
import dev.coterie.oscore.OscoreOptionValue;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): {@code coterie server
 * --group-observe} as its own process, in both variants, observed by {@code coterie client
 * --observe} (observe-multicast-notifications, digest 6; OMN-01, OMN-04, OMN-06, OMN-10, OMN-11).
 * Part 1: {@code --context} (the unprotected variant); part 2: {@code --bundle} (the Group OSCORE
 * variant) with {@code coterie client --bundle --member --observe}. An eavesdropper on each group
 * checks the datagrams. Prints "CHECK ok NAME" per check and "SCENARIO OK".
 */
public final class ServerGroupObserveScenario {
    static final int PLAIN_PORT = 5830;
    static final int PROTECTED_PORT = 5831;
    static final InetSocketAddress PLAIN_GROUP = new InetSocketAddress("224.0.1.193", 5683);
    static final InetSocketAddress PROTECTED_GROUP = new InetSocketAddress("224.0.1.194", 5683);
    private static final ScenarioChecks CHECKS = new ScenarioChecks();

    private ServerGroupObserveScenario() {
    }

    public static void main(String[] args) {
        CHECKS.exit(ServerGroupObserveScenario::run);
    }

    private static void check(boolean ok, String name, Object detail) {
        CHECKS.check(ok, name, detail);
    }

    /** {@code coterie server ...} as a process of its own (in this namespace), its output collected. */
    static final class ServerProcess implements AutoCloseable {
        final Process process;
        private final StringBuilder out = new StringBuilder();

        ServerProcess(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Coterie.class.getName(), "server"));
            cmd.addAll(List.of(args));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null;) {
                        synchronized (out) {
                            out.append(l).append('\n');
                        }
                    }
                } catch (java.io.IOException ignored) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        String out() {
            synchronized (out) {
                return out.toString();
            }
        }

        boolean offering() throws InterruptedException {
            return GroupObservationScenario.await(() -> out().contains("as a group observation (gp-obs)"), 20_000);
        }

        /** SIGTERM: the server's shutdown hook runs (cancellation, persisted state). */
        int stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            return process.exitValue();
        }

        @Override
        public void close() throws InterruptedException {
            if (process.isAlive()) {
                stop();
            }
        }
    }

    /** {@code coterie ARGS} in this process, stdout and stderr captured. */
    static String[] cli(String... args) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        int status;
        try (PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            System.setErr(capture);
            status = Coterie.execute(args);
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        System.out.println("BEGIN coterie " + String.join(" ", args) + "\n" + out + "END (" + status + ")");
        return new String[] {String.valueOf(status), out};
    }

    private static Path contextFile(Path dir, String name, String sender, String recipient) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"replay_window\": 32,\n  \"state_dir\": \"" + name
                + "-state\"\n}\n");
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /** The payloads the client printed for its notifications, in order ("state N" lines after the switch to multicast or ticket). */
    static List<Long> states(String out) {
        List<Long> r = new ArrayList<>();
        int from = out.indexOf("switching ");
        Matcher m = Pattern.compile("(?m)^(?:UNPROTECTED )?state (\\d+)$").matcher(from < 0 ? "" : out.substring(from));
        while (m.find()) {
            r.add(Long.parseLong(m.group(1)));
        }
        return r;
    }

    private static boolean increasing(List<Long> l, int atLeast) {
        boolean ok = l.size() >= atLeast;
        for (int i = 1; i < l.size(); i++) {
            ok &= l.get(i) > l.get(i - 1);
        }
        return ok;
    }

    private static List<Response> parsed(GroupOscoreObservationScenario.Tap tap) {
        List<Response> r = new ArrayList<>();
        for (byte[] d : tap.seen) {
            try {
                r.add((Response) new UdpDataParser().parseMessage(d));
            } catch (RuntimeException e) {
                r.add(null);
            }
        }
        return r;
    }

    private static void run() throws Exception {
        Path dir = Files.createTempDirectory("coterie-server-gobs");
        plain(dir);
        protectedVariant(dir);
    }

    private static final Pattern SWITCH = Pattern.compile("5\\.03 informative response[^\\n]*?: a group observation; switching from "
            + "unicast to multicast notifications, sent by /127\\.0\\.0\\.1:(\\d+) to /([0-9.]+):(\\d+) with Token ([0-9a-f]+)");

    /** Part 1: coterie server --context ... --group-observe (the unprotected variant). */
    private static void plain(Path dir) throws Exception {
        Path serverCtx = contextFile(dir, "server", "01", "");
        GroupOscoreObservationScenario.Tap tap = new GroupOscoreObservationScenario.Tap(PLAIN_GROUP);
        Thread tapThread = new Thread(tap, "tap-plain");
        tapThread.setDaemon(true);
        tapThread.start();
        try (ServerProcess server = new ServerProcess("--context", serverCtx.toString(), "--bind", "127.0.0.1:" + PLAIN_PORT,
                "--group-observe", "alarm", "--notify-group", "224.0.1.193:5683", "--notify-period", "300")) {
            boolean up = server.offering();
            check(up && server.out().contains("coterie server offers /alarm as a group observation (gp-obs): notifications "
                    + "from /127.0.0.1:" + PLAIN_PORT + " to /224.0.1.193:5683 every 300 ms, informative responses with "
                    + "Content-Format 65000; unprotected"), "OMN_01 coterie server --context --group-observe says what it offers",
                    server.out());
            if (!up) {
                return;
            }
            String[] r = cli("client", "--no-oscore", "--observe", "--notifications", "3", "--timeout", "20", "--trace",
                    "coap://127.0.0.1:" + PLAIN_PORT + "/alarm");
            String out = r[1];
            Matcher sw = SWITCH.matcher(out);
            boolean switched = sw.find() && sw.group(1).equals(String.valueOf(PLAIN_PORT)) && sw.group(2).equals("224.0.1.193")
                    && sw.group(3).equals("5683");
            String token = switched ? sw.group(4) : "?";
            List<Long> states = states(out);
            check("0".equals(r[0]) && switched && out.contains("(the latest notification, from the informative response's "
                    + "last_notif)") && out.contains("notification 3") && increasing(states, 3),
                    "OMN_04 coterie client --observe against coterie server --group-observe: the switch to multicast "
                    + "notifications printed, three notifications with the state going up", r[0] + " " + states);
            // the informative response in the client's trace: a separate CON 5.03 with the informative Content-Format
            String ir = out.lines().filter(l -> l.contains("<---") && l.contains("5.03")).findFirst().orElse("");
            check(ir.contains("CON") && ir.contains("5.03 SERVICE_UNAVAILABLE") && ir.contains("Content-Format: \"unknown/65000\"")
                    && !ir.contains("Observe"),
                    "OMN_01 the informative response on the wire: CON 5.03, Content-Format 65000, no Observe", ir);
            // what the eavesdropper on the group saw: NON 2.05, the phantom's Token, Observe, the state in plaintext
            GroupObservationScenario.await(() -> tap.seen.size() >= 2, 3000);
            List<Response> seen = parsed(tap);
            boolean shape = seen.size() >= 2;
            for (Response n : seen) {
                shape &= n != null && n.getType() == CoAP.Type.NON && n.getCode() == CoAP.ResponseCode.CONTENT
                        && n.getTokenString().equalsIgnoreCase(token) && n.getOptions().hasObserve()
                        && !n.getOptions().hasOscore() && n.getPayloadString().startsWith("state ");
            }
            check(switched && shape, "OMN_04 every datagram to the group is a NON 2.05 with the phantom's Token, Observe and "
                    + "the state in plaintext (unprotected variant)", seen.size() + " " + (seen.isEmpty() ? "" : seen.get(0)));

            // only /alarm takes requests without OSCORE: /hello still gets 4.01 "OSCORE required"; /alarm is the control
            String[] hello = cli("client", "--no-oscore", "--timeout", "5", "coap://127.0.0.1:" + PLAIN_PORT + "/hello");
            String[] get = cli("client", "--no-oscore", "--timeout", "5", "coap://127.0.0.1:" + PLAIN_PORT + "/alarm");
            check(hello[1].contains("4.01") && hello[1].contains("OSCORE required") && !hello[1].contains("Hello World")
                    && get[1].contains("2.05") && get[1].matches("(?s).*state \\d+.*"),
                    "OMN_11 the unprotected variant opens /alarm only: an unprotected GET /hello gets 4.01 OSCORE required; "
                    + "control: an unprotected GET /alarm gets 2.05 with the state", hello[1] + "\n" + get[1]);

            // SIGTERM: the shutdown sends the cancellation, a multicast 5.03 with Token T and no Observe (OMN-06)
            int before = tap.seen.size();
            int exit = server.stop();
            GroupObservationScenario.await(() -> tap.seen.size() > before, 3000);
            List<Response> after = parsed(tap).subList(before, tap.seen.size());
            Response cancel = after.stream().filter(m -> m != null && m.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE)
                    .findFirst().orElse(null);
            check(cancel != null && cancel.getTokenString().equalsIgnoreCase(token) && !cancel.getOptions().hasObserve()
                    && cancel.getPayloadSize() == 0 && cancel.getType() == CoAP.Type.NON,
                    "OMN_06 stopping coterie server sends the multicast 5.03 with Token T, no Observe, no payload",
                    exit + " " + after);
        } finally {
            tap.socket.close();
        }
    }

    static final int PROXY_PORT = 5632;

    /**
     * Part 3: coterie client --bundle --member --proxy --observe --ticket (MNP-03, Group OSCORE
     * variant). The proxy next to the server cannot read the protected informative response and
     * relays it; the client verifies the phantom from ph_req, sends the protected phantom as the
     * ticket request (not protected again), and verifies every notification the proxy relays
     * against the phantom.
     */
    private static void ticket(Path members) throws Exception {
        String yaml = String.join("\n", "listen: ['127.0.0.1:" + PROXY_PORT + "']", "forward_proxy: true", "access:",
                "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + PROTECTED_PORT + "'}]}",
                "group_observations: {interface: lo, content_format: 65010}", "");
        dev.coterie.proxy.ProxyConfig pc = dev.coterie.proxy.ProxyConfig.parse(new com.fasterxml.jackson.databind.ObjectMapper(
                new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readTree(yaml), "ticket-proxy", null);
        try (dev.coterie.proxy.ProxyServer proxy = new dev.coterie.proxy.ProxyServer(pc, List.of(), java.util.Map.of()).start()) {
            String[] r = cli("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", "--proxy",
                    "coap://127.0.0.1:" + PROXY_PORT, "--observe", "--ticket", "--notifications", "3", "--timeout", "20",
                    "--trace", "--informative-format", "65010", "coap://127.0.0.1:" + PROTECTED_PORT + "/alarm");
            String out = r[1];
            Matcher sw = Pattern.compile("5\\.03 informative response from /127\\.0\\.0\\.1:" + PROXY_PORT + " member 02 "
                    + "\\(pairwise mode\\), relayed by the proxy: a group observation; this client does not listen to multicast "
                    + "\\(--ticket\\): switching to ticket notifications via the proxy /127\\.0\\.0\\.1:" + PROXY_PORT
                    + " \\(ticket request FETCH Observe 0, Token ([0-9A-Fa-f]+), Listen-To-Multicast-Responses: (\\d+) bytes of "
                    + "tp_info\\)").matcher(out);
            boolean switched = sw.find();
            String token = switched ? sw.group(1) : "?";
            boolean verified = out.contains("Group OSCORE: the phantom request verified (group mode, kid 02, ");
            check("0".equals(r[0]) && switched && verified, "MNP_03 coterie client --bundle --member --proxy --observe --ticket: "
                    + "the protected informative response relayed by the proxy, the phantom verified, the switch to ticket "
                    + "notifications printed", r[0]);
            // the ticket request on the wire: the protected phantom (FETCH, its OSCORE option and ciphertext), Observe 0,
            // Proxy-Uri, option 47 with the tp_info; from the ticket socket, not through this client's OSCORE layer
            String req = out.lines().filter(l -> l.startsWith("TICKET C ---> S  CON") && l.contains("Token=" + token))
                    .findFirst().orElse("");
            check(switched && req.contains(" FETCH") && req.contains("Observe: 0") && req.contains("Object-Security: 0x39")
                    && req.contains("Proxy-Uri: \"coap://127.0.0.1:" + PROTECTED_PORT + "/alarm\"")
                    && req.contains("Listen-To-Multicast-Responses: 0x") && !req.contains("Uri-Path"),
                    "MNP_03 the protected ticket request: FETCH Observe 0 with the phantom's group-mode OSCORE option, Proxy-Uri "
                    + "and Listen-To-Multicast-Responses, sent as it is", req);
            List<Long> states = states(out);
            long viaProxy = out.lines().filter(l -> l.matches("notification \\d+ from /127\\.0\\.0\\.1:" + PROXY_PORT
                    + " member 02 \\(group mode\\):")).count();
            check("0".equals(r[0]) && increasing(states, 3) && viaProxy == 3 && !out.contains("did not verify"),
                    "MNP_04 three notifications relayed by the proxy with the ticket's Token, each verified as the phantom's "
                    + "group-mode response from member 02, the state going up", states + " / " + viaProxy);
            check(proxy.metrics().count(dev.coterie.proxy.ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1
                    && out.contains("deregistering: FETCH with Observe 1 and the same Token " + token),
                    "MNP_04 the proxy listened once for the protected ticket; the client deregistered it",
                    proxy.metrics().count(dev.coterie.proxy.ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED));
        }
    }

    /** Part 2: coterie server --bundle ... --group-observe (the Group OSCORE variant). */
    private static void protectedVariant(Path dir) throws Exception {
        String d = dir.toString();
        int st = Coterie.execute("group", "create", "--name", "alarms", "--dir", d);
        st |= Coterie.execute("group", "add-member", "alarms", "--role", "client", "--dir", d);
        st |= Coterie.execute("group", "add-member", "alarms", "--role", "server", "--dir", d, "--member-name", "alarm-server");
        Path members = dir.resolve("alarms").resolve("members");
        check(st == 0, "setup: group alarms with a client (01) and a server (02)", st);
        GroupOscoreObservationScenario.Tap tap = new GroupOscoreObservationScenario.Tap(PROTECTED_GROUP);
        Thread tapThread = new Thread(tap, "tap-protected");
        tapThread.setDaemon(true);
        tapThread.start();
        try (ServerProcess server = new ServerProcess("--bundle", members.resolve("02.bundle.json").toString(), "--bind",
                "127.0.0.1:" + PROTECTED_PORT, "--group-observe", "alarm", "--notify-group", "224.0.1.194:5683",
                "--notify-period", "300", "--informative-format", "65010")) {
            boolean up = server.offering();
            check(up && server.out().contains("to /224.0.1.194:5683 every 300 ms, informative responses with Content-Format "
                    + "65010; protected with Group OSCORE: phantom and notifications in group mode under Sender ID 02"),
                    "OMN_10 coterie server --bundle --group-observe says it offers the Group OSCORE variant", server.out());
            if (!up) {
                return;
            }
            // an unprotected registration: 4.01, no switch (the layer's "OSCORE required"); the protected one below is the control
            String[] plainReg = cli("client", "--no-oscore", "--observe", "--notifications", "1", "--timeout", "5",
                    "--informative-format", "65010", "coap://127.0.0.1:" + PROTECTED_PORT + "/alarm");
            check(plainReg[1].contains("4.01") && !plainReg[1].contains("switching") && tap.seen.isEmpty(),
                    "OMN_11 an unprotected registration at coterie server --bundle --group-observe gets 4.01 and starts nothing",
                    plainReg[1] + " / " + tap.seen.size());
            String[] r = cli("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02", "--observe",
                    "--notifications", "3", "--timeout", "20", "--trace", "--informative-format", "65010",
                    "coap://127.0.0.1:" + PROTECTED_PORT + "/alarm");
            String out = r[1];
            Matcher sw = SWITCH.matcher(out);
            boolean switched = sw.find() && sw.group(1).equals(String.valueOf(PROTECTED_PORT))
                    && sw.group(2).equals("224.0.1.194");
            String token = switched ? sw.group(4) : "?";
            Matcher ph = Pattern.compile("Group OSCORE: the phantom request verified \\(group mode, kid 02, Partial IV "
                    + "([0-9a-f]+), kid context ([0-9a-f]+)\\)").matcher(out);
            boolean verified = ph.find();
            List<Long> states = states(out);
            check("0".equals(r[0]) && switched && verified && out.contains("notification 3") && increasing(states, 3),
                    "OMN_10 coterie client --bundle --member --observe against coterie server --bundle --group-observe: the "
                    + "phantom verified (kid 02), the switch printed, three verified notifications with the state going up",
                    r[0] + " " + states);
            // the trace: the CON answer verified, its outer message 2.04 with OSCORE, the 5.03 and its Content-Format inside
            List<String> lines = out.lines().toList();
            int at = -1;
            for (int i = 0; i < lines.size() && at < 0; i++) {
                at = lines.get(i).startsWith("C <--- S  CON") && lines.get(i).contains("[response verified") ? i : -1;
            }
            String outer = at >= 0 && at + 1 < lines.size() ? lines.get(at + 1).trim() : "";
            String inner = at >= 0 && at + 3 < lines.size() ? lines.get(at + 3).trim() : "";
            String ir = outer + " / " + inner;
            check(outer.startsWith("outer  2.04 CHANGED") && outer.contains("OSCORE:") && !outer.contains("Content-Format")
                    && inner.startsWith("inner  5.03 SERVICE_UNAVAILABLE") && inner.contains("Content-Format: \"unknown/65010\""),
                    "OMN_11 the informative response on the wire is protected (outer 2.04 with OSCORE, its Content-Format inside)",
                    ir);
            GroupObservationScenario.await(() -> tap.seen.size() >= 2, 3000);
            List<Response> seen = parsed(tap);
            boolean shape = seen.size() >= 2;
            String piv = verified ? ph.group(1) : "?";
            for (Response n : seen) {
                OscoreOptionValue ov = n == null || !n.getOptions().hasOscore() ? null
                        : OscoreOptionValue.decode(n.getOptions().getOscore(), true);
                shape &= ov != null && ov.groupFlag() && "02".equals(dev.coterie.keystore.Hex.encode(ov.kid()))
                        && ov.partialIv() != null && !dev.coterie.keystore.Hex.encode(ov.partialIv()).equals(piv)
                        && n.getType() == CoAP.Type.NON && n.getCode() == CoAP.ResponseCode.CONTENT
                        && n.getTokenString().equalsIgnoreCase(token) && n.getOptions().hasObserve()
                        && !new String(n.getPayload(), StandardCharsets.ISO_8859_1).contains("state");
            }
            check(switched && verified && shape, "OMN_10 every notification to the group is a group-mode protected NON (outer "
                    + "2.05, RFC 8613 4.2) with the phantom's Token, Observe, kid 02 and its own Partial IV, no plaintext state",
                    seen.size() + " " + (seen.isEmpty() ? "" : seen.get(0)));
            ticket(members);
            int before = tap.seen.size();
            int exit = server.stop();
            GroupObservationScenario.await(() -> tap.seen.size() > before, 3000);
            List<Response> after = parsed(tap).subList(before, tap.seen.size());
            Response cancel = after.stream().filter(m -> m != null && !m.getOptions().hasObserve()).findFirst().orElse(null);
            check(cancel != null && cancel.getOptions().hasOscore() && cancel.getTokenString().equalsIgnoreCase(token)
                    && cancel.getCode() == CoAP.ResponseCode.CHANGED,
                    "OMN_11 stopping coterie server --bundle sends the protected multicast cancellation (outer 2.04, Token T, "
                    + "no Observe)", exit + " " + after);
        } finally {
            tap.socket.close();
        }
    }
}
