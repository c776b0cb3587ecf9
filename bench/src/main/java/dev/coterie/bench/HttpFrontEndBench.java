package dev.coterie.bench;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;

/**
 * The HTTP front end benchmark of issue 8: HTTP GET through the proxy's HTTP-to-CoAP front end
 * to one CoAP origin, against CoAP GET through the same proxy (the reference), in one run. One
 * Coterie proxy process ({@link CoterieProxyMain}) with its CoAP listener and its HTTP front end
 * ({@code http: {listen: '127.0.0.1:0', unauthenticated: allow}}, the cache on as by default);
 * one plain Californium origin here answering GET /x with {@link ProxyLoadDriver#PAYLOAD} and
 * Max-Age 0, so that nothing is cached and every request of either side is forwarded (checked
 * for each window: the origin's count of requests served, the proxy's forwarded and cache_hit
 * outcomes).
 * <ol>
 * <li>http: {@code connections} (default 64) HTTP/1.1 keep-alive connections, each a closed loop
 * of one {@code GET /hc/coap://127.0.0.1:ORIGIN/x} ({@link HttpLoad}); the front end maps it to
 * a CON GET with Proxy-Uri, handed to the forwarder;</li>
 * <li>coap, the reference: 64 NON GETs with that Proxy-Uri outstanding from one Californium
 * client ({@link Load}), as in {@link ProxyLoadDriver}'s "coterie" configuration (the proxy's
 * fast path).</li>
 * </ol>
 * Each is warmed up (default 30 s, in two halves: http, coap, http, coap), then measured in
 * windows (default 5 of 10 s each) taken in turn, in one order in a round and in the reverse order in the next, so that a drift of the
 * shared machine falls on both; the medians are reported with their ratio. Per window: good
 * responses per second and the CPU time (utime+stime from /proc/PID/stat) of the proxy process
 * and of this one (clients and origin) per response.
 *
 * <p>Usage: {@code HttpFrontEndBench [--warmup S] [--window S] [--windows N] [--connections N]
 * [--out FILE]}.
 */
public final class HttpFrontEndBench {
    /** Ramp between starting a load and opening its window, excluded from the figures. */
    static final long SETTLE_MS = 1000;

    private int warmupS = 30;
    private int windowS = 10;
    private int windows = 5;
    private int connections = ProxyLoadDriver.OUTSTANDING;
    private Path out;
    private final Path logs = Path.of("bench/target/http-logs");
    private long clkTck = 100;
    private final List<String> notes = new ArrayList<>();

    /**
     * One window of one side, and over the window with its ramp and drain (the load stopped at
     * both ends): answers, and the requests the origin served, the proxy forwarded and answered
     * from its cache.
     */
    record Measured(ProxyLoadDriver.Window w, double proxySysUs, long answered, long served, long forwarded, long cacheHits,
                    long http2xx, long fastPath) {
    }

    /** One side: its name, how to start and stop its load and count its answers, its windows. */
    private record Side(String name, Starter start, Stopper stop, LongSupplier answered, java.util.function.Supplier<String> problems,
                        List<Measured> windows) {
    }

    @FunctionalInterface
    private interface Starter {
        void start() throws Exception;
    }

    @FunctionalInterface
    private interface Stopper {
        void stop() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        HttpFrontEndBench b = new HttpFrontEndBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> b.warmupS = Integer.parseInt(args[++i]);
                case "--window" -> b.windowS = Integer.parseInt(args[++i]);
                case "--windows" -> b.windows = Integer.parseInt(args[++i]);
                case "--connections" -> b.connections = Integer.parseInt(args[++i]);
                case "--out" -> b.out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        b.run();
        System.exit(0);
    }

