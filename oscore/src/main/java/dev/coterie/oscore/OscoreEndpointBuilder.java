package dev.coterie.oscore;

import java.net.InetSocketAddress;
import java.util.Objects;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Builds a Californium UDP endpoint whose stack protects every request and response with
 * OSCORE. A server endpoint needs a {@link ContextDb}; a client endpoint needs a
 * {@link ClientContextBinding}; an endpoint may be both.
 */
public final class OscoreEndpointBuilder {
    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
    private Configuration config;
    private ExtensionOptionRegistry extensions = ExtensionOptionRegistry.defaults();
    private ContextDb serverContexts;
    private ClientContextBinding clientBinding;
    private OscoreTrace trace;
    private boolean echoRetry = true;
    private InnerObserve innerObserve = InnerObserve.EMPTY;

    public OscoreEndpointBuilder bind(InetSocketAddress a) { address = Objects.requireNonNull(a); return this; }
    public OscoreEndpointBuilder configuration(Configuration c) { config = Objects.requireNonNull(c); return this; }
    public OscoreEndpointBuilder extensions(ExtensionOptionRegistry r) { extensions = Objects.requireNonNull(r); return this; }
    public OscoreEndpointBuilder serverContexts(ContextDb db) { serverContexts = db; return this; }
    public OscoreEndpointBuilder clientBinding(ClientContextBinding b) { clientBinding = b; return this; }
    public OscoreEndpointBuilder trace(OscoreTrace t) { trace = t; return this; }
    /** Whether a client repeats a request once when the server answers 4.01 with an Echo (default on). */
    public OscoreEndpointBuilder echoRetry(boolean on) { echoRetry = on; return this; }

    /** The inner Observe value of notifications this server sends (default: empty, RFC 8613). */
    public OscoreEndpointBuilder innerObserve(InnerObserve mode) { innerObserve = Objects.requireNonNull(mode); return this; }

    /** Californium's defaults, without the properties file Configuration.getStandard() would write. */
    public static Configuration defaultConfiguration() {
        org.eclipse.californium.core.config.CoapConfig.register();
        org.eclipse.californium.elements.config.UdpConfig.register();
        return Configuration.createStandardWithoutFile();
    }

    public CoapEndpoint build() {
        if (serverContexts == null && clientBinding == null) {
            throw new IllegalStateException("an OSCORE endpoint needs server contexts, a client binding, or both");
        }
        Configuration cfg0 = config != null ? config : defaultConfiguration();
        OscoreLayer layer = new OscoreLayer(new OscoreProtection(extensions, false, innerObserve), serverContexts, clientBinding, trace, echoRetry);
        return new CoapEndpoint.Builder()
                .setInetSocketAddress(address)
                .setConfiguration(cfg0)
                .setOptionRegistry(extensions.californiumRegistry())
                .setObservationStore(new OscoreObservationStore(cfg0))
                .setCoapStackFactory((protocol, tag, cfg, outbox, arg) -> new OscoreUdpStack(tag, cfg, outbox, layer))
                .build();
    }
}
