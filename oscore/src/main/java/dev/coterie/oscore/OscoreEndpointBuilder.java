package dev.coterie.oscore;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.InMemoryMessageExchangeStore;
import org.eclipse.californium.core.network.RandomTokenGenerator;
import org.eclipse.californium.core.network.TokenGenerator;
import org.eclipse.californium.core.network.deduplication.Deduplicator;
import org.eclipse.californium.core.network.deduplication.NoDeduplicator;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.network.serialization.TcpDataParser;
import org.eclipse.californium.core.network.serialization.TcpDataSerializer;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.RawDataChannel;
import org.eclipse.californium.elements.UDPConnector;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.IntegerDefinition;
import org.eclipse.californium.elements.config.UdpConfig;

/**
 * Builds a Californium UDP endpoint (or, with a TCP connector of
 * {@link dev.coterie.oscore.tcp.TcpConnectors}, a TCP/TLS one: {@link OscoreTcpStack}) whose stack protects every request and response with the
 * one OSCORE layer, in whichever modes its views use. A server endpoint needs a resolver (OSCORE
 * contexts, Group OSCORE groups, or both); a client endpoint needs a {@link ClientContextBinding};
 * an endpoint may be both. {@link dev.coterie.oscore.OscoreLayer#identifiers} and
 * {@link #layerOf(Endpoint)} give resources and proxies the identifiers of the request they answer.
 */
public final class OscoreEndpointBuilder {
    private static final Map<Endpoint, OscoreLayer> LAYERS = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * The most deduplication entries of an endpoint, over all peers (default 10000); past it
     * the oldest goes. Californium's deduplicators have no such ceiling. See
     * docs/configuration.md, "Limits under load".
     */
    public static final IntegerDefinition DEDUPLICATION_MAX_ENTRIES = new IntegerDefinition(
            "COTERIE.DEDUPLICATION_MAX_ENTRIES", "Maximum deduplication entries of an endpoint, all peers together.",
            10_000, 1);
    /**
     * The most datagrams an endpoint has received and not yet begun to process (default 4096);
     * past it a datagram is dropped on arrival. See {@link InboundLimit}.
     */
    public static final IntegerDefinition MAX_PENDING_DATAGRAMS = new IntegerDefinition(
            "COTERIE.MAX_PENDING_DATAGRAMS", "Maximum received datagrams waiting for the protocol stage.", 4096, 1);
    /** Default of {@link UdpConfig#UDP_CONNECTOR_OUT_CAPACITY} here (Californium's is unbounded). */
    public static final int DEFAULT_OUTGOING_CAPACITY = 4096;

    private static final Configuration.ModuleDefinitionsProvider LIMITS = new Configuration.ModuleDefinitionsProvider() {
        @Override
        public String getModule() {
            return "COTERIE.";
        }

        @Override
        public void applyDefinitions(Configuration config) {
            config.set(DEDUPLICATION_MAX_ENTRIES, DEDUPLICATION_MAX_ENTRIES.getDefaultValue());
            config.set(MAX_PENDING_DATAGRAMS, MAX_PENDING_DATAGRAMS.getDefaultValue());
            config.set(OuterBlockwiseLayer.MAX_TRANSFERS, OuterBlockwiseLayer.MAX_TRANSFERS.getDefaultValue());
        }
    };

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
    private DeterministicPhantoms deterministicPhantoms;
    private InboundLimit inboundLimit;
    private java.util.function.Predicate<org.eclipse.californium.core.coap.Request> forwardUntouched = r -> false;
    private boolean nesting;
    private int maxOscoreLayers = DEFAULT_MAX_OSCORE_LAYERS;
    private java.util.function.Predicate<org.eclipse.californium.elements.RawData> datagramsFirst;

    /** Layers a client adds to one request by default: end to end and one hop (oscore-capable-proxies). */
    public static final int DEFAULT_MAX_OSCORE_LAYERS = 2;
    private ResponseParsing responseParsing = ResponseParsing.STANDARD;

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
    /**
     * A connector of one's own (multicast receivers); the bind address is then the connector's.
     * Its datagrams count against {@link #MAX_PENDING_DATAGRAMS} only if it hands them to
     * {@link InboundLimit#wrap} of the limit given to {@link #inboundLimit}.
     */
    public OscoreEndpointBuilder connector(Connector c) { connector = c; return this; }
    /** The inbound limit that a connector of one's own counts with (default: a new one for the configuration). */
    public OscoreEndpointBuilder inboundLimit(InboundLimit l) { inboundLimit = l; return this; }
    public OscoreEndpointBuilder tokenGenerator(TokenGenerator g) { tokenGenerator = g; return this; }
    /**
     * Which verified plain requests a deterministic request may be (cacheable-oscore Section 3.4.3:
     * resources opt in, and must be free of side effects). Others get a protected 4.01. Default: none.
     */
    public OscoreEndpointBuilder deterministicRequests(java.util.function.Predicate<org.eclipse.californium.core.coap.Request> allowed) {
        deterministicAllowed = Objects.requireNonNull(allowed);
        return this;
    }

