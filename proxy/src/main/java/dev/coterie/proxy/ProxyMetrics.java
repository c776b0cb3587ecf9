package dev.coterie.proxy;

import dev.coterie.oscore.SecurityTrace;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.eclipse.californium.core.coap.Message;

/**
 * The proxy's counters, in Micrometer's Prometheus registry. Labels come from fixed sets (an
 * outcome, a verification-failure reason from RFC 8613's diagnostics), never from message
 * contents, so no label or value can carry key material.
 */
public final class ProxyMetrics implements SecurityTrace {
    /** How a request ended at the proxy. */
    public enum Outcome {
        FORWARDED, CACHE_HIT, REVALIDATED, DENIED, NO_ROUTE, NOT_A_FORWARD_PROXY, BAD_REQUEST, BAD_OPTION, HOP_LIMIT,
        TIMEOUT, BAD_GATEWAY, OVERLOADED, RATE_LIMITED, LOCAL, OBSERVE_JOINED, GROUP_FORWARDED, GROUP_STOPPED, GROUP_OBSERVATION_JOINED;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private static final Map<String, String> REASONS = Map.of(
            "Decryption failed", "decryption_failed",
            "Security context not found", "context_not_found",
            "Replay detected", "replay",
            "Failed to decode COSE", "decode_failed",
            "Group mode not supported", "mode_not_supported",
            "Pairwise mode not supported", "mode_not_supported");

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<Outcome, Counter> outcomes = new ConcurrentHashMap<>();
    private final Map<String, Counter> failures = new ConcurrentHashMap<>();
    private final Counter hits;
    private final Counter misses;
    private final Counter evictions;
    private final Counter layersAdded;
    private final Counter layersRemoved;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger observers = new AtomicInteger();

