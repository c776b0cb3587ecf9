package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import dev.coterie.app.ClientFixtures.Server;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coterie client --proxy} and {@code --proxy-context}, and {@code coterie proxy --check}, against a running proxy. */
class ClientProxyTest {
    @TempDir
    Path dir;

    private ProxyServer proxy(String access, List<OscoreContext> hops) throws Exception {
        Path cfg = Files.writeString(dir.resolve("proxy.yaml"), "listen: ['127.0.0.1:0']\nforward_proxy: true\naccess:\n" + access);
        return new ProxyServer(ProxyConfig.load(cfg), hops, Map.of()).start();
    }

    private static String at(ProxyServer p) {
        return "coap://127.0.0.1:" + p.listenAddresses().get(0).getPort();
    }

    @Test
    void OSC_21_TCP_UP_endToEndOscoreFromAUdpClientThroughTheProxyToACoapTcpServer() throws Exception {
        try (Server server = Server.oscoreTcp(dir)) {
            String origin = server.uri("").replaceAll("/$", "");
            assertTrue(origin.startsWith("coap+tcp://127.0.0.1:"), origin);
            try (ProxyServer p = proxy("  - {client: unauthenticated, allow: [{origin: '" + origin + "'}]}\n", List.of())) {
                Path client = ClientFixtures.contextFile(dir, "client", "", "01", ",\n  \"state_dir\": \"client-state\"");
                Run r = ClientFixtures.run("client", "--context", client.toString(), "--proxy", at(p), server.uri("hello"));
                assertEquals(0, r.status(), r.err());
                assertEquals(List.of("2.05 CONTENT", "  Content-Format: \"text/plain\"", "Hello World!"), r.lines());
                assertEquals(0.0, p.metrics().layersRemoved(), "the proxy holds no end-to-end key and removed no layer");
                assertEquals(1, server.seen.count("REQUEST_VERIFIED"), "verified end to end by the TCP server");
            }
            // the scheme is part of the origin: the UDP origin at that host and port is not the coap+tcp one
            try (ProxyServer p = proxy("  - {client: unauthenticated, allow: [{origin: '" + origin.replace("coap+tcp://", "coap://")
                    + "'}]}\n", List.of())) {
                Path client = ClientFixtures.contextFile(dir, "client2", "", "01", ",\n  \"state_dir\": \"client2-state\"");
                Run r = ClientFixtures.run("client", "--context", client.toString(), "--proxy", at(p), server.uri("hello"));
                assertTrue(r.out().contains("4.01"), r.out() + r.err());
            }
        }
    }

