package dev.coterie.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;

/** A proxy built from YAML text, and a plain client endpoint to talk to it, all on loopback. */
final class ProxyFixture implements AutoCloseable {
    final ProxyServer proxy;
    final CoapEndpoint client;
    final InetSocketAddress proxyAddress;

    ProxyFixture(String yaml) throws Exception {
        this(yaml, List.of(), Map.of());
    }

    ProxyFixture(String yaml, List<OscoreContext> clients, Map<ProxyConfig.Origin, OscoreContext> origins) throws Exception {
        proxy = new ProxyServer(config(yaml), clients, origins).start();
        proxyAddress = proxy.listenAddresses().get(0);
        client = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        client.start();
    }

    static ProxyConfig config(String yaml) throws Exception {
        JsonNode tree = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        return ProxyConfig.parse(tree, "test.yaml", Path.of("."));
    }

    /** Sends {@code r} to the proxy and waits for the response (null after 5 s). */
    Response send(Request r) throws InterruptedException {
        r.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(proxyAddress));
        client.sendRequest(r);
        return r.waitForResponse(5000);
    }

    @Override
    public void close() {
        client.destroy();
        proxy.close();
    }
}