    /** The proxy: CoAP on an ephemeral port, the HTTP front end too, the cache on (its default), only the origin allowed. */
    static String yaml(int originPort, int connections) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "limits: {exchanges: 10000, requests_per_second: 1000000, burst: 10000000, upstream_timeout_ms: 5000}\n"
                + "cache: {enabled: true}\n"
                + "http: {listen: '127.0.0.1:0', unauthenticated: allow, max_connections: " + (connections + 16)
                + ", idle_timeout_s: 3600}\n"
                + "access:\n  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + originPort + "'}]}\n";
    }

    private void run() throws Exception {
        Files.createDirectories(logs);
        clkTck = ProxyLoadDriver.clockTicks();
        Configuration cfg = LoopbackThroughputBenchmark.config();
        LongAdder served = new LongAdder();
        CoapServer origin = new CoapServer(cfg);
        CoapEndpoint oep = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        origin.addEndpoint(oep);
        origin.add(ProxyLoadDriver.resource("x", 0, served));
        origin.start();
        int originPort = oep.getAddress().getPort();
        String target = "coap://127.0.0.1:" + originPort + "/x";
        Path yaml = logs.resolve("coterie-http.yaml");
        Files.writeString(yaml, yaml(originPort, connections));
        String loadBefore = GroupProxyBench.loadAverage();
        CoapEndpoint client = ProxyLoadDriver.plainClient(cfg);
        List<Side> sides;
        String counts0;
        String counts1;
        String heap;
        try (ProxyLoadDriver.Proc proxy = ProxyLoadDriver.Proc.start("coterie-http", logs, ProxyLoadDriver.proxyCommand(yaml), true)) {
            if (proxy.ports.length < 2) {
                throw new IllegalStateException("the proxy named no HTTP port: READY " + java.util.Arrays.toString(proxy.ports));
            }
            InetSocketAddress coapAt = new InetSocketAddress("127.0.0.1", proxy.port);
            InetSocketAddress httpAt = new InetSocketAddress("127.0.0.1", proxy.ports[1]);
            ProxyLoadDriver.waitReady(client, coapAt, () -> ProxyLoadDriver.get(target));
            Load coap = new Load(client, coapAt, ProxyLoadDriver.OUTSTANDING, n -> ProxyLoadDriver.get(target),
                    ProxyLoadDriver.CONTENT, 50_000_000L);
            try (HttpLoad http = new HttpLoad(httpAt, "/hc/" + target, connections, ProxyLoadDriver.PAYLOAD, 50_000_000L)) {
                sides = List.of(
                        new Side("http", http::start, http::stop, http::answered, http::problems, new ArrayList<>()),
                        new Side("coap", coap::start, coap::stop, coap::answered, coap::problems, new ArrayList<>()));
                ProxyLoadDriver.log(String.format(Locale.ROOT, "origin on %d; proxy pid %d, CoAP on %d, HTTP on %d; %d HTTP "
                                + "connections, %d CoAP NON outstanding; warm-up %d s each, then %d x %d s windows each, in turn",
                        originPort, proxy.pid(), proxy.port, httpAt.getPort(), connections, ProxyLoadDriver.OUTSTANDING, warmupS,
                        windows, windowS));
                counts0 = proxy.command("counts");
                // in two halves, in turn: each path's code is compiled with the other's in the profile too
                for (int half = 1; half <= 2; half++) {
                    for (Side s : sides) {
                        warm(s, half);
                    }
                }
                for (int w = 0; w < windows; w++) {
                    for (int k = 0; k < sides.size(); k++) {
                        Side s = sides.get(w % 2 == 0 ? k : sides.size() - 1 - k);
                        Measured m = window(s, proxy, served);
                        s.windows().add(m);
                        ProxyLoadDriver.log(String.format(Locale.ROOT, "%-4s window %d: %8.0f responses/s, proxy %6.1f us/resp "
                                        + "(kernel %5.1f), clients+origin %6.1f us/resp; answered %d, origin served %d, proxy forwarded %d, "
                                        + "cache hits %d, HTTP 2xx %d, fast path %d", s.name(), w + 1, m.w().rate(), m.w().proxyUs(),
                                m.proxySysUs(), m.w().driverUs(), m.answered(), m.served(), m.forwarded(), m.cacheHits(), m.http2xx(),
                                m.fastPath()));
                    }
                }
                counts1 = proxy.command("counts");
                heap = proxy.command("heap");
                for (Side s : sides) {
                    notes.add(s.name() + " over the whole run (warm-up and windows): " + s.problems().get());
                }
            }
        } finally {
            client.destroy();
            origin.destroy();
        }
        notes.add("proxy counts (forwarded, cache hits, HTTP 2xx, fast path requests) at the start: " + counts0 + "; at the end: "
                + counts1 + "; " + heap + " (used heap after GC, cache entries, observers, cache hits)");
        notes.add("load average (1 min) of the shared machine: " + loadBefore + " at the start, " + GroupProxyBench.loadAverage()
                + " at the end (2 cores)");
        String report = report(sides, originPort);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    private void warm(Side s, int half) throws Exception {
        s.start().start();
        Thread.sleep(warmupS * 500L);
        s.stop().stop();
        ProxyLoadDriver.log(s.name() + " warm-up " + half + "/2: " + s.answered().getAsLong() + " answered, " + s.problems().get());
        if (s.answered().getAsLong() == 0) {
            throw new IllegalStateException(s.name() + ": nothing was answered during the warm-up");
        }
    }

    /**
     * Starts the side's load, lets it ramp, measures one window (and the proxy's kernel time
     * around it), stops it; the counts span all of that.
     */
    private Measured window(Side s, ProxyLoadDriver.Proc proxy, LongAdder served) throws Exception {
        long[] c0 = counts(proxy);
        long a0 = s.answered().getAsLong();
        long o0 = served.sum();
        s.start().start();
        Thread.sleep(SETTLE_MS);
        long k0 = GroupProxyBench.sysTicks(proxy.pid());
        ProxyLoadDriver.Window w = ProxyLoadDriver.window(s.answered(), proxy.pid(), windowS, clkTck);
        long k1 = GroupProxyBench.sysTicks(proxy.pid());
        s.stop().stop();
        long[] c1 = counts(proxy);
        return new Measured(w, w.answered() > 0 ? (k1 - k0) * 1e6 / clkTck / w.answered() : Double.NaN, s.answered().getAsLong() - a0, served.sum() - o0, c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2],
                c1[3] - c0[3]);
    }

    /** The proxy's forwarded, cache hit, HTTP 2xx and fast path counts now. */
    private static long[] counts(ProxyLoadDriver.Proc proxy) throws Exception {
        String l = proxy.command("counts");
        if (!l.startsWith("COUNTS ")) {
            throw new IllegalStateException("the proxy answered counts with " + l);
        }
        return java.util.Arrays.stream(l.substring(7).trim().split(" ")).mapToLong(Long::parseLong).toArray();
    }

    private static double median(List<Measured> ms, java.util.function.ToDoubleFunction<ProxyLoadDriver.Window> f) {
        return ProxyLoadDriver.median(ms.stream().mapToDouble(m -> f.applyAsDouble(m.w())).toArray());
    }

    private static long sum(List<Measured> ms, java.util.function.ToLongFunction<Measured> f) {
        return ms.stream().mapToLong(f).sum();
    }

    private String report(List<Side> sides, int originPort) {
        List<Measured> http = sides.get(0).windows();
        List<Measured> coap = sides.get(1).windows();
        StringBuilder b = new StringBuilder();
        b.append("Coterie HTTP front end benchmark (issue 8), one run of bench/http-run.sh, ")
                .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)).append('\n');
        b.append(String.format(Locale.ROOT, "Loopback; one Coterie proxy process with its CoAP listener and its HTTP front end "
                        + "(cache on, as by default); one Californium 3.13.0 origin (in the driver's process) answering GET /x 2.05 "
                        + "\"%s\" (%d B) with Max-Age 0, so that every request of both sides is forwarded. http: %d HTTP/1.1 "
                        + "keep-alive connections from one Netty client, each a closed loop of GET /hc/coap://127.0.0.1:%d/x "
                        + "(the front end sends a CON GET with Proxy-Uri); coap (the reference): %d NON GETs with that Proxy-Uri "
                        + "outstanding from one Californium client (the proxy's fast path). Warm-up %d s each (two halves, in turn), then medians of %d windows of %d s each, "
                        + "the two in turn (reversed every other round), each window %d ms after its load started. CPU: "
                        + "utime+stime of the proxy process (/proc/PID/stat) over the window / responses answered in it.%n%n",
                new String(ProxyLoadDriver.PAYLOAD, java.nio.charset.StandardCharsets.US_ASCII), ProxyLoadDriver.PAYLOAD.length,
                connections, originPort, ProxyLoadDriver.OUTSTANDING, warmupS, windows, windowS, SETTLE_MS));
        double h = median(http, ProxyLoadDriver.Window::rate);
        double c = median(coap, ProxyLoadDriver.Window::rate);
        double hp = median(http, ProxyLoadDriver.Window::proxyUs);
        double cp = median(coap, ProxyLoadDriver.Window::proxyUs);
        b.append(String.format(Locale.ROOT, "%-58s %10s %10s %8s %-10s %s%n", "measure", "http", "coap (ref)", "ratio", "target",
                "met"));
        b.append(String.format(Locale.ROOT, "%-58s %10.0f %10.0f %7.2fx %-10s %s%n", "responses/s through the proxy: HTTP GET vs CoAP GET",
                h, c, h / c, ">= 0.7x", h / c >= 0.7 ? "met" : "NOT met"));
        b.append(String.format(Locale.ROOT, "%-58s %7.1f us %7.1f us %7.2fx %-10s %s%n", "proxy CPU per response", hp, cp, hp / cp,
                "report", "-"));
        double hk = ProxyLoadDriver.median(http.stream().mapToDouble(Measured::proxySysUs).toArray());
        double ck = ProxyLoadDriver.median(coap.stream().mapToDouble(Measured::proxySysUs).toArray());
        b.append(String.format(Locale.ROOT, "%-58s %7.1f us %7.1f us %7.2fx %-10s %s%n", "  of it in the kernel (stime)", hk, ck,
                hk / ck, "report", "-"));
        b.append(String.format(Locale.ROOT, "%-58s %7.1f us %7.1f us %7.2fx %-10s %s%n",
                "clients' and origin's CPU per response (this process)", median(http, ProxyLoadDriver.Window::driverUs),
                median(coap, ProxyLoadDriver.Window::driverUs), median(http, ProxyLoadDriver.Window::driverUs)
                        / median(coap, ProxyLoadDriver.Window::driverUs), "report", "-"));
        long hits = sum(http, Measured::cacheHits) + sum(coap, Measured::cacheHits);
        boolean allForwarded = true;
        for (Measured m : http) {
            allForwarded &= m.served() >= m.answered() && m.forwarded() >= m.answered() && m.http2xx() >= m.answered();
        }
        for (Measured m : coap) {
            allForwarded &= m.served() >= m.answered() && m.forwarded() >= m.answered();
        }
        b.append(String.format(Locale.ROOT, "%-58s %10d %10d %8s %-10s %s%n", "cache hits at the proxy in the measured windows",
                sum(http, Measured::cacheHits), sum(coap, Measured::cacheHits), "-", "0", hits == 0 ? "met" : "NOT met"));
        b.append(String.format(Locale.ROOT, "%-58s %10s %10s %8s %-10s %s%n", "every answer forwarded (origin served, proxy forwarded)",
                "", "", "-", "each window", allForwarded ? "met" : "NOT met"));
        b.append("\nper side (medians; windows in brackets, in the order taken)\n");
        b.append(String.format(Locale.ROOT, "%-6s %12s %14s %15s %22s  %s%n", "side", "responses/s", "proxy us/resp",
                "kernel us/resp", "clients+origin us/resp", "windows responses/s"));
        for (Side s : sides) {
            StringBuilder w = new StringBuilder();
            for (Measured m : s.windows()) {
                w.append(String.format(Locale.ROOT, "%.0f ", m.w().rate()));
            }
            b.append(String.format(Locale.ROOT, "%-6s %12.0f %14.1f %15.1f %22.1f  [%s]%n", s.name(),
                    median(s.windows(), ProxyLoadDriver.Window::rate), median(s.windows(), ProxyLoadDriver.Window::proxyUs),
                    ProxyLoadDriver.median(s.windows().stream().mapToDouble(Measured::proxySysUs).toArray()),
                    median(s.windows(), ProxyLoadDriver.Window::driverUs), w.toString().trim()));
        }
        b.append("\nper window, from the start of its load to the end of its drain (the load stopped at both ends)\n");
        b.append(String.format(Locale.ROOT, "%-6s %6s %10s %14s %15s %11s %10s %10s%n", "side", "window", "answered", "origin served",
                "proxy forwarded", "cache hits", "HTTP 2xx", "fast path"));
        for (Side s : sides) {
            List<Measured> ms = s.windows();
            for (int i = 0; i < ms.size(); i++) {
                Measured m = ms.get(i);
                b.append(String.format(Locale.ROOT, "%-6s %6d %10d %14d %15d %11d %10d %10d%n", s.name(), i + 1, m.answered(),
                        m.served(), m.forwarded(), m.cacheHits(), m.http2xx(), m.fastPath()));
            }
        }
        b.append("(answered: good responses the client received; origin served: GET /x handled by the origin; proxy forwarded, "
                + "cache hits, HTTP 2xx, fast path: the proxy's forwarded and cache_hit outcomes, its HTTP front end's 2xx "
                + "answers and its fast path's requests, read on its standard input before the load started and after it drained)\n");
        b.append("\nnotes\n");
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }
}
