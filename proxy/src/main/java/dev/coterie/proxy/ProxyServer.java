package dev.coterie.proxy;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreLayer;
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
    private final CoapEndpoint plainUpstream;
    private final CoapEndpoint oscoreUpstream;
    private final Forwarder forwarder;
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final ResponseCache cache;
    private final AdminServer admin;
    private final ScheduledExecutorService timer;
    private final List<OscoreContext> contexts = new ArrayList<>();
    private final ForwardTarget.Numbers numbers;

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
        plainUpstream = OscoreEndpointBuilder.boundedPlainEndpoint(upstreamCfg, config.upstreamBind(), extensions);
        ClientContextBinding binding = new ClientContextBinding();
        oscoreUpstream = originContexts.isEmpty() ? null : new OscoreEndpointBuilder().configuration(cfg)
                .bind(new InetSocketAddress(config.upstreamBind().getAddress(), 0)).clientBinding(binding)
                .maxClientExchanges(config.limits().exchanges()).nesting(true).trace(metrics).build();
        SourceScopedContexts clients = clientResolver(config, clientContexts);
        forwarder = new Forwarder(policyOf(config), config.limits(), numbers, metrics, cache, plainUpstream, oscoreUpstream,
                binding, originContexts, timer, this::listenAddresses, config.nextProxy(), cfg);
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
        front = new CoapServer(cfg);
        for (InetSocketAddress a : config.listen()) {
            CoapEndpoint ep = new OscoreEndpointBuilder().configuration(cfg).bind(a).serverContexts(clients)
                    .unprotectedRequests(OscoreLayer.UnprotectedRequests.DELIVER)
                    .forwardUntouched(forwarder::forwardUntouched).nesting(true).trace(metrics).build();
            front.addEndpoint(ep);
            frontEndpoints.add(ep);
        }
        front.setMessageDeliverer(forwarder);
        admin = config.admin() == null ? null : new AdminServer(config.admin(), metrics);
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

    public ProxyServer start() throws IOException {
        plainUpstream.start();
        if (oscoreUpstream != null) {
            oscoreUpstream.start();
        }
        front.start();
        if (admin != null) {
            admin.start();
        }
        LOG.info("proxy listening on {}", listenAddresses());
        return this;
    }

    /** Routes, access control and the forward-proxy switch from {@code c}; exchanges in flight go on. */
    public void reload(ProxyConfig c) {
        forwarder.policy(policyOf(c));
        LOG.info("reloaded routes ({}) and access control ({} rules)", c.routes().size(), c.access().size());
    }

    public List<InetSocketAddress> listenAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (Endpoint e : frontEndpoints) {
            out.add(e.getAddress());
        }
        return out;
    }

    public InetSocketAddress adminAddress() {
        return admin == null ? null : admin.address();
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public ResponseCache cache() {
        return cache;
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.stop();
        }
        front.stop();
        front.destroy();
        plainUpstream.destroy();
        if (oscoreUpstream != null) {
            oscoreUpstream.destroy();
        }
        timer.shutdownNow();
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
