package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every configuration mistake names the file, the field and why; a correct file gives the values it says. */
class ProxyConfigTest {
    @TempDir
    Path dir;

    private ConfigException mistake(String yaml) {
        return assertThrows(ConfigException.class, () -> ProxyFixture.config(yaml));
    }

    @Test
    void CONFIG_aCompleteFileGivesItsValues() throws Exception {
        Path ctx = Files.writeString(dir.resolve("hop.json"), "{}");
        Path file = Files.writeString(dir.resolve("proxy.yaml"), String.join("\n",
                "listen: ['127.0.0.1:5783', '[::1]:5783']",
                "upstream_bind: 127.0.0.1:0",
                "forward_proxy: true",
                "max_oscore_layers: 1",
                "client_contexts: [hop.json]",
                "origin_contexts: [{origin: 'coap://127.0.0.1:5690', context: hop.json}]",
                "routes:",
                "  - {name: lights, uri_host: Lights.Example, path_prefix: /lights, origin: '127.0.0.1:5690', strip_prefix: true}",
                "access:",
                "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:5690', path_prefix: /sensors}]}",
                "  - {client: {kid: '01', kid_context: '37cbf3210017a2d3'}, allow: [{origin: '*'}]}",
                "limits: {exchanges: 10, observers: 5, requests_per_second: 3, burst: 4, clients_tracked: 9,",
                "         upstream_timeout_ms: 1000, retry_after_s: 2, hop_limit: 8}",
                "cache: {enabled: true, max_entries: 100, max_bytes: 65536}",
                "admin: {listen: '127.0.0.1:9464'}", ""));
        ProxyConfig c = ProxyConfig.load(file);
        assertEquals(2, c.listen().size());
        assertEquals(5783, c.listen().get(1).getPort());
        assertTrue(c.forwardProxy());
        assertEquals(1, c.maxOscoreLayers());
        assertEquals(List.of(ctx.toAbsolutePath()), c.clientContexts().stream().map(Path::toAbsolutePath).toList());
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 5690), c.originHops().get(0).origin());
        ProxyConfig.Route r = c.routes().get(0);
        assertEquals("lights.example", r.uriHost());
        assertEquals(List.of("lights"), r.pathPrefix());
        assertTrue(r.stripPrefix());
        assertTrue(c.access().get(0).client().isUnauthenticated());
        assertFalse(c.access().get(1).client().isUnauthenticated());
        assertTrue(c.access().get(1).allow().get(0).anyOrigin());
        assertEquals(new ProxyConfig.Limits(10, 5, 3, 4, 9, 1000, 2, 8), c.limits());
        assertEquals(new ProxyConfig.CacheLimits(true, 100, 65536), c.cache());
        assertEquals(9464, c.admin().getPort());
    }

    @Test
    void CONFIG_defaultsAreLoopbackNoForwardingNoAdmin() throws Exception {
        ProxyConfig c = ProxyFixture.config("routes: []\n");
        assertTrue(c.listen().get(0).getAddress().isLoopbackAddress());
        assertFalse(c.forwardProxy());
        assertNull(c.admin());
        assertEquals(ProxyConfig.DEFAULT_LIMITS, c.limits());
        assertEquals(ProxyConfig.DEFAULT_CACHE, c.cache());
    }

    @Test
    void CONFIG_mistakesNameTheFieldAndWhy() {
        assertEquals("listn", mistake("listn: []\n").field());
        assertEquals("limits.exchanges", mistake("limits: {exchanges: 0}\n").field());
        assertEquals("limits.exchanges", mistake("limits: {exchanges: many}\n").field());
        assertEquals("routes[0].origin", mistake("routes: [{path_prefix: /a, origin: 'http://x'}]\n").field());
        assertEquals("routes[0].origin", mistake("routes: [{path_prefix: /a}]\n").field());
        assertEquals("routes[0]", mistake("routes: [{origin: '127.0.0.1:1'}]\n").field());
        assertEquals("access[0].client", mistake("access: [{client: everyone, allow: []}]\n").field());
        assertEquals("access[0].client.kid", mistake("access: [{client: {kid: 'xyz'}, allow: []}]\n").field());
        assertEquals("access[1].client", mistake("access: [{client: unauthenticated, allow: []}, "
                + "{client: unauthenticated, allow: []}]\n").field());
        assertEquals("admin.listen", mistake("admin: {listen: '192.0.2.1:9464'}\n").field(), "admin is loopback only");
        assertEquals("client_contexts[0]", mistake("client_contexts: [missing.json]\n").field());
        assertEquals("forward_proxy", mistake("forward_proxy: yes please\n").field());
        ConfigException e = mistake("cache: {max_bytes: 10}\n");
        assertEquals("test.yaml: field 'cache.max_bytes': must be between 1024 and 1099511627776, not 10", e.getMessage());
    }

    @Test
    void CONFIG_groupsRoutesToGroupsAndGroupRules_andTheirMistakes() throws Exception {
        String good = "groups:\n  - {name: lights, host: Lights.Example, address: 224.0.1.187, interface: lo,\n"
                + "     members: ['127.0.0.1:5701', '127.0.0.1:5702']}\n"
                + "  - {name: sensors, address: 'ff05::fd', port: 5690}\n"
                + "routes: [{name: each, uri_host: each.example, group: lights, stand_in: servers}]\n"
                + "group_forwarding: {max_multicast_timeout_s: 30, token_reuse_s: 250, through_next_proxy: true,"
                + " chain_margin_s: 2}\n"
                + "access: [{client: unauthenticated, allow: [{group: lights, path_prefix: /light}, {origin: '*'}]}]\n";
        ProxyConfig c = ProxyFixture.config(good);
        assertEquals(2, c.groups().size());
        ProxyConfig.Group lights = c.groups().get(0);
        assertEquals("lights.example", lights.host());
        assertEquals("224.0.1.187", lights.address().getHostAddress());
        assertEquals(5683, lights.port());
        assertEquals("lo", lights.networkInterface());
        assertEquals(2, lights.members().size());
        assertNull(c.groups().get(1).members(), "members not given: the membership is unknown");
        assertEquals(c.groups().get(1).address().getHostAddress(), c.groups().get(1).host(), "host defaults to the address");
        assertEquals(new ProxyConfig.Origin("lights.example", 5683), c.routes().get(0).origin(), "a group route goes to the group");
        assertTrue(c.routes().get(0).standInForServers());
        assertEquals(new ProxyConfig.GroupForwarding(30, 250, 100_000, 3600, true, 2, 256, 300, 16), c.groupForwarding());
        assertEquals("lights", c.access().get(0).allow().get(0).group());
        assertTrue(c.access().get(0).allow().get(1).anyOrigin());
        assertTrue(ProxyFixture.config("access: []\n").groups().isEmpty(), "no groups: group forwarding is off");

        assertEquals("groups[0].address", mistake("groups: [{name: g, address: lights.example}]\n").field(), "a name");
        assertEquals("groups[0].address", mistake("groups: [{name: g, address: 192.0.2.1}]\n").field(), "not multicast");
        assertEquals("groups[0].port", mistake("groups: [{name: g, address: 224.0.1.187, port: 5684}]\n").field(), "GCB-10");
        assertEquals("groups[0].name", mistake("groups: [{address: 224.0.1.187}]\n").field());
        assertEquals("groups[1].name", mistake("groups: [{name: g, address: 224.0.1.187}, {name: g, address: 224.0.1.188}]\n")
                .field());
        assertEquals("groups[1].host", mistake("groups: [{name: a, address: 224.0.1.187}, {name: b, host: '224.0.1.187',"
                + " address: 224.0.1.188}]\n").field(), "two groups with one host and port");
        assertEquals("groups[0].colour", mistake("groups: [{name: g, address: 224.0.1.187, colour: red}]\n").field());
        assertEquals("access[0].allow[0].group", mistake("access: [{client: unauthenticated, allow: [{group: nowhere}]}]\n")
                .field());
        assertEquals("access[0].allow[0]", mistake("groups: [{name: g, address: 224.0.1.187}]\n"
                + "access: [{client: unauthenticated, allow: [{group: g, origin: '*'}]}]\n").field());
        assertEquals("routes[0].group", mistake("routes: [{uri_host: x, group: nowhere}]\n").field());
        assertEquals("routes[0].stand_in", mistake("groups: [{name: g, address: 224.0.1.187}]\n"
                + "routes: [{uri_host: x, group: g, stand_in: everyone}]\n").field());
        assertEquals("routes[0].stand_in", mistake("routes: [{uri_host: x, origin: '127.0.0.1:1', stand_in: servers}]\n")
                .field());
        assertEquals("groups[0].interface", mistake("groups: [{name: g, address: 224.0.1.187, interface: eth9-nowhere}]\n")
                .field(), "checked at parse time (and by --check), not at start");
        assertEquals("groups[0].members[0]", mistake("groups: [{name: g, address: 224.0.1.187, members: ['224.0.1.1:5683']}]\n")
                .field(), "a member is unicast");
        assertEquals("groups[0].members[1]", mistake("groups: [{name: g, address: 224.0.1.187, "
                + "members: ['127.0.0.1:5701', '127.0.0.1:5701']}]\n").field(), "listed twice");
        assertEquals("routes[0].stand_in", mistake("groups: [{name: g, address: 224.0.1.187}]\n"
                + "routes: [{uri_host: x, group: g, stand_in: servers}]\n").field(), "follow-ups need known members");
        assertEquals("routes[0].stand_in", mistake("listen: ['0.0.0.0:5683']\n"
                + "groups: [{name: g, address: 224.0.1.187, members: ['127.0.0.1:5701']}]\n"
                + "routes: [{uri_host: x, group: g, stand_in: servers}]\n").field(), "a wildcard cannot name the proxy");
        assertEquals("group_forwarding.chain_margin_s", mistake("group_forwarding: {chain_margin_s: 0}\n").field());
        assertEquals("group_forwarding.max_multicast_timeout_s", mistake("group_forwarding: {max_multicast_timeout_s: 0}\n")
                .field());
    }

    @Test
    void CONFIG_nextProxyOfAChain_withAndWithoutAHopContext_andItsMistakes() throws Exception {
        Files.writeString(dir.resolve("p1-p2.json"), "{}");
        Path file = Files.writeString(dir.resolve("chain.yaml"), "forward_proxy: true\n"
                + "next_proxy: {address: 'coap://127.0.0.1:5784', context: p1-p2.json}\n");
        ProxyConfig c = ProxyConfig.load(file);
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 5784), c.nextProxy());
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 5784), c.originHops().get(0).origin(), "its hop context");
        ProxyConfig plain = ProxyFixture.config("forward_proxy: true\nnext_proxy: {address: '127.0.0.1:5784'}\n");
        assertEquals(5784, plain.nextProxy().port());
        assertTrue(plain.originHops().isEmpty());
        assertNull(ProxyFixture.config("forward_proxy: true\n").nextProxy());

        assertEquals("next_proxy", mistake("next_proxy: {address: '127.0.0.1:5784'}\n").field(), "needs forward_proxy");
        assertEquals("next_proxy.address", mistake("forward_proxy: true\nnext_proxy: {address: 'http://x'}\n").field());
        assertEquals("next_proxy.address", mistake("forward_proxy: true\nnext_proxy: {}\n").field());
        assertEquals("next_proxy.port", mistake("forward_proxy: true\nnext_proxy: {address: '127.0.0.1:1', port: 2}\n").field());
        assertEquals("next_proxy.context", mistake("forward_proxy: true\nnext_proxy: {address: '127.0.0.1:1', "
                + "context: missing.json}\n").field());
        Path dup = Files.writeString(dir.resolve("dup.yaml"), "forward_proxy: true\n"
                + "origin_contexts: [{origin: '127.0.0.1:5784', context: p1-p2.json}]\n"
                + "next_proxy: {address: '127.0.0.1:5784', context: p1-p2.json}\n");
        assertEquals("next_proxy.context", assertThrows(ConfigException.class, () -> ProxyConfig.load(dup)).field());
    }

    @Test
    void OCP_09_CONFIG_clientContextSourcesAreCidrPrefixes_absentMeansAnySource() throws Exception {
        Path a = Files.writeString(dir.resolve("a.json"), "{}");
        Path b = Files.writeString(dir.resolve("b.json"), "{}");
        Path file = Files.writeString(dir.resolve("proxy.yaml"), String.join("\n",
                "client_contexts:",
                "  - a.json",
                "  - {context: b.json, sources: ['127.0.0.1/32', '10.0.0.0/8', '::1/128', '2001:DB8::/32', '0.0.0.0/0',",
                "                                 '::/0', 'fe80::/10', '::ffff:0:0:0/96', '64:ff9b::192.0.2.0/120']}",
                ""));
        ProxyConfig c = ProxyConfig.load(file);
        assertEquals(2, c.clientHops().size());
        assertTrue(c.clientHops().get(0).anySource());
        assertNull(c.clientHops().get(0).sources());
        assertEquals(a.toAbsolutePath(), c.clientHops().get(0).context().toAbsolutePath());
        assertEquals(b.toAbsolutePath(), c.clientHops().get(1).context().toAbsolutePath());
        assertFalse(c.clientHops().get(1).anySource());
        assertEquals(List.of("127.0.0.1/32", "10.0.0.0/8", "0:0:0:0:0:0:0:1/128", "2001:db8:0:0:0:0:0:0/32", "0.0.0.0/0",
                        "0:0:0:0:0:0:0:0/0", "fe80:0:0:0:0:0:0:0/10", "0:0:0:0:ffff:0:0:0/96", "64:ff9b:0:0:0:0:c000:200/120"),
                c.clientHops().get(1).sources().stream().map(SourcePrefix::toString).toList());
        assertEquals(List.of(a.toAbsolutePath(), b.toAbsolutePath()),
                c.clientContexts().stream().map(Path::toAbsolutePath).toList(), "clientContexts() keeps the paths in order");
    }

    @Test
    void OCP_09_CONFIG_eachBadSourcesShapeNamesTheFieldAndWhy() throws Exception {
        Files.writeString(dir.resolve("a.json"), "{}");
        String ctx = dir.resolve("a.json").toAbsolutePath().toString();
        java.util.function.BiFunction<String, String, ConfigException> bad = (sources, field) -> {
            ConfigException e = mistake("client_contexts: [{context: '" + ctx + "', sources: " + sources + "}]\n");
            assertEquals(field, e.field(), e.getMessage());
            assertTrue(e.getMessage().startsWith("test.yaml: field '" + field + "': "), e.getMessage());
            return e;
        };
        assertTrue(bad.apply("[]", "client_contexts[0].sources").why().contains("is empty"));
        assertTrue(bad.apply("null", "client_contexts[0].sources").why().contains("leave the field out for any source"));
        assertTrue(bad.apply("'127.0.0.1/32'", "client_contexts[0].sources").why().contains("must be a list"));
        assertTrue(bad.apply("[{a: 1}]", "client_contexts[0].sources[0]").why().contains("in quotes"));
        assertTrue(bad.apply("[8]", "client_contexts[0].sources[0]").why().contains("in quotes"));
        assertTrue(bad.apply("['10.0.0.1/8']", "client_contexts[0].sources[0]").why()
                .contains("host bits are set past /8 (the network is 10.0.0.0/8)"));
        assertTrue(bad.apply("['127.0.0.1/32', '::1/64']", "client_contexts[0].sources[1]").why()
                .contains("host bits are set past /64"));
        assertTrue(bad.apply("['127.0.0.1']", "client_contexts[0].sources[0]").why().contains("needs a prefix length"));
        assertTrue(bad.apply("['127.0.0.1/33']", "client_contexts[0].sources[0]").why().contains("from 0 to 32"));
        assertTrue(bad.apply("['::1/129']", "client_contexts[0].sources[0]").why().contains("from 0 to 128"));
        assertTrue(bad.apply("['10.0.0.0/08']", "client_contexts[0].sources[0]").why().contains("from 0 to 32"));
        assertTrue(bad.apply("['10.0.0.0/-1']", "client_contexts[0].sources[0]").why().contains("from 0 to 32"));
        assertTrue(bad.apply("['10.0.0.0/']", "client_contexts[0].sources[0]").why().contains("from 0 to 32"));
        assertTrue(bad.apply("['10.0.0.0/8/8']", "client_contexts[0].sources[0]").why().contains("more than one '/'"));
        for (String v4 : List.of("10.0.0/8", "10.0.0.0.0/8", "256.0.0.0/8", "010.0.0.0/8", "10.0.0.x/8", "/8", "10..0.0/8",
                "localhost/32", " 10.0.0.0/8")) {
            assertTrue(bad.apply("['" + v4 + "']", "client_contexts[0].sources[0]").why().contains("not an IPv4 address"), v4);
        }
        for (String v6 : List.of("::1::/128", "1:2:3:4:5:6:7/112", "1:2:3:4:5:6:7:8:9/128", "12345::/16", "fe80::1%lo/128",
                ":1::/16", "1::2:/16", "g::/16", "::1.2.3/128", "1.2.3.4::/128", "[::1]/128")) {
            assertTrue(bad.apply("['" + v6 + "']", "client_contexts[0].sources[0]").why().contains("not an IPv6 address"), v6);
        }
        assertTrue(bad.apply("['::ffff:10.0.0.0/104']", "client_contexts[0].sources[0]").why().contains("IPv4-mapped"));
        assertTrue(bad.apply("['10.0.0.0/8', '10.0.0.0/8']", "client_contexts[0].sources[1]").why().contains("listed twice"));
        assertTrue(bad.apply("['::1/128', '0:0::1/128']", "client_contexts[0].sources[1]").why().contains("listed twice"));
        // the entry itself
        assertEquals("client_contexts[0].sorces", mistake("client_contexts: [{context: '" + ctx + "', sorces: []}]\n").field());
        assertEquals("client_contexts[0].context", mistake("client_contexts: [{sources: ['10.0.0.0/8']}]\n").field());
        assertEquals("client_contexts[0].context", mistake("client_contexts: [{context: missing.json}]\n").field());
        assertEquals("client_contexts[1]", mistake("client_contexts: ['" + ctx + "', 7]\n").field());
        assertEquals("client_contexts", mistake("client_contexts: {context: '" + ctx + "'}\n").field());
    }

    @Test
    void CONFIG_invalidYamlGivesTheLineNotTheText() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "listen: ['127.0.0.1:1'\nforward_proxy: [\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": not valid YAML (line "), e.getMessage());
    }

    @Test
    void CONFIG_tcpAndTlsListenersAndLimits() throws Exception {
        Path[] cert = ProxyTcpTest.certificate(dir, "proxy", "CN=proxy", "IP:127.0.0.1");
        String tls = ProxyTcpTest.tlsSection(cert[0], cert[1]);
        ProxyConfig c = ProxyFixture.config("listen_tcp: ['127.0.0.1:5783', '[::1]:5783']\n" + tls
                + "tcp: {max_connections: 7, idle_timeout_s: 9, frame_timeout_ms: 1500, max_message_size: 4096}\n"
                + "access: [{client: {tls_subject: 'CN=dev'}, allow: [{origin: '*'}]},\n"
                + "         {client: {tls_spki_sha256: '" + "ab".repeat(32) + "'}, allow: []}]\n");
        assertEquals(2, c.listenTcp().size());
        assertEquals(5783, c.listenTcp().get(1).getPort());
        assertEquals(cert[0], c.tls().keystore());
        assertEquals(cert[1], c.tls().clientTrust());
        assertEquals(ProxyTcpTest.PASS_ENV, c.tls().keystorePassEnv());
        assertEquals(new dev.coterie.oscore.tcp.TcpLimits(7, 9, 1500, 4096), c.tcp());
        assertEquals("cn=dev", c.access().get(0).client().tlsSubject());
        assertTrue(c.access().get(1).client().isTls());
        ProxyConfig none = ProxyFixture.config("forward_proxy: true\n");
        assertEquals(List.of(), none.listenTcp());
        assertNull(none.tls());
        assertEquals(dev.coterie.oscore.tcp.TcpLimits.DEFAULTS, none.tcp());
        // SIGHUP: the listeners and their limits need a restart, like the other listen fields
        assertEquals(List.of("listen_tcp", "listen_tls", "tcp"), ProxyServer.restartOnly(none, c));
        assertEquals(List.of(), ProxyServer.restartOnly(c, ProxyFixture.config("listen_tcp: ['127.0.0.1:5783', '[::1]:5783']\n"
                + tls + "tcp: {max_connections: 7, idle_timeout_s: 9, frame_timeout_ms: 1500, max_message_size: 4096}\n"
                + "access: [{client: {tls_subject: 'CN=dev'}, allow: [{origin: '*'}]},\n"
                + "         {client: {tls_spki_sha256: '" + "ab".repeat(32) + "'}, allow: []}]\n")), "control: the same file");
    }

    @Test
    void CONFIG_upstreamTcpAndTcpOrigins() throws Exception {
        Path[] cert = ProxyTcpTest.certificate(dir, "origin", "CN=origin", "IP:127.0.0.1");
        ProxyConfig c = ProxyFixture.config("forward_proxy: true\n"
                + "upstream_tcp: {idle_timeout_s: 8, frame_timeout_ms: 900, max_message_size: 2048, trust: '"
                + cert[1] + "', max_tls_origins: 3}\n"
                + "routes: [{path_prefix: /t, origin: 'coap+tcp://127.0.0.1'}, {path_prefix: /s, origin: 'coaps+tcp://127.0.0.1'}]\n"
                + "access: [{client: unauthenticated, allow: [{origin: 'coap+tcp://127.0.0.1:6000'}]}]\n");
        assertEquals(new dev.coterie.oscore.tcp.TcpLimits(dev.coterie.oscore.tcp.TcpLimits.DEFAULTS.maxConnections(), 8, 900, 2048),
                c.upstreamTcp().limits());
        assertEquals(cert[1], c.upstreamTcp().trust());
        assertEquals(3, c.upstreamTcp().maxTlsOrigins());
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 5683, "coap+tcp"), c.routes().get(0).origin(), "RFC 8323 default port");
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 5684, "coaps+tcp"), c.routes().get(1).origin(), "RFC 8323 default port");
        assertEquals(ProxyConfig.UpstreamTcp.DEFAULTS, ProxyFixture.config("forward_proxy: true\n").upstreamTcp());
        // coap+tcp and coap at one host and port are different origins
        assertFalse(new ProxyConfig.Origin("127.0.0.1", 5683).equals(new ProxyConfig.Origin("127.0.0.1", 5683, "coap+tcp")));
    }

    @Test
    void CONFIG_upstreamTcpMistakesNameTheField() throws Exception {
        assertEquals("upstream_tcp.max_connections", mistake("upstream_tcp: {max_connections: 0}\n").field());
        assertEquals("upstream_tcp.frame_timeout_ms", mistake("upstream_tcp: {frame_timeout_ms: 1}\n").field());
        assertEquals("upstream_tcp.max_message_size", mistake("upstream_tcp: {max_message_size: 10}\n").field());
        assertEquals("upstream_tcp.max_tls_origins", mistake("upstream_tcp: {max_tls_origins: 0}\n").field());
        assertEquals("upstream_tcp.trust", mistake("upstream_tcp: {trust: '" + dir.resolve("none.pem") + "'}\n").field());
        Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
        assertEquals("upstream_tcp.trust", mistake("upstream_tcp: {trust: '" + notPem + "'}\n").field());
        assertEquals("upstream_tcp.colour", mistake("upstream_tcp: {colour: red}\n").field());
        assertEquals("routes[0].origin", mistake("forward_proxy: true\nroutes: [{path_prefix: /x, origin: 'coap+ws://127.0.0.1'}]\n").field());
        // the proxy's own hops over TCP are not done: refused, not silently sent over UDP
        assertEquals("next_proxy.address", mistake("forward_proxy: true\nnext_proxy: {address: 'coap+tcp://127.0.0.1:6000'}\n")
                .field());
        // positive control: the same next_proxy over UDP
        assertEquals(new ProxyConfig.Origin("127.0.0.1", 6000),
                ProxyFixture.config("forward_proxy: true\nnext_proxy: {address: 'coap://127.0.0.1:6000'}\n").nextProxy());
    }

    @Test
    void CONFIG_tcpAndTlsMistakesNameTheFieldAndWhy() throws Exception {
        Path[] cert = ProxyTcpTest.certificate(dir, "proxy", "CN=proxy", "IP:127.0.0.1");
        String ks = cert[0].toString();
        String env = ProxyTcpTest.PASS_ENV;
        assertEquals("listen_tcp", mistake("listen_tcp: '127.0.0.1:5783'\n").field());
        assertEquals("listen_tcp", mistake("listen_tcp: []\n").field());
        assertEquals("listen_tcp[0]", mistake("listen_tcp: ['127.0.0.1:99999']\n").field());
        assertEquals("listen_tcp[1]", mistake("listen_tcp: ['127.0.0.1:5783', '127.0.0.1:5783']\n").field());
        assertEquals("listen_tls.listen", mistake("listen_tls: {keystore: '" + ks + "', keystore_pass_env: " + env + "}\n")
                .field());
        assertEquals("listen_tls.keystore", mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore_pass_env: " + env + "}\n")
                .field());
        assertEquals("listen_tls.keystore", mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + dir.resolve("none.p12")
                + "', keystore_pass_env: " + env + "}\n").field());
        assertEquals("listen_tls.keystore_pass_env", mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + ks
                + "'}\n").field());
        assertEquals("listen_tls.keystore_pass_env", mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + ks
                + "', keystore_pass_env: COTERIE_NO_SUCH_VARIABLE_9}\n").field(), "not set");
        assertEquals("listen_tls.keystore_pass_env", mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + ks
                + "', keystore_pass_env: 'not a name'}\n").field());
        ConfigException wrongPass = mistake("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + ks
                + "', keystore_pass_env: PATH}\n");
        assertEquals("listen_tls.keystore", wrongPass.field(), "the password in PATH does not open the key store");
        assertFalse(wrongPass.getMessage().contains(System.getenv("PATH")), "the message never carries the password");
        assertFalse(wrongPass.getMessage().contains(System.getenv(env)));
        assertEquals("listen_tls.client_trust", mistake(ProxyTcpTest.tlsSection(cert[0], dir.resolve("none.pem"))).field());
        Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
        Files.setPosixFilePermissions(notPem, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertEquals("listen_tls.client_trust", mistake(ProxyTcpTest.tlsSection(cert[0], notPem)).field());
        assertEquals("listen_tls.colour", mistake("listen_tls: {listen: ['127.0.0.1:0'], colour: red}\n").field());
        // the key store is private-key material: owner-only, like the context files
        Files.setPosixFilePermissions(cert[0], java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        ConfigException open = mistake(ProxyTcpTest.tlsSection(cert[0], null));
        assertEquals("listen_tls.keystore", open.field(), open.getMessage());
        Files.setPosixFilePermissions(cert[0], java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        assertEquals(cert[0], ProxyFixture.config(ProxyTcpTest.tlsSection(cert[0], null)).tls().keystore(), "control: owner-only");

        String l = "listen_tcp: ['127.0.0.1:0']\n";
        assertEquals("tcp", mistake("tcp: {max_connections: 5}\n").field(), "limits without a TCP or TLS listener");
        assertEquals("tcp.max_connections", mistake(l + "tcp: {max_connections: 0}\n").field());
        assertEquals("tcp.idle_timeout_s", mistake(l + "tcp: {idle_timeout_s: 0}\n").field());
        assertEquals("tcp.frame_timeout_ms", mistake(l + "tcp: {frame_timeout_ms: 50}\n").field());
        assertEquals("tcp.max_message_size", mistake(l + "tcp: {max_message_size: 10}\n").field());
        assertEquals("tcp.max_message_size", mistake(l + "tcp: {max_message_size: big}\n").field());
        assertEquals("tcp.nagle", mistake(l + "tcp: {nagle: false}\n").field());

        String trusted = ProxyTcpTest.tlsSection(cert[0], cert[1]);
        assertEquals("access[0].client.tls_subject", mistake(trusted + "access: [{client: {tls_subject: 'no equals sign'}, "
                + "allow: []}]\n").field());
        assertEquals("access[0].client.tls_spki_sha256", mistake(trusted + "access: [{client: {tls_spki_sha256: 'abcd'}, "
                + "allow: []}]\n").field());
        assertEquals("access[0].client", mistake(trusted + "access: [{client: {tls_subject: 'CN=a', kid: '01'}, "
                + "allow: []}]\n").field());
        assertEquals("access[0].client", mistake(ProxyTcpTest.tlsSection(cert[0], null)
                + "access: [{client: {tls_subject: 'CN=a'}, allow: []}]\n").field(), "no client_trust: no client certificates");
        assertEquals("access[1].client", mistake(trusted + "access: [{client: {tls_subject: 'CN=a, O=b'}, allow: []}, "
                + "{client: {tls_subject: 'cn=a,o=b'}, allow: []}]\n").field(), "the same subject twice");
    }
}
