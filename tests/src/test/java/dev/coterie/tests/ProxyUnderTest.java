package dev.coterie.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The Coterie proxy under test, started from YAML on loopback, with no OSCORE contexts of its
 * own: a forward proxy (Proxy-Uri, Proxy-Scheme, Proxy-Cri) that lets unauthenticated clients
 * reach any origin.
 */
final class ProxyUnderTest implements AutoCloseable {
    static final String FORWARD_ANY = "listen: ['127.0.0.1:0']\n"
            + "forward_proxy: true\n"
            + "limits: {upstream_timeout_ms: 5000}\n"
            + "access:\n"
            + "  - client: unauthenticated\n"
            + "    allow: [{origin: '*'}]\n";

    final ProxyServer proxy;
    final InetSocketAddress address;

    ProxyUnderTest() throws Exception {
        this(FORWARD_ANY);
    }

    ProxyUnderTest(String yaml) throws Exception {
        ProxyConfig cfg = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "interop.yaml", Path.of("."));
        proxy = new ProxyServer(cfg, List.of(), Map.of()).start();
        address = proxy.listenAddresses().get(0);
    }

    /** coap://127.0.0.1:port, as coap-client's -P wants it. */
    String uri() {
        return "coap://127.0.0.1:" + address.getPort();
    }

    @Override
    public void close() {
        proxy.close();
    }
}
