package dev.coterie.proxy;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreLayer;
import dev.coterie.oscore.ResponseParsing;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Coterie proxy: front endpoints that remove the clients' hop layers, the forwarder with its
 * access control and cache, upstream endpoints (plain, and OSCORE for origins with a hop
 * context), and the admin endpoint. {@link #close()} stops everything and closes the hop
 * contexts, which saves their security state.
 */
public final class ProxyServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);

    private final CoapServer front;
    private final List<CoapEndpoint> frontEndpoints = new ArrayList<>();
    /** The coap+tcp listeners, then the coaps+tcp ones, and the field each comes from. */
    private final List<CoapEndpoint> tcpEndpoints = new ArrayList<>();
    private final List<String> tcpFields = new ArrayList<>();
    private final List<InetSocketAddress> tcpBinds = new ArrayList<>();
    private final CoapEndpoint plainUpstream;
    private final CoapEndpoint oscoreUpstream;
    private final TcpUpstreams tcpUpstreams;
    private final Forwarder forwarder;
    private final FastPath fast;
    private final GroupForwarder groups;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final ResponseCache cache;
    private AdminServer admin;
    private final HttpFrontEnd http;
    private final ScheduledExecutorService timer;
    private final List<OscoreContext> contexts = new ArrayList<>();
    private final ForwardTarget.Numbers numbers;
    private final UpstreamFailures failures = new UpstreamFailures();
    /** The configuration the proxy started with: what a reload cannot change. */
    private final ProxyConfig started;
    private final Configuration frontConfig;

    /**
     * @param clientContexts hop contexts shared with clients (the proxy verifies their requests), in
     *        the order of {@code config.clientHops()} when the configuration names any (their
     *        {@code sources} apply to them, OCP-09)
     * @param originContexts hop contexts shared with origins (the proxy protects requests to them)
     */
    public ProxyServer(ProxyConfig config, List<OscoreContext> clientContexts, Map<ProxyConfig.Origin, OscoreContext> originContexts)
            throws IOException {
        this(config, clientContexts, originContexts, OscoreEndpointBuilder.defaultConfiguration());
    }

    /**
     * As above, with the Californium configuration of every endpoint given (by default
     * {@link OscoreEndpointBuilder#defaultConfiguration()}): a small {@code MAX_MESSAGE_SIZE} /
     * {@code PREFERRED_BLOCK_SIZE} for a constrained link, where the OSCORE endpoints then use
     * outer block-wise (RFC 8613 Section 4.1.3.4.2). The MID tracker is set to NULL in it.
     */
    public ProxyServer(ProxyConfig config, List<OscoreContext> clientContexts, Map<ProxyConfig.Origin, OscoreContext> originContexts,
                       Configuration cfg) throws IOException {
        started = config;
        ExtensionOptionRegistry extensions = ExtensionOptionRegistry.defaults();
        numbers = ForwardTarget.Numbers.of(extensions);
        // Californium's default MID tracker leases every Message ID for EXCHANGE_LIFETIME: one
        // upstream endpoint talking to one origin runs out after 65536 messages and then manages
        // about 265 a second (every further request 5.02). The other commands set NULL too
        // (app Endpoints.configuration()); deduplication stays bounded either way.
        cfg.set(org.eclipse.californium.core.config.CoapConfig.MID_TRACKER,
                org.eclipse.californium.core.config.CoapConfig.TrackerMode.NULL);
        contexts.addAll(clientContexts);
        contexts.addAll(originContexts.values());
        java.util.concurrent.ScheduledThreadPoolExecutor t0 = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "coterie-proxy-timer");
            t.setDaemon(true);
            return t;
        });
        // one timeout per forwarded request, nearly all cancelled: without this they stay queued
        // until they would have fired (rate x timeout entries, sifted on every schedule)
        t0.setRemoveOnCancelPolicy(true);
        timer = t0;
        cache = config.cache().enabled()
                ? new ResponseCache(config.cache(), metrics, extensions.byName(ExtensionOptionRegistry.REQUEST_HASH).number(),
                        numbers, System::nanoTime)
                : null;
        if (cache != null) {
            metrics.gauge("coterie.proxy.cache.entries", "Entries in the cache", cache::size);
            metrics.gauge("coterie.proxy.cache.bytes", "Weighed bytes in the cache", cache::weight);
        }
        // Californium's default deduplicator here would keep every incoming response and
        // notification for EXCHANGE_LIFETIME (247 s) without a bound (about 6 KB per forwarded
        // request): per peer (64 messages per origin) and under the global ceiling instead.
        Configuration upstreamCfg = new Configuration(cfg);
        upstreamCfg.set(org.eclipse.californium.core.config.CoapConfig.DEDUPLICATOR,
                org.eclipse.californium.core.config.CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
        // upstream parsers keep unrecognised options of responses for the forwarder to judge (RFC 7252 5.7.1,
        // OCP-02) and report responses they cannot parse, which Californium would drop without a word
        // both plain upstream sockets (the stack's and the fast path's) keep unrecognised options and report malformed answers
        ResponseParsing plainParsing = new ResponseParsing(true, failures::malformed);
        plainUpstream = OscoreEndpointBuilder.boundedPlainEndpoint(upstreamCfg, config.upstreamBind(), extensions, plainParsing);
        ClientContextBinding binding = new ClientContextBinding();
        // an origin hop's outer options are not relayed (only what its layer verified is), so Californium's
        // handling of unrecognised outer options stays: elective ones dropped, a critical one makes it malformed
        oscoreUpstream = originContexts.isEmpty() ? null : new OscoreEndpointBuilder().configuration(cfg)
                .bind(new InetSocketAddress(config.upstreamBind().getAddress(), 0)).clientBinding(binding)
                .maxClientExchanges(config.limits().exchanges()).nesting(true)
                .responseParsing(new ResponseParsing(false, failures::malformed))
                .trace((event, plain, wire, info) -> {
                    metrics.onMessage(event, plain, wire, info);
                    failures.onMessage(event, plain, wire, info);
                }).build();
        if (oscoreUpstream != null) {
            oscoreUpstream.addInterceptor(failures.unprotectedResponses());
        }
        SourceScopedContexts clients = clientResolver(config, clientContexts);
        forwarder = new Forwarder(policyOf(config), config.limits(), numbers, metrics, cache, plainUpstream, oscoreUpstream,
                binding, originContexts, timer, this::listenAddresses, config.nextProxy(), failures,
                extensions.californiumRegistry(), cfg);
        // a hop layer for this proxy is one whose context is eligible for the request's source: a
        // context not eligible there is, for that request, as unknown as any other kid (OCP-09)
        forwarder.hopLayers(r -> {
            try {
                dev.coterie.oscore.OscoreOptionValue v = dev.coterie.oscore.OscoreOptionValue.decode(r.getOptions().getOscore(), false);
                return clients.isHopLayerFor(v.kidContext(), v.kid(), SourceScopedContexts.sourceOf(r));
            } catch (dev.coterie.oscore.OscoreException e) {
                return false;
            }
        });
        plainUpstream.addNotificationListener(forwarder::onNotification);
        if (oscoreUpstream != null) {
            oscoreUpstream.addNotificationListener(forwarder::onNotification);
        }
        // coap+tcp and coaps+tcp origins: their clients are made with the first request to each
        tcpUpstreams = new TcpUpstreams(config.upstreamTcp(), cfg, extensions,
                ep -> ep.addNotificationListener(forwarder::onNotification));
        forwarder.tcpUpstreams(tcpUpstreams);
        fast = config.fastPath()
                ? new FastPath(forwarder, numbers, extensions.californiumRegistry(), plainParsing, config.upstreamBind(),
                        config.limits().upstreamTimeoutMs()) : null;
        forwarder.fastPath(fast);
        boolean chain = config.nextProxy() != null && config.groupForwarding().throughNextProxy();
        groups = config.groups().isEmpty() && !chain ? null : new GroupForwarder(config.groups(), config.groupForwarding(),
                config.upstreamBind(), metrics, timer, plainParsing.udpParser(false, extensions.californiumRegistry(), () -> { }),
                (req, resp) -> forwarder.refusal(req, resp, false), numbers, cache, extensions, chain,
                () -> metrics.inFlight().decrementAndGet());
        forwarder.groups(config.groups(), groups);
        forwarder.groupObservations(config.groupObservations());
        // the front endpoints' own Message IDs stay below the fast path's
        Configuration frontCfg = new Configuration(cfg);
        frontCfg.set(org.eclipse.californium.core.config.CoapConfig.MULTICAST_BASE_MID, FastPath.FIRST_MID);
        front = new CoapServer(frontCfg);
        frontConfig = frontCfg;
        for (InetSocketAddress a : config.listen()) {
            OscoreEndpointBuilder b = new OscoreEndpointBuilder().configuration(frontCfg).bind(a).serverContexts(clients)
                    .unprotectedRequests(OscoreLayer.UnprotectedRequests.DELIVER)
                    .forwardUntouched(forwarder::forwardUntouched).nesting(true).trace(metrics);
            FastPath.Front side = fast == null ? null : fast.front();
            if (side != null) {
                b.datagramsFirst(raw -> fast.offer(raw, side));
            }
            CoapEndpoint ep = b.build();
            ep.addInterceptor(new org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter() {
                @Override
                public void receiveEmptyMessage(org.eclipse.californium.core.coap.EmptyMessage message) {
                    if (message.getType() == org.eclipse.californium.core.coap.CoAP.Type.RST) {
                        forwarder.reset(message);
                    }
                }
            });
            if (side != null) {
                side.connector(ep.getConnector());
            }
            front.addEndpoint(ep);
            frontEndpoints.add(ep);
        }
        addTcpListeners(config, cfg, clients);
        front.setMessageDeliverer(forwarder);
        http = config.http() == null ? null : new HttpFrontEnd(config, forwarder, numbers, metrics);
    }

    /**
     * The coap+tcp and coaps+tcp listeners (RFC 8323): the same client hop contexts and forwarder
     * as the UDP ones, without the fast path (datagrams only) and without Message IDs; a relayed
     * observation of a client on one of them ends when its connection closes (RFC 8323 Section 7.2).
     */
    private void addTcpListeners(ProxyConfig config, Configuration cfg, SourceScopedContexts clients) throws IOException {
        if (config.listenTcp().isEmpty() && config.tls() == null) {
            return;
        }
        dev.coterie.oscore.tcp.TcpObservations observations = new dev.coterie.oscore.tcp.TcpObservations();
        forwarder.onObserveRelation(observations::remember);
        javax.net.ssl.SSLContext tls = config.tls() == null ? null : ProxyConfig.tlsContext(config.tls());
        List<InetSocketAddress> tlsListen = config.tls() == null ? List.of() : config.tls().listen();
        int all = config.listenTcp().size() + tlsListen.size();
        for (int i = 0; i < all; i++) {
            boolean secure = i >= config.listenTcp().size();
            int j = secure ? i - config.listenTcp().size() : i;
            InetSocketAddress a = secure ? tlsListen.get(j) : config.listenTcp().get(j);
            Configuration tcpCfg = new Configuration(cfg);
            org.eclipse.californium.elements.Connector connector = secure
                    ? dev.coterie.oscore.tcp.TcpConnectors.tlsServer(tls, config.tls().clientTrust() != null, a, tcpCfg,
                            config.tcp(), observations, metrics.tcpListener(true))
                    : dev.coterie.oscore.tcp.TcpConnectors.server(a, tcpCfg, config.tcp(), observations, metrics.tcpListener(false));
            CoapEndpoint ep = new OscoreEndpointBuilder().configuration(tcpCfg).connector(connector).serverContexts(clients)
                    .unprotectedRequests(OscoreLayer.UnprotectedRequests.DELIVER)
                    .forwardUntouched(forwarder::forwardUntouched).nesting(true).trace(metrics).build();
            front.addEndpoint(ep);
            tcpEndpoints.add(ep);
            tcpFields.add(secure ? "listen_tls.listen[" + j + "]" : "listen_tcp[" + j + "]");
            tcpBinds.add(a);
        }
    }

    /**
     * The client hop contexts, each with the sources {@code config.clientHops()} gives it (the
     * same order). A configuration that names no client contexts leaves every context usable from
     * any source (contexts built in code, as tests and the demo do).
     */
    private static SourceScopedContexts clientResolver(ProxyConfig config, List<OscoreContext> clientContexts) {
        List<ProxyConfig.ClientHop> hops = config.clientHops();
        if (hops.isEmpty()) {
            return SourceScopedContexts.anySource(clientContexts);
        }
        if (hops.size() != clientContexts.size()) {
            throw new IllegalArgumentException("the configuration names " + hops.size() + " client context(s), but "
                    + clientContexts.size() + " were opened");
        }
        List<List<SourcePrefix>> sources = new ArrayList<>();
        for (ProxyConfig.ClientHop h : hops) {
            sources.add(h.sources());
        }
        return new SourceScopedContexts(clientContexts, sources);
    }

    static Forwarder.Policy policyOf(ProxyConfig c) {
        return new Forwarder.Policy(c.forwardProxy(), c.routes(), new AccessControl(c.access()));
    }

    /**
     * Binds every address and starts. An address that cannot be bound is a {@link ListenFailure}
     * naming it, and nothing stays bound. (Each endpoint is started here: CoapServer.start() logs
     * a failed endpoint with its stack trace and goes on with the others.)
     */
    public ProxyServer start() throws IOException {
        try {
            bind(plainUpstream, started.upstreamBind(), "upstream_bind");
            if (oscoreUpstream != null) {
                bind(oscoreUpstream, new InetSocketAddress(started.upstreamBind().getAddress(), 0), "upstream_bind");
            }
            if (fast != null) {
                fast.start();
            }
            if (groups != null) {
                groups.start();
            }
            // the executors CoapServer.start() would make, given first: an endpoint refuses them once started
            front.setExecutors(org.eclipse.californium.elements.util.ExecutorsUtil.newScheduledThreadPool(
                            frontConfig.get(org.eclipse.californium.core.config.CoapConfig.PROTOCOL_STAGE_THREAD_COUNT),
                            new org.eclipse.californium.elements.util.NamedThreadFactory("CoapServer(main)#")),
                    org.eclipse.californium.elements.util.ExecutorsUtil.newDefaultSecondaryScheduler("CoapServer(secondary)#"),
                    false);
            for (int i = 0; i < frontEndpoints.size(); i++) {
                bind(frontEndpoints.get(i), started.listen().get(i), "listen[" + i + "]");
            }
            for (int i = 0; i < tcpEndpoints.size(); i++) {
                bind(tcpEndpoints.get(i), tcpBinds.get(i), tcpFields.get(i));
            }
            front.start(); // its endpoints are started: only marks the server running
            if (http != null) {
                http.start();
            }
            if (started.admin() != null) {
                try {
                    admin = new AdminServer(started.admin(), metrics);
                } catch (IOException e) {
                    throw new ListenFailure("admin.listen", started.admin(), e);
                }
                admin.start();
            }
        } catch (IOException | RuntimeException e) {
            stopEndpoints();
            throw e;
        }
        LOG.info("proxy listening on {}{}", listenAddresses(), tcpListeners().isEmpty() ? "" : " and " + tcpListeners());
        return this;
    }

    private static void bind(CoapEndpoint ep, InetSocketAddress address, String field) throws ListenFailure {
        try {
            ep.start();
        } catch (IOException e) {
            throw new ListenFailure(field, address, e);
        }
    }

    /**
     * Routes, access control and the forward-proxy switch from {@code c}; exchanges in flight go
     * on. Every other field is read at start only: those that differ from the running
     * configuration are named in a warning and returned, so that a change never goes unnoticed.
     *
     * @return the fields of {@code c} that take effect only after a restart, in file order (empty if none)
     */
    public List<String> reload(ProxyConfig c) {
        forwarder.policy(policyOf(c));
        LOG.info("reloaded routes ({}) and access control ({} rules)", c.routes().size(), c.access().size());
        List<String> later = restartOnly(started, c);
        if (!later.isEmpty()) {
            LOG.warn("{} changed; takes effect after a restart", String.join(", ", later));
        }
        return later;
    }

    /**
     * SIGHUP: reads {@code file} and {@link #reload(ProxyConfig) reloads} it. A file with a
     * mistake changes nothing: the running policy stays and the mistake is logged (file, field
     * and why; never a value that could hold key material, see {@link ConfigException}).
     *
     * @return whether the file was valid and its policy applied
     */
    public boolean reload(java.nio.file.Path file) {
        ProxyConfig c;
        try {
            c = ProxyConfig.load(file);
        } catch (ConfigException e) {
            LOG.warn("reload refused, keeping the running configuration: {}", e.getMessage());
            return false;
        }
        reload(c);
        return true;
    }

    /** The fields, in file order, in which {@code next} differs from {@code running} and that only a restart applies. */
    static List<String> restartOnly(ProxyConfig running, ProxyConfig next) {
        List<String> out = new ArrayList<>();
        differs(out, "listen", running.listen(), next.listen());
        differs(out, "upstream_bind", running.upstreamBind(), next.upstreamBind());
        differs(out, "max_oscore_layers", running.maxOscoreLayers(), next.maxOscoreLayers());
        differs(out, "client_contexts", running.clientHops(), next.clientHops());
        differs(out, "origin_contexts", running.originHops(), next.originHops());
        differs(out, "next_proxy", running.nextProxy(), next.nextProxy());
        differs(out, "fast_path", running.fastPath(), next.fastPath());
        differs(out, "groups", running.groups(), next.groups());
        differs(out, "group_forwarding", running.groupForwarding(), next.groupForwarding());
        differs(out, "group_observations", running.groupObservations(), next.groupObservations());
        ProxyConfig.Limits a = running.limits();
        ProxyConfig.Limits b = next.limits();
        differs(out, "limits.exchanges", a.exchanges(), b.exchanges());
        differs(out, "limits.observers", a.observers(), b.observers());
        differs(out, "limits.requests_per_second", a.requestsPerSecond(), b.requestsPerSecond());
        differs(out, "limits.burst", a.burst(), b.burst());
        differs(out, "limits.clients_tracked", a.clientsTracked(), b.clientsTracked());
        differs(out, "limits.upstream_timeout_ms", a.upstreamTimeoutMs(), b.upstreamTimeoutMs());
        differs(out, "limits.retry_after_s", a.retryAfterSeconds(), b.retryAfterSeconds());
        differs(out, "limits.hop_limit", a.hopLimit(), b.hopLimit());
        differs(out, "cache.enabled", running.cache().enabled(), next.cache().enabled());
        differs(out, "cache.max_entries", running.cache().maxEntries(), next.cache().maxEntries());
        differs(out, "cache.max_bytes", running.cache().maxBytes(), next.cache().maxBytes());
        differs(out, "admin.listen", running.admin(), next.admin());
        differs(out, "http", running.http(), next.http());
        differs(out, "listen_tcp", running.listenTcp(), next.listenTcp());
        differs(out, "listen_tls", running.tls(), next.tls());
        differs(out, "tcp", running.tcp(), next.tcp());
        differs(out, "upstream_tcp", running.upstreamTcp(), next.upstreamTcp());
        return out;
    }

    private static void differs(List<String> out, String field, Object running, Object next) {
        if (!java.util.Objects.equals(running, next)) {
            out.add(field);
        }
    }

    public List<InetSocketAddress> listenAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Endpoint e : frontEndpoints) {
            out.add(e.getAddress());
        }
        return out;
    }

    /** The coap+tcp listeners' bound addresses, in the order of listen_tcp. */
    public List<InetSocketAddress> tcpAddresses() {
        return tcpAddresses(false);
    }

    /** The coaps+tcp listeners' bound addresses, in the order of listen_tls.listen. */
    public List<InetSocketAddress> tlsAddresses() {
        return tcpAddresses(true);
    }

    private List<InetSocketAddress> tcpAddresses(boolean secure) {
        List<InetSocketAddress> out = new ArrayList<>();
        for (int i = 0; i < tcpEndpoints.size(); i++) {
            if (tcpFields.get(i).startsWith("listen_tls") == secure) {
                out.add(tcpEndpoints.get(i).getAddress());
            }
        }
        return out;
    }

    /** The TCP and TLS listeners as URIs (coap+tcp://..., coaps+tcp://...), for the log and the command line. */
    public List<String> tcpListeners() {
        List<String> out = new ArrayList<>();
        for (CoapEndpoint e : tcpEndpoints) {
            InetSocketAddress a = e.getAddress();
            String h = a.getAddress().getHostAddress();
            out.add(e.getUri().getScheme() + "://" + (h.indexOf(':') >= 0 ? "[" + h + "]" : h) + ":" + a.getPort());
        }
        return out;
    }

    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    /** Where the HTTP front end listens, or null when it is not configured (or not started). */
    public InetSocketAddress httpAddress() {
        return http == null ? null : http.address();
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    /** Requests that took the fast path (plain NON GET/FETCH), for tests and the benchmark. */
    public long fastPathRequests() {
        return fast == null ? 0 : fast.taken();
    }

    /** Group observations that ticket clients share now, one listener each (for tests). */
    public int ticketGroupObservations() {
        return forwarder.ticketRelayCount();
    }

    /** Group collections running (for tests). */
    public int groupCollections() {
        return groups == null ? 0 : groups.running();
    }

    public ResponseCache cache() {
        return cache;
    }

    /** Upstream requests still watched for an unusable answer (none once every exchange is over). */
    int upstreamWatches() {
        return failures.size();
    }

    /** Stops every endpoint and the timer; the hop contexts stay open. */
    private void stopEndpoints() {
        forwarder.closeRelays(); // relayed observations end, their group listeners close
        if (admin != null) {
            admin.stop();
        }
        if (http != null) {
            http.close();
        }
        front.stop();
        front.destroy();
        if (fast != null) {
            fast.close();
        }
        if (groups != null) {
            groups.close();
        }
        plainUpstream.destroy();
        if (oscoreUpstream != null) {
            oscoreUpstream.destroy();
        }
        tcpUpstreams.close();
        timer.shutdownNow();
    }

    @Override
    public void close() {
        stopEndpoints();
        for (OscoreContext c : contexts) {
            try {
                c.close();
            } catch (RuntimeException | dev.coterie.keystore.StateUnavailableException e) {
                LOG.warn("closing hop context {}: {}", c.name(), e.getClass().getSimpleName());
            }
        }
    }

    /** The map type the constructor takes, in configuration order. */
    public static Map<ProxyConfig.Origin, OscoreContext> originMap() {
        return new LinkedHashMap<>();
    }
}