    public ProxyMetrics() {
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, Counter.builder("coterie.proxy.requests").description("Requests by how they ended")
                    .tag("outcome", o.label()).register(registry));
        }
        hits = Counter.builder("coterie.proxy.cache.hits").description("Requests answered from the cache").register(registry);
        misses = Counter.builder("coterie.proxy.cache.misses").description("Cacheable requests not in the cache")
                .register(registry);
        evictions = Counter.builder("coterie.proxy.cache.evictions").description("Entries evicted by the size bounds")
                .register(registry);
        layersAdded = Counter.builder("coterie.proxy.oscore.layers.added").description("OSCORE layers the proxy added")
                .register(registry);
        layersRemoved = Counter.builder("coterie.proxy.oscore.layers.removed").description("OSCORE layers the proxy removed")
                .register(registry);
        Gauge.builder("coterie.proxy.exchanges.in.flight", inFlight, AtomicInteger::get)
                .description("Forwarded requests awaiting the origin").register(registry);
        Gauge.builder("coterie.proxy.observers", observers, AtomicInteger::get).description("Observers of relayed resources")
                .register(registry);
    }

    public void outcome(Outcome o) {
        outcomes.get(o).increment();
    }

    private final Counter groupRelayed = Counter.builder("coterie.proxy.group.responses.relayed")
            .description("Responses to group requests relayed to their clients, with Reply-From").register(registry);
    private final Counter groupDropped = Counter.builder("coterie.proxy.group.responses.dropped")
            .description("Responses to group requests not relayed: late, duplicate, unusable or after a stop").register(registry);

    private final Map<String, Counter> httpAnswers = new ConcurrentHashMap<>();
    private final AtomicInteger httpConnections = new AtomicInteger();
    private final Counter httpRefused = Counter.builder("coterie.proxy.http.connections.refused")
            .description("HTTP connections past http.max_connections, answered 503 and closed").register(registry);

    {
        for (String c : new String[] {"2xx", "3xx", "4xx", "5xx"}) {
            httpAnswers.put(c, Counter.builder("coterie.proxy.http.responses").description("HTTP front end answers by status class")
                    .tag("status", c).register(registry));
        }
        Gauge.builder("coterie.proxy.http.connections", httpConnections, AtomicInteger::get)
                .description("Open HTTP front end connections").register(registry);
    }

    /** One answer of the HTTP front end, counted by its status class. */
    void httpAnswered(int status) {
        Counter c = httpAnswers.get((status / 100) + "xx");
        if (c != null) {
            c.increment();
        }
    }

    AtomicInteger httpConnections() { return httpConnections; }
    void httpRefused() { httpRefused.increment(); }
    public double httpAnswers(String statusClass) {
        Counter c = httpAnswers.get(statusClass);
        return c == null ? 0 : c.count();
    }
    public double httpConnectionsRefused() { return httpRefused.count(); }

    /** The counts of the coap+tcp (index 0) and coaps+tcp (1) listeners. */
    private final java.util.List<java.util.List<dev.coterie.oscore.tcp.ConnectionCounts>> tcpCounts = java.util.List.of(
            new java.util.concurrent.CopyOnWriteArrayList<>(), new java.util.concurrent.CopyOnWriteArrayList<>());

    {
        for (int i = 0; i < 2; i++) {
            java.util.List<dev.coterie.oscore.tcp.ConnectionCounts> of = tcpCounts.get(i);
            String transport = i == 0 ? "tcp" : "tls";
            Gauge.builder("coterie.proxy.tcp.connections", of, l -> l.stream().mapToInt(c -> c.open()).sum())
                    .description("Open client connections of the coap+tcp and coaps+tcp listeners").tag("transport", transport)
                    .register(registry);
            io.micrometer.core.instrument.FunctionCounter.builder("coterie.proxy.tcp.connections.refused", of,
                            l -> l.stream().mapToLong(c -> c.refused()).sum())
                    .description("Client connections closed on arrival: tcp.max_connections reached").tag("transport", transport)
                    .register(registry);
        }
    }

    /** The connection counts of a new TCP ({@code tls} false) or TLS listener, counted in the metrics. */
    dev.coterie.oscore.tcp.ConnectionCounts tcpListener(boolean tls) {
        dev.coterie.oscore.tcp.ConnectionCounts c = new dev.coterie.oscore.tcp.ConnectionCounts();
        tcpCounts.get(tls ? 1 : 0).add(c);
        return c;
    }

    /** Open connections of the TCP ({@code tls} false) or TLS listeners. */
    public int tcpConnections(boolean tls) {
        return tcpCounts.get(tls ? 1 : 0).stream().mapToInt(c -> c.open()).sum();
    }

    /** Connections the TCP ({@code tls} false) or TLS listeners closed on arrival (the connection limit). */
    public long tcpConnectionsRefused(boolean tls) {
        return tcpCounts.get(tls ? 1 : 0).stream().mapToLong(c -> c.refused()).sum();
    }

    private final Counter groupNotifications = Counter.builder("coterie.proxy.group.notifications")
            .description("Notifications received from group observations (one per multicast notification, before fan-out)")
            .register(registry);

    private final Counter groupNotificationsDropped = Counter.builder("coterie.proxy.group.notifications.dropped")
            .description("Multicast notifications of a ticket request's group observation dropped before fan-out: "
                    + "Observe or Partial IV not advancing (the proxy cannot verify Group OSCORE signatures)")
            .register(registry);

    public void groupNotification() { groupNotifications.increment(); }
    public void groupNotificationDropped() { groupNotificationsDropped.increment(); }
    public double groupNotificationDroppedCount() { return groupNotificationsDropped.count(); }
    public double groupNotificationCount() { return groupNotifications.count(); }
    public void groupRelayed() { groupRelayed.increment(); }
    public void groupDropped() { groupDropped.increment(); }
    public double groupRelayedCount() { return groupRelayed.count(); }
    public double groupDroppedCount() { return groupDropped.count(); }

    public void cacheHit() { hits.increment(); }
    public void cacheMiss() { misses.increment(); }
    void cacheEviction() { evictions.increment(); }
    public AtomicInteger inFlight() { return inFlight; }
    public AtomicInteger observers() { return observers; }

    /** A gauge read from {@code value} (cache entries and bytes). */
    void gauge(String name, String description, Supplier<Number> value) {
        Gauge.builder(name, value).description(description).register(registry);
    }

    public double count(Outcome o) {
        return outcomes.get(o).count();
    }

    public double layersAdded() { return layersAdded.count(); }
    public double layersRemoved() { return layersRemoved.count(); }
    public double cacheHits() { return hits.count(); }
    public double cacheMisses() { return misses.count(); }
    public double cacheEvictions() { return evictions.count(); }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }

    /** Counts layers and verification failures from the OSCORE layers of both sides. */
    @Override
    public void onMessage(Event event, Message plain, Message onWire, Info info) {
        switch (event) {
            case REQUEST_VERIFIED, RESPONSE_VERIFIED -> layersRemoved.increment();
            case REQUEST_PROTECTED, RESPONSE_PROTECTED -> layersAdded.increment();
            case REJECTED -> {
                String reason = info == null || info.note() == null ? "other" : REASONS.getOrDefault(info.note(), "other");
                failures.computeIfAbsent(reason, r -> Counter.builder("coterie.proxy.oscore.verification.failures")
                        .description("Messages whose OSCORE layer did not verify, by reason").tag("reason", r)
                        .register(registry)).increment();
            }
            default -> { }
        }
    }
}
