package dev.coterie.oscore;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.TokenGenerator;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Builds a Californium UDP endpoint whose stack protects every request and response with the
 * one OSCORE layer, in whichever modes its views use. A server endpoint needs a resolver (OSCORE
 * contexts, Group OSCORE groups, or both); a client endpoint needs a {@link ClientContextBinding};
 * an endpoint may be both. {@link dev.coterie.oscore.OscoreLayer#identifiers} and
 * {@link #layerOf(Endpoint)} give resources and proxies the identifiers of the request they answer.
 */
public final class OscoreEndpointBuilder {
    private static final Map<Endpoint, OscoreLayer> LAYERS = Collections.synchronizedMap(new WeakHashMap<>());

    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
    private Configuration config;
    private ExtensionOptionRegistry extensions = ExtensionOptionRegistry.defaults();
    private RequestVerifier.Resolver server;
    private ClientContextBinding clientBinding;
    private SecurityTrace trace;
    private boolean echoRetry = true;
    private InnerObserve innerObserve = InnerObserve.EMPTY;
    private OscoreLayer.UnprotectedRequests unprotected = OscoreLayer.UnprotectedRequests.REFUSE;
    private Connector connector;
    private TokenGenerator tokenGenerator;
    private int maxClientExchanges = 10_000;
    private java.util.function.Predicate<org.eclipse.californium.core.coap.Request> deterministicAllowed = r -> false;

    public OscoreEndpointBuilder bind(InetSocketAddress a) { address = Objects.requireNonNull(a); return this; }
    public OscoreEndpointBuilder configuration(Configuration c) { config = Objects.requireNonNull(c); return this; }
    public OscoreEndpointBuilder extensions(ExtensionOptionRegistry r) { extensions = Objects.requireNonNull(r); return this; }
    /** Where incoming requests find their sender: OSCORE contexts ({@link InMemoryContextDb}) or groups. */
    public OscoreEndpointBuilder serverContexts(RequestVerifier.Resolver r) { server = r; return this; }
    public OscoreEndpointBuilder clientBinding(ClientContextBinding b) { clientBinding = b; return this; }
    public OscoreEndpointBuilder trace(SecurityTrace t) { trace = t; return this; }
    /** Whether a client repeats a request once when the server answers 4.01 with an Echo (default on). */
    public OscoreEndpointBuilder echoRetry(boolean on) { echoRetry = on; return this; }
    /** The inner Observe value of notifications this server sends (default: empty, RFC 8613). */
    public OscoreEndpointBuilder innerObserve(InnerObserve mode) { innerObserve = Objects.requireNonNull(mode); return this; }
    /** What a server does with requests that carry no OSCORE option (default: refuse). */
    public OscoreEndpointBuilder unprotectedRequests(OscoreLayer.UnprotectedRequests u) { unprotected = Objects.requireNonNull(u); return this; }
    /** A connector of one's own (multicast receivers); the bind address is then the connector's. */
    public OscoreEndpointBuilder connector(Connector c) { connector = c; return this; }
    public OscoreEndpointBuilder tokenGenerator(TokenGenerator g) { tokenGenerator = g; return this; }
    /**
     * Which verified plain requests a deterministic request may be (cacheable-oscore Section 3.4.3:
     * resources opt in, and must be free of side effects). Others get a protected 4.01. Default: none.
     */
    public OscoreEndpointBuilder deterministicRequests(java.util.function.Predicate<org.eclipse.californium.core.coap.Request> allowed) {
        deterministicAllowed = Objects.requireNonNull(allowed);
        return this;
    }

    /** The most client requests awaiting responses at once; past it requests are refused (default 10000). */
    public OscoreEndpointBuilder maxClientExchanges(int n) { maxClientExchanges = n; return this; }

    /** Californium's defaults, without the properties file Configuration.getStandard() would write. */
    public static Configuration defaultConfiguration() {
        org.eclipse.californium.core.config.CoapConfig.register();
        org.eclipse.californium.elements.config.UdpConfig.register();
        return Configuration.createStandardWithoutFile();
    }

    /** The OSCORE layer of an endpoint this builder made, or null. */
    public static OscoreLayer layerOf(Endpoint endpoint) {
        return LAYERS.get(endpoint);
    }

    public CoapEndpoint build() {
        if (server == null && clientBinding == null) {
            throw new IllegalStateException("an OSCORE endpoint needs server contexts, a client binding, or both");
        }
        if (maxClientExchanges < 1) {
            throw new IllegalArgumentException("maxClientExchanges must be positive");
        }
        Configuration cfg = config != null ? config : defaultConfiguration();
        OscoreLayer layer = new OscoreLayer(new ProtectionPipeline(extensions, innerObserve), server, clientBinding, trace,
                echoRetry, unprotected, maxClientExchanges, deterministicAllowed);
        OscoreObservationStore observations = new OscoreObservationStore(cfg);
        observations.onRemove(layer::observationRemoved);
        CoapEndpoint.Builder b = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setOptionRegistry(extensions.californiumRegistry())
                .setObservationStore(observations)
                .setCoapStackFactory((protocol, tag, c, outbox, arg) -> new OscoreUdpStack(tag, c, outbox, layer));
        if (connector != null) {
            b.setConnector(connector);
        } else {
            b.setInetSocketAddress(address);
        }
        if (tokenGenerator != null) {
            b.setTokenGenerator(tokenGenerator);
        }
        CoapEndpoint endpoint = b.build();
        endpoint.addInterceptor(layer.observationEndInterceptor());
        LAYERS.put(endpoint, layer);
        return endpoint;
    }
}
