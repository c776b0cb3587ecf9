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
    void CONFIG_invalidYamlGivesTheLineNotTheText() throws Exception {
        Path file = Files.writeString(dir.resolve("bad.yaml"), "listen: ['127.0.0.1:1'\nforward_proxy: [\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file));
        assertTrue(e.getMessage().startsWith(file + ": not valid YAML (line "), e.getMessage());
    }
}
