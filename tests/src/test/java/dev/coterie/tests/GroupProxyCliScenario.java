package dev.coterie.tests;

import dev.coterie.app.Coterie;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): a lighting group made
 * with {@code coterie group} (a client and three lamps, each a {@code coterie server --bundle}
 * joined to 224.0.1.187), a Coterie proxy that shares an OSCORE hop context with the client, and
 * {@code coterie client --proxy --proxy-context --bundle --group --multicast-timeout}: Group
 * OSCORE end to end, OSCORE on the client↔proxy hop, every lamp's response relayed with its
 * Reply-From. Prints every command's output and its exit status.
 */
public final class GroupProxyCliScenario {
    private GroupProxyCliScenario() {
    }

    public static void main(String[] args) {
        try {
            run();
            System.out.println("SCENARIO DONE");
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.exit(2);
        }
    }

    private static Path contextFile(Path dir, String name, String sender, String recipient) throws Exception {
        return contextFile(dir, name, sender, recipient, "0102030405060708090a0b0c0d0e0f10");
    }

    private static Path contextFile(Path dir, String name, String sender, String recipient, String secret) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  \"master_secret\": \"" + secret + "\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"replay_window\": 32,\n  \"state_dir\": \"" + name
                + "-state\"\n}\n");
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private static void run() throws Exception {
        Path dir = Files.createTempDirectory("coterie-group-proxy");
        String d = dir.toString();
        status("create", Coterie.execute("group", "create", "--name", "lights", "--dir", d, "--deterministic-sid", "dc"));
        status("add client", Coterie.execute("group", "add-member", "lights", "--role", "client", "--dir", d));
        for (int i = 1; i <= 3; i++) {
            status("add lamp " + i, Coterie.execute("group", "add-member", "lights", "--role", "server", "--dir", d,
                    "--member-name", "lamp-" + i));
        }
        status("add client 2", Coterie.execute("group", "add-member", "lights", "--role", "client", "--dir", d));
        Path members = dir.resolve("lights").resolve("members");
        for (int i = 2; i <= 4; i++) {
            String bundle = members.resolve(String.format("%02d", i) + ".bundle.json").toString();
            String bind = "127.0.0.1:" + (5700 + i);
            Thread t = new Thread(() -> Coterie.execute("server", "--bundle", bundle, "--bind", bind, "--join", "224.0.1.187",
                    "--leisure", "200"));
            t.setDaemon(true);
            t.start();
        }
        Path proxySide = contextFile(dir, "proxy-hop", "0b", "0c");
        Path clientSide = contextFile(dir, "client-hop", "0c", "0b");
        OscoreContext hop = dev.coterie.app.ContextFile.load(proxySide, CryptoProviders.defaultProvider());
        Path proxySide2 = contextFile(dir, "proxy-hop-2", "0b", "0d", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        Path clientSide2 = contextFile(dir, "client-hop-2", "0d", "0b", "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        OscoreContext hop2 = dev.coterie.app.ContextFile.load(proxySide2, CryptoProviders.defaultProvider());
        Path cfg = Files.writeString(dir.resolve("proxy.yaml"), String.join("\n",
                "listen: ['127.0.0.1:5600']",
                "forward_proxy: true",
                "groups:",
                "  - {name: lights, host: lights.example, address: 224.0.1.187, port: 5683,",
                "     members: ['127.0.0.1:5702', '127.0.0.1:5703', '127.0.0.1:5704']}",
                "access:",
                "  - {client: {kid: '0c'}, allow: [{group: lights}, {origin: '127.0.0.1:5702'}]}",
                "  - {client: {kid: '0d'}, allow: [{group: lights}]}",
                ""));
        Thread.sleep(1500);
        String client = members.resolve("01.bundle.json").toString();
        try (ProxyServer proxy = new ProxyServer(ProxyConfig.load(cfg), List.of(hop, hop2), Map.of()).start()) {
            String groupGet = capture("group GET", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide.toString(),
                    "--bundle", client, "--group", "--multicast-timeout", "2", "coap://lights.example/light");
            // --follow-up with lamp 2's Reply-From: pairwise to that lamp directly, then through the proxy (GPX-13)
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                    "Reply-From coap://127\\.0\\.0\\.1:5702[^\\n]*\\n  \\(this server alone: --follow-up ([0-9a-f]+)\\)")
                    .matcher(groupGet);
            String hex = m.find() ? m.group(1) : "00";
            capture("follow-up direct", "client", "--bundle", client, "--member", "02", "--follow-up", hex,
                    "coap://ignored.example/light");
            capture("follow-up via proxy", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context",
                    clientSide.toString(), "--bundle", client, "--member", "02", "--follow-up", hex,
                    "coap://ignored.example/light");
            capture("group PUT", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide.toString(),
                    "--bundle", client, "--group", "--multicast-timeout", "2", "-m", "PUT", "--payload", "on",
                    "coap://lights.example/light");
            capture("no hop layer", "client", "--proxy", "coap://127.0.0.1:5600", "--bundle", client, "--group",
                    "--multicast-timeout", "2", "coap://lights.example/light");
            capture("zero", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide.toString(),
                    "--bundle", client, "--group", "--multicast-timeout", "0", "coap://lights.example/light");
            capture("stop after 1", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide.toString(),
                    "--bundle", client, "--group", "--multicast-timeout", "3", "--stop-after", "1",
                    "coap://lights.example/light");
            // the building's cheap read: two clients, one deterministic group request; the second is served from the cache
            String client2 = members.resolve("05.bundle.json").toString();
            capture("deterministic 1", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide.toString(),
                    "--bundle", client, "--group", "--deterministic", "--multicast-timeout", "2", "coap://lights.example/hello");
            double hitsBefore = proxy.metrics().cacheHits();
            capture("deterministic 2", "client", "--proxy", "coap://127.0.0.1:5600", "--proxy-context", clientSide2.toString(),
                    "--bundle", client2, "--group", "--deterministic", "--multicast-timeout", "2", "coap://lights.example/hello");
            System.out.println("PROXY cache hits by the second deterministic read " + (long) (proxy.metrics().cacheHits() - hitsBefore)
                    + ", group requests sent " + (long) proxy.metrics().count(dev.coterie.proxy.ProxyMetrics.Outcome.GROUP_FORWARDED));
            System.out.println("PROXY layers removed " + (long) proxy.metrics().layersRemoved() + " relayed "
                    + (long) proxy.metrics().groupRelayedCount());
        }
    }

    /** Runs one command with its output captured, then prints it between markers with the status. */
    private static String capture(String what, String... args) {
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int status;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            status = Coterie.execute(args);
        } finally {
            System.setOut(out);
        }
        System.out.println("BEGIN " + what);
        System.out.print(buf.toString(StandardCharsets.UTF_8));
        System.out.println("END " + what);
        status(what, status);
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static void status(String what, int status) {
        System.out.println("STATUS " + what + " = " + status);
    }
}
