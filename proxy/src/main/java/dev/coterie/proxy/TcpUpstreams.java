package dev.coterie.proxy;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TlsFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.serialization.TcpDataParser;
import org.eclipse.californium.core.network.serialization.TcpDataSerializer;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's client endpoints towards coap+tcp and coaps+tcp origins (RFC 8323): one coap+tcp
 * client for every origin (one connection per origin address, reused), and one coaps+tcp client
 * per origin host, so that the host goes out as server name indication and the origin's
 * certificate is checked against that name and {@code upstream_tcp.trust}. Each is made and
 * started with the first request that needs it; at most {@code max_tls_origins} TLS clients
 * exist at once (the next new host gets 5.03 with Max-Age). A request to a coaps+tcp origin
 * without {@code upstream_tcp.trust} gets 5.02: the proxy never talks TLS unverified.
 */
final class TcpUpstreams implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TcpUpstreams.class);

    private final ProxyConfig.UpstreamTcp config;
    private final Configuration cfg;
    private final ExtensionOptionRegistry extensions;
    private final Consumer<CoapEndpoint> onNew;
    private final SSLContext trust;
    private volatile CoapEndpoint plain;
    private final Map<String, CoapEndpoint> tls = new HashMap<>();
    private boolean closed;

    /** @param onNew what each new endpoint needs before its first request (the forwarder's notification listener) */
    TcpUpstreams(ProxyConfig.UpstreamTcp config, Configuration cfg, ExtensionOptionRegistry extensions,
                 Consumer<CoapEndpoint> onNew) throws IOException {
        this.config = config;
        this.cfg = cfg;
        this.extensions = extensions;
        this.onNew = onNew;
        this.trust = config.trust() == null ? null : TlsFiles.client(config.trust(), null, null);
    }

    /** The endpoint requests to {@code origin} (a coap+tcp or coaps+tcp one) leave from. */
    Endpoint endpoint(ProxyConfig.Origin origin) throws ForwardTarget.Refusal {
        CoapEndpoint p = plain;
        if (p != null && origin.scheme().equals(ProxyConfig.Origin.COAP_TCP)) {
            return p;
        }
        synchronized (this) {
            if (closed) {
                throw new ForwardTarget.Refusal(ResponseCode.SERVICE_UNAVAILABLE, "the proxy is stopping");
            }
            if (origin.scheme().equals(ProxyConfig.Origin.COAP_TCP)) {
                if (plain == null) {
                    Configuration c = new Configuration(cfg);
                    plain = started(TcpConnectors.client(c, config.limits()), c, "coap+tcp");
                }
                return plain;
            }
            if (trust == null) {
                throw new ForwardTarget.Refusal(ResponseCode.BAD_GATEWAY,
                        "coaps+tcp origins need upstream_tcp.trust (the origins' CA certificates)");
            }
            CoapEndpoint e = tls.get(origin.host());
            if (e == null) {
                if (tls.size() >= config.maxTlsOrigins()) {
                    throw new ForwardTarget.Refusal(ResponseCode.SERVICE_UNAVAILABLE,
                            "too many coaps+tcp origin hosts (upstream_tcp.max_tls_origins)");
                }
                Configuration c = new Configuration(cfg);
                e = started(TcpConnectors.tlsClient(trust, origin.host(), c, config.limits()), c, "coaps+tcp");
                tls.put(origin.host(), e);
            }
            return e;
        }
    }

    private CoapEndpoint started(Connector connector, Configuration c, String what) throws ForwardTarget.Refusal {
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(c).setConnector(connector)
                .setOptionRegistry(extensions.californiumRegistry())
                .setDataSerializerAndParser(new TcpDataSerializer(), new TcpDataParser(extensions.californiumRegistry()))
                .build();
        onNew.accept(ep);
        try {
            ep.start();
        } catch (IOException e) {
            ep.destroy();
            LOG.warn("cannot start the {} upstream client: {}", what, e.getMessage());
            throw new ForwardTarget.Refusal(ResponseCode.BAD_GATEWAY, "cannot open a " + what + " client");
        }
        return ep;
    }

    /** How many coaps+tcp origin hosts have a TLS client now (for tests and metrics). */
    synchronized int tlsOrigins() {
        return tls.size();
    }

    @Override
    public void close() {
        List<CoapEndpoint> all;
        synchronized (this) {
            closed = true;
            all = new ArrayList<>(tls.values());
            if (plain != null) {
                all.add(plain);
            }
            tls.clear();
            plain = null;
        }
        for (CoapEndpoint e : all) {
            e.destroy();
        }
    }
}