    /**
     * The deterministic phantoms of this server's group observations (observe-multicast-notifications
     * App. D, OMN-13): a request that is byte for byte one of them is recognised before any OSCORE
     * processing and delivered as the plain phantom, its answer unprotected. Default: none.
     */
    public OscoreEndpointBuilder deterministicPhantoms(DeterministicPhantoms p) {
        deterministicPhantoms = p;
        return this;
    }

    /**
     * A proxy's front endpoint: which requests it forwards as they came, without removing a layer
     * (proxy-related options, a reverse-proxy route). Their responses go back unprotected by this
     * hop, as they came from the next one. Default: none.
     */
    public OscoreEndpointBuilder forwardUntouched(java.util.function.Predicate<org.eclipse.californium.core.coap.Request> p) {
        forwardUntouched = Objects.requireNonNull(p);
        return this;
    }

    /**
     * Whether messages may carry an OSCORE layer inside this endpoint's one (see
     * {@link ProtectionPipeline#ProtectionPipeline(ExtensionOptionRegistry, InnerObserve, boolean)}).
     * Default off.
     */
    public OscoreEndpointBuilder nesting(boolean on) {
        nesting = on;
        return this;
    }

    /**
     * The most OSCORE layers this endpoint adds to one request (OCP-04): a request bound to more
     * is refused, not sent (default {@value #DEFAULT_MAX_OSCORE_LAYERS}).
     */
    public OscoreEndpointBuilder maxOscoreLayers(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("maxOscoreLayers must be at least 1");
        }
        maxOscoreLayers = n;
        return this;
    }

    /**
     * A proxy's fast path: every datagram the bound socket receives is offered to {@code p} first,
     * on the receiving thread; one it returns true for has been handled and never reaches the
     * stack (no deduplication, no exchange, no OSCORE layer). Default: none.
     */
    public OscoreEndpointBuilder datagramsFirst(java.util.function.Predicate<org.eclipse.californium.elements.RawData> p) {
        datagramsFirst = Objects.requireNonNull(p);
        return this;
    }

    /** How the parser treats responses it cannot take as they are (default: {@link ResponseParsing#STANDARD}). */
    public OscoreEndpointBuilder responseParsing(ResponseParsing p) {
        responseParsing = Objects.requireNonNull(p);
        return this;
    }

    /** The most client requests awaiting responses at once; past it requests are refused (default 10000). */
    public OscoreEndpointBuilder maxClientExchanges(int n) { maxClientExchanges = n; return this; }

    /**
     * Californium's defaults, without the properties file Configuration.getStandard() would
     * write, and with bounded state under load: {@link #DEDUPLICATION_MAX_ENTRIES},
     * {@link #MAX_PENDING_DATAGRAMS} and an outgoing queue of {@value #DEFAULT_OUTGOING_CAPACITY}
     * datagrams.
     */
    public static Configuration defaultConfiguration() {
        CoapConfig.register();
        UdpConfig.register();
        Configuration.addDefaultModule(LIMITS);
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(UdpConfig.UDP_CONNECTOR_OUT_CAPACITY, DEFAULT_OUTGOING_CAPACITY);
        return c;
    }

    /**
     * The deduplicator of an endpoint with {@code config}: {@link BoundedDeduplicator} for
     * {@code MARK_AND_SWEEP} (per peer too for {@code PEERS_MARK_AND_SWEEP}), none for
     * {@code NO_DEDUPLICATOR}. {@code CROP_ROTATION} has no bound and is refused.
     */
    static Deduplicator deduplicator(Configuration config) {
        String type = config.get(CoapConfig.DEDUPLICATOR);
        int max = config.get(DEDUPLICATION_MAX_ENTRIES);
        switch (type) {
            case CoapConfig.DEDUPLICATOR_MARK_AND_SWEEP:
                return new BoundedDeduplicator(config, max, 0);
            case CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP:
                return new BoundedDeduplicator(config, max, config.get(CoapConfig.PEERS_MARK_AND_SWEEP_MESSAGES));
            case CoapConfig.NO_DEDUPLICATOR:
                return new NoDeduplicator();
            default:
                throw new IllegalArgumentException("deduplicator " + type + " is not bounded; use "
                        + CoapConfig.DEDUPLICATOR_MARK_AND_SWEEP + ", " + CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP
                        + " or " + CoapConfig.NO_DEDUPLICATOR);
        }
    }

    /**
     * A plain CoAP endpoint (no OSCORE layer) with the same bounded state as the OSCORE ones:
     * the {@link #deduplicator} of {@code cfg}, and at most {@link #MAX_PENDING_DATAGRAMS} waiting.
     * For a proxy's unprotected upstream side, whose incoming notifications Californium's own
     * deduplicator would keep without a ceiling for the exchange lifetime.
     */
    public static CoapEndpoint boundedPlainEndpoint(Configuration cfg, InetSocketAddress address, ExtensionOptionRegistry extensions) {
        return boundedPlainEndpoint(cfg, address, extensions, ResponseParsing.STANDARD);
    }

    /** {@link #boundedPlainEndpoint(Configuration, InetSocketAddress, ExtensionOptionRegistry)} whose parser treats responses as {@code responses} says. */
    public static CoapEndpoint boundedPlainEndpoint(Configuration cfg, InetSocketAddress address, ExtensionOptionRegistry extensions,
                                                    ResponseParsing responses) {
        TokenGenerator tokens = new RandomTokenGenerator(cfg);
        InMemoryMessageExchangeStore exchanges = new InMemoryMessageExchangeStore(cfg, tokens);
        exchanges.setDeduplicator(deduplicator(cfg));
        InboundLimit inbound = new InboundLimit(cfg);
        CoapEndpoint.Builder b = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setOptionRegistry(extensions.californiumRegistry()).setTokenGenerator(tokens).setMessageExchangeStore(exchanges);
        b.setDataSerializerAndParser(new UdpDataSerializer(),
                inbound.parser(cfg.get(CoapConfig.STRICT_EMPTY_MESSAGE_FORMAT), extensions.californiumRegistry(), responses));
        b.setConnector(limitedConnector(address, cfg, inbound, null));
        return b.build();
    }

    /**
     * A UDP connector whose datagrams count against {@code inbound}; with {@code first}, each is
     * offered to it first and reaches the stack only when it returns false (a proxy's fast path).
     */
    private static UDPConnector limitedConnector(InetSocketAddress address, Configuration cfg, InboundLimit inbound,
                                                 java.util.function.Predicate<org.eclipse.californium.elements.RawData> first) {
        return new UDPConnector(address, cfg) {
            @Override
            public void setRawDataReceiver(RawDataChannel receiver) {
                RawDataChannel stack = inbound.wrap(receiver);
                super.setRawDataReceiver(first == null ? stack : raw -> {
                    if (!first.test(raw)) {
                        stack.receiveData(raw);
                    }
                });
            }

            @Override
            public synchronized void start() throws java.io.IOException {
                inbound.reset();
                super.start();
            }
        };
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
        OscoreLayer layer = new OscoreLayer(new ProtectionPipeline(extensions, innerObserve, nesting), server, clientBinding, trace,
                echoRetry, unprotected, maxClientExchanges, deterministicAllowed, maxOscoreLayers);
        layer.forwardUntouched(forwardUntouched);
        layer.deterministicPhantoms(deterministicPhantoms);
        OscoreObservationStore observations = new OscoreObservationStore(cfg);
        observations.onRemove(layer::observationRemoved);
        TokenGenerator tokens = tokenGenerator != null ? tokenGenerator : new RandomTokenGenerator(cfg);
        InMemoryMessageExchangeStore exchanges = new InMemoryMessageExchangeStore(cfg, tokens);
        Deduplicator dedup = deduplicator(cfg);
        exchanges.setDeduplicator(dedup);
        if (dedup instanceof BoundedDeduplicator) {
            layer.forgetRejectedWith(((BoundedDeduplicator) dedup)::forget);
        }
        boolean tcp = connector != null && CoAP.isTcpProtocol(connector.getProtocol());
        CoapEndpoint.Builder b = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setOptionRegistry(extensions.californiumRegistry())
                .setObservationStore(observations)
                .setTokenGenerator(tokens)
                .setMessageExchangeStore(exchanges)
                .setCoapStackFactory((protocol, tag, c, outbox, arg) -> tcp
                        ? new OscoreTcpStack(tag, c, outbox, layer) : new OscoreUdpStack(tag, c, outbox, layer));
        if (tcp) {
            // RFC 8323 framing; a TCP connector bounds its own input (dev.coterie.oscore.tcp.SignalingHandler)
            b.setDataSerializerAndParser(new TcpDataSerializer(), new TcpDataParser(extensions.californiumRegistry()));
            b.setConnector(connector);
            CoapEndpoint endpoint = b.build();
            endpoint.addInterceptor(layer.observationEndInterceptor());
            LAYERS.put(endpoint, layer);
            return endpoint;
        }
        InboundLimit inbound = inboundLimit != null ? inboundLimit : new InboundLimit(cfg);
        b.setDataSerializerAndParser(new UdpDataSerializer(),
                inbound.parser(cfg.get(CoapConfig.STRICT_EMPTY_MESSAGE_FORMAT), extensions.californiumRegistry(), responseParsing));
        b.setConnector(connector != null ? connector : limitedConnector(address, cfg, inbound, datagramsFirst));
        CoapEndpoint endpoint = b.build();
        endpoint.addInterceptor(layer.observationEndInterceptor());
        LAYERS.put(endpoint, layer);
        return endpoint;
    }
}