    @Test
    void OSC_21_endToEndOscoreThroughTheProxy_fromTheCommandLine() throws Exception {
        try (Server server = Server.oscore(dir);
             ProxyServer p = proxy("  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + server.port() + "'}]}\n", List.of())) {
            Path client = ClientFixtures.contextFile(dir, "client", "", "01", ",\n  \"state_dir\": \"client-state\"");
            Run r = ClientFixtures.run("client", "--context", client.toString(), "--proxy", at(p), server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertEquals(List.of("2.05 CONTENT", "  Content-Format: \"text/plain\"", "Hello World!"), r.lines());
            assertEquals(0.0, p.metrics().layersRemoved());
        }
    }

    @Test
    void OCP_05_aHopLayerOnlyFromTheCommandLine_andWithoutItTheProxyDenies() throws Exception {
        Path proxySide = ClientFixtures.contextFile(dir, "proxy-hop", "0b", "0c", ",\n  \"state_dir\": \"proxy-state\"");
        OscoreContext hop = ContextFile.load(proxySide, CryptoProviders.defaultProvider());
        try (Server server = Server.plain();
             ProxyServer p = proxy("  - {client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + server.port() + "'}]}\n", List.of(hop))) {
            Path client = ClientFixtures.contextFile(dir, "client-hop", "0c", "0b", ",\n  \"state_dir\": \"client-hop-state\"");
            Run r = ClientFixtures.run("client", "--proxy-context", client.toString(), "--proxy", at(p), server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.lines().contains("Hello World!"), r.out());
            assertEquals(1.0, p.metrics().layersRemoved());
            Run denied = ClientFixtures.run("client", "--no-oscore", "--proxy", at(p), server.uri("hello"));
            assertTrue(denied.out().contains("4.01"), "unauthenticated is not listed: " + denied.out() + denied.err());
        }
    }

    @Test
    void OCP_01_endToEndInsideTheHopLayer_fromTheCommandLine_theTraceShowsBothLayers() throws Exception {
        Path proxySide = ClientFixtures.contextFile(dir, "proxy-hop", "0b", "0c", ",\n  \"state_dir\": \"proxy-state\"");
        OscoreContext hop = ContextFile.load(proxySide, CryptoProviders.defaultProvider());
        try (Server server = Server.oscore(dir);
             ProxyServer p = proxy("  - {client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + server.port() + "'}]}\n", List.of(hop))) {
            Path e2e = ClientFixtures.contextFile(dir, "client", "", "01", ",\n  \"state_dir\": \"client-state\"");
            Path clientHop = ClientFixtures.contextFile(dir, "client-hop", "0c", "0b", ",\n  \"state_dir\": \"client-hop-state\"");
            Run r = ClientFixtures.run("client", "--context", e2e.toString(), "--proxy-context", clientHop.toString(),
                    "--proxy", at(p), "--trace", server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.lines().contains("Hello World!"), r.out());
            assertEquals(1.0, p.metrics().layersRemoved(), "the proxy removed its hop layer only");
            String all = r.out() + r.err();
            assertTrue(all.contains("[layer 1 of 2]") && all.contains("for the proxy (hop layer) [layer 2 of 2]"), all);

            // the proxy's own answer inside the hop layer (a denial) is printed as the proxy's, not the server's
            Run denied = ClientFixtures.run("client", "--context", e2e.toString(), "--proxy-context", clientHop.toString(),
                    "--proxy", at(p), "coap://127.0.0.1:9/hello");
            assertTrue(denied.out().contains("(the proxy's own answer, verified in its hop layer"), denied.out());
            assertTrue(denied.out().contains("4.01"), denied.out());
            assertEquals(2.0, p.metrics().layersRemoved());

            // OCP-04: with the limit at one layer the request needs two and is not sent
            Run limited = ClientFixtures.run("client", "--context", e2e.toString(), "--proxy-context", clientHop.toString(),
                    "--proxy", at(p), "--max-oscore-layers", "1", server.uri("hello"));
            assertTrue(limited.status() != 0, limited.out());
            assertTrue(limited.err().contains("OCP-04"), limited.err());
            assertEquals(2.0, p.metrics().layersRemoved(), "nothing reached the proxy");
        }
    }

    @Test
    void OCP_01_pairwiseGroupOscoreInsideTheHopLayer_fromTheCommandLine() throws Exception {
        Path members = ClientFixtures.group(dir, false, 1);
        Path proxySide = ClientFixtures.contextFile(dir, "proxy-hop", "0b", "0c", ",\n  \"state_dir\": \"proxy-state\"");
        OscoreContext hop = ContextFile.load(proxySide, CryptoProviders.defaultProvider());
        try (Server server = Server.member(members.resolve("02.bundle.json"));
             ProxyServer p = proxy("  - {client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + server.port() + "'}]}\n", List.of(hop))) {
            Path clientHop = ClientFixtures.contextFile(dir, "client-hop", "0c", "0b", ",\n  \"state_dir\": \"client-hop-state\"");
            Run r = ClientFixtures.run("client", "--bundle", members.resolve("01.bundle.json").toString(), "--member", "02",
                    "--proxy-context", clientHop.toString(), "--proxy", at(p), server.uri("hello"));
            assertEquals(0, r.status(), r.err());
            assertTrue(r.lines().contains("Hello World!"), r.out());
            assertTrue(r.out().contains("member 02 (pairwise mode)"), "verified end to end by the member: " + r.out());
            assertEquals(1, server.seen.count("REQUEST_VERIFIED PAIRWISE"));
            assertEquals(1.0, p.metrics().layersRemoved());
        }
    }

    @Test
    void MNP_03_ticketNeedsProxyObserveAndNoOscore_exit64() throws Exception {
        Path client = ClientFixtures.contextFile(dir, "client", "", "01", "");
        Run noProxy = ClientFixtures.run("client", "--no-oscore", "--observe", "--ticket", "coap://127.0.0.1:9/alarm");
        assertEquals(64, noProxy.status());
        assertTrue(noProxy.err().contains("--ticket needs --proxy and --observe"), noProxy.err());
        Run noObserve = ClientFixtures.run("client", "--no-oscore", "--proxy", "coap://127.0.0.1:9", "--ticket",
                "coap://127.0.0.1:9/alarm");
        assertEquals(64, noObserve.status());
        assertTrue(noObserve.err().contains("--ticket needs --proxy and --observe"), noObserve.err());
        Run protectedTicket = ClientFixtures.run("client", "--context", client.toString(), "--proxy", "coap://127.0.0.1:9",
                "--observe", "--ticket", "coap://127.0.0.1:9/alarm");
        assertEquals(64, protectedTicket.status());
        assertTrue(protectedTicket.err().contains("--ticket needs --no-oscore"), protectedTicket.err());
        // the Group OSCORE variant needs --member (the registration to one member, whose phantom it verifies)
        Run noMember = ClientFixtures.run("client", "--bundle", dir.resolve("never-opened.bundle.json").toString(), "--group",
                "--proxy", "coap://127.0.0.1:9", "--observe", "--ticket", "coap://127.0.0.1:9/alarm");
        assertEquals(64, noMember.status());
        assertTrue(noMember.err().contains("--ticket needs --no-oscore, or --bundle with --member"), noMember.err());
    }

    @Test
    void CLI_proxyContextNeedsProxy_nothingIsSent() throws Exception {
        Path client = ClientFixtures.contextFile(dir, "client", "", "01", "");
        Run noProxy = ClientFixtures.run("client", "--proxy-context", client.toString(), "coap://127.0.0.1:9/x");
        assertEquals(64, noProxy.status());
        assertTrue(noProxy.err().contains("--proxy-context needs --proxy"), noProxy.err());
    }

    @Test
    void CONFIG_proxyCheckExits0ForAGoodFileAnd64NamingTheFieldForABadOne() throws Exception {
        Path good = Files.writeString(dir.resolve("good.yaml"), "listen: ['127.0.0.1:0']\nroutes: []\n");
        Run ok = ClientFixtures.run("proxy", "--config", good.toString(), "--check");
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains("is valid"), ok.out());
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "listen: ['127.0.0.1:0']\nlimits: {exchanges: -1}\n");
        Run no = ClientFixtures.run("proxy", "--config", bad.toString(), "--check");
        assertEquals(64, no.status());
        assertEquals("coterie proxy: " + bad + ": field 'limits.exchanges': must be between 1 and 1000000, not -1",
                no.err().strip());
    }

    @Test
    void L10_aListenAddressInUseExits64WithOneLineNamingIt_thePortFreedStartsThere() throws Exception {
        java.net.InetAddress lo = java.net.InetAddress.getByName("127.0.0.1");
        int port;
        Path cfg;
        try (java.net.DatagramSocket taken = new java.net.DatagramSocket(0, lo)) {
            port = taken.getLocalPort();
            cfg = Files.writeString(dir.resolve("in-use.yaml"), "listen: ['127.0.0.1:" + port + "']\nforward_proxy: true\n");
            assertEquals(0, ClientFixtures.run("proxy", "--config", cfg.toString(), "--check").status(),
                    "otherwise a valid file");
            Run r = ClientFixtures.run("proxy", "--config", cfg.toString());
            assertEquals(64, r.status());
            assertEquals("coterie proxy: cannot listen on 127.0.0.1:" + port + " (listen[0]): Address already in use" + System.lineSeparator(),
                    r.err(), "one line, no stack trace");
            assertEquals("", r.out());
        }
        // control: the same file once the port is free
        try (ProxyServer p = new ProxyServer(ProxyConfig.load(cfg), List.of(), Map.of()).start()) {
            assertEquals(port, p.listenAddresses().get(0).getPort());
        }
    }

    @Test
    void TCP_PX_aListenTcpAddressInUseExits64NamingIt_andAnUnsetPasswordVariableToo() throws Exception {
        java.net.InetAddress lo = java.net.InetAddress.getByName("127.0.0.1");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, lo)) {
            Path cfg = Files.writeString(dir.resolve("tcp-in-use.yaml"), "listen: ['127.0.0.1:0']\nlisten_tcp: ['127.0.0.1:"
                    + taken.getLocalPort() + "']\n");
            assertEquals(0, ClientFixtures.run("proxy", "--config", cfg.toString(), "--check").status(), "otherwise valid");
            Run r = ClientFixtures.run("proxy", "--config", cfg.toString());
            assertEquals(64, r.status());
            assertTrue(r.err().startsWith("coterie proxy: cannot listen on 127.0.0.1:" + taken.getLocalPort() + " (listen_tcp[0]): "),
                    r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r.err());
        }
        Path ks = Files.writeString(dir.resolve("proxy.p12"), "not opened: the variable is checked first");
        Files.setPosixFilePermissions(ks, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path tls = Files.writeString(dir.resolve("tls.yaml"), "listen_tls: {listen: ['127.0.0.1:0'], keystore: proxy.p12, "
                + "keystore_pass_env: COTERIE_NO_SUCH_VARIABLE_9}\n");
        Run no = ClientFixtures.run("proxy", "--config", tls.toString(), "--check");
        assertEquals(64, no.status());
        assertEquals("coterie proxy: " + tls + ": field 'listen_tls.keystore_pass_env': the environment variable "
                + "COTERIE_NO_SUCH_VARIABLE_9 is not set", no.err().strip());
        Files.setPosixFilePermissions(ks, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Run open = ClientFixtures.run("proxy", "--config", tls.toString(), "--check");
        assertEquals(64, open.status());
        assertTrue(open.err().contains("field 'listen_tls.keystore'"), open.err());
    }

    @Test
    void L10_anAdminAddressInUseExits64NamingIt_andReleasesTheAddressesItHadBound() throws Exception {
        java.net.InetAddress lo = java.net.InetAddress.getByName("127.0.0.1");
        int listenPort;
        try (java.net.DatagramSocket probe = new java.net.DatagramSocket(0, lo)) {
            listenPort = probe.getLocalPort();
        }
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, lo)) {
            Path cfg = Files.writeString(dir.resolve("admin-in-use.yaml"), "listen: ['127.0.0.1:" + listenPort + "']\n"
                    + "admin: {listen: '127.0.0.1:" + taken.getLocalPort() + "'}\n");
            Run r = ClientFixtures.run("proxy", "--config", cfg.toString());
            assertEquals(64, r.status());
            assertEquals("coterie proxy: cannot listen on 127.0.0.1:" + taken.getLocalPort()
                    + " (admin.listen): Address already in use" + System.lineSeparator(), r.err());
        }
        try (java.net.DatagramSocket again = new java.net.DatagramSocket(listenPort, lo)) {
            assertEquals(listenPort, again.getLocalPort(), "the listen address bound before the failure was released");
        }
    }

    @Test
    void CONFIG_theDocumentedExampleIsValid() throws Exception {
        // copied: --check opens the hop context, whose state directory must not land in the source tree
        Path src = Path.of("..", "docs", "examples", "proxy");
        for (String f : List.of("proxy.yaml", "proxy-controller.json")) {
            Files.copy(src.resolve(f), dir.resolve(f));
        }
        Files.setPosixFilePermissions(dir.resolve("proxy-controller.json"),
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Run ok = ClientFixtures.run("proxy", "--config", dir.resolve("proxy.yaml").toString(), "--check");
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains("2 route(s), 2 access rule(s), 1 client and 0 origin hop context(s), 1 group(s)"), ok.out());
    }
}
