package dev.coterie.bench;

import dev.coterie.oscore.MulticastGuard;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The group proxy benchmark of issue 8, side by side in one run, inside the private network
 * namespace that {@code bench/group-proxy-run.sh} makes (multicast never leaves it; the client's
 * own multicast passes {@link MulticastGuard} or the run stops). Five raw servers in the group
 * 224.0.1.187:5683 ({@link GroupServersMain}, one process), the Coterie proxy with the group
 * configured ({@link CoterieProxyMain}, two processes of the same build: one with its cache off,
 * one with it on), and one client here with the same number of group requests outstanding
 * ({@link GroupLoad}) in four ways:
 * <ol>
 * <li>proxy: unicast to the proxy without a cache, Proxy-Uri naming the group, Multicast-Timeout
 * 1, a request of its own each time (a marker in Uri-Query); the proxy sends each request to the
 * group and relays every response, with Reply-From;</li>
 * <li>direct, the reference of (a): the client sends the same request to the group itself and
 * collects the same servers' responses;</li>
 * <li>cached: the same request every time (Uri-Query {@code m=c<round>}) to the proxy with its
 * cache on and {@code members} listing the 5 servers, which answer with Max-Age 60: the first
 * requests of a round fill the cache in the ramp before the window, then every request is
 * answered from the cache alone, 5 entries with Reply-From and one Group-ETag, no multicast
 * (checked per window on the proxy's /metrics: no group_forwarded, a cache hit per request);</li>
 * <li>forward, the reference of (c): the very same request to the proxy without a cache, which
 * forwards it to the group every time.</li>
 * </ol>
 * Each is warmed up (default 20 s), then measured in windows (default 5 of 8 s each) taken in
 * turn, the four in one order in a round and in the reverse order in the next, so that a drift of
 * the shared machine falls on all; the medians are reported with their ratios. Per window:
 * responses received and checked per second, and the CPU time (utime+stime from /proc/PID/stat)
 * of the proxy in use, the servers' and this client's process per response.
 *
 * <p>Usage: {@code GroupProxyBench [--warmup S] [--window S] [--windows N] [--outstanding N]
 * [--out FILE]}.
 */
public final class GroupProxyBench {
    static final String GROUP = "224.0.1.187";
    static final int GROUP_PORT = 5683;
    static final int SERVER_BASE = 5800;
    static final int SERVERS = 5;
    /** Ramp between starting a load and opening its window, excluded from the figures. */
    static final long SETTLE_MS = 1000;
    /** The admin endpoints (GET /metrics) of the proxy without a cache and of the one with it, inside the namespace. */
    static final int ADMIN_PLAIN = 9101;
    static final int ADMIN_CACHE = 9102;
    /** The servers' Max-Age: a cached set stays fresh for all of a round's cached window. */
    static final int MAX_AGE = 60;

    private int warmupS = 20;
    private int windowS = 8;
    private int windows = 5;
    private int outstanding = 16;
    private Path out;
    private final Path logs = Path.of("bench/target/group-proxy-logs");
    private long clkTck = 100;
    private final List<String> notes = new ArrayList<>();

    /**
     * One window of one configuration; the counts are over the window: requests the client
     * completed, responses with Group-ETag it received, and from the proxy's /metrics its
     * group_forwarded (multicasts sent) and cache_hit outcomes.
     */
    record Window(double responsesPerS, double requestsPerS, double proxyUs, double serversUs, double clientUs,
                  double proxySysShare, double otherProxyUs, long requests, long etagResponses, long responses,
                  long forwarded, long cacheHits) {
    }

    /** One configuration: its load, the proxy it uses (null: none) and the other proxy's pid (idle meanwhile). */
    private record Config(String name, GroupLoad load, ProxyLoadDriver.Proc proxy, int admin, long otherPid, boolean fixedQuery,
                          List<Window> windows) {
    }

    /** stime (field 15 of /proc/PID/stat), in clock ticks. */
    static long sysTicks(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[12]);
    }

    /** The 1-minute load average: the machine is shared, and this tells how busy it was. */
    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (java.io.IOException e) {
            return "?";
        }
    }

    public static void main(String[] args) throws Exception {
        GroupProxyBench b = new GroupProxyBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> b.warmupS = Integer.parseInt(args[++i]);
                case "--window" -> b.windowS = Integer.parseInt(args[++i]);
                case "--windows" -> b.windows = Integer.parseInt(args[++i]);
                case "--outstanding" -> b.outstanding = Integer.parseInt(args[++i]);
                case "--out" -> b.out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        b.run();
        System.exit(0);
    }

    /** The two proxies' configuration: the same but for the cache and the admin port. */
    static String yaml(boolean cache, int adminPort) {
        StringBuilder members = new StringBuilder();
        for (int i = 1; i <= SERVERS; i++) {
            members.append(i > 1 ? ", " : "").append("'127.0.0.1:").append(SERVER_BASE + i).append('\'');
        }
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "groups:\n  - {name: lights, host: lights.example, address: " + GROUP + ", port: " + GROUP_PORT
                + ", interface: lo, members: [" + members + "]}\n"
                + "limits: {exchanges: 100000, requests_per_second: 1000000, burst: 10000000, upstream_timeout_ms: 5000}\n"
                // the one load client keeps 16 collections (or more with --outstanding) running at once; each holds
                // its per-client slot until T' even when every member answered, so the default cap of 16 would refuse it
                + "group_forwarding: {max_collections_per_client: 4096}\n"
                + "cache: {enabled: " + cache + "}\n"
                + "admin: {listen: '127.0.0.1:" + adminPort + "'}\n"
                + "access:\n  - {client: unauthenticated, allow: [{group: lights}]}\n";
    }

    /** The proxy's counters now: group_forwarded and cache_hit outcomes, from its admin endpoint. */
    static long[] proxyCounts(int adminPort) throws IOException {
        java.net.HttpURLConnection c = (java.net.HttpURLConnection) new java.net.URL("http://127.0.0.1:" + adminPort + "/metrics")
                .openConnection();
        c.setConnectTimeout(2000);
        c.setReadTimeout(5000);
        String text;
        try (java.io.InputStream in = c.getInputStream()) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } finally {
            c.disconnect();
        }
        return new long[] {counter(text, "coterie_proxy_requests_total{", "outcome=\"group_forwarded\""),
                counter(text, "coterie_proxy_requests_total{", "outcome=\"cache_hit\"")};
    }

    /** The value of the one sample whose line starts with {@code name} and contains {@code label}. */
    static long counter(String scrape, String name, String label) {
        for (String l : scrape.split("\n")) {
            if (l.startsWith(name) && l.contains(label)) {
                return (long) Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        throw new IllegalStateException("no metric " + name + " " + label + " in the proxy's /metrics");
    }

    private void run() throws Exception {
        InetSocketAddress group = new InetSocketAddress(InetAddress.getByName(GROUP), GROUP_PORT);
        MulticastGuard.checkDestination(group); // before anything starts: outside a private namespace, stop here
        Files.createDirectories(logs);
        clkTck = ProxyLoadDriver.clockTicks();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        List<InetSocketAddress> servers = new ArrayList<>();
        for (int i = 1; i <= SERVERS; i++) {
            servers.add(new InetSocketAddress("127.0.0.1", SERVER_BASE + i));
        }
        Path yaml = logs.resolve("coterie-group.yaml");
        Files.writeString(yaml, yaml(false, ADMIN_PLAIN));
        Path yamlCache = logs.resolve("coterie-group-cache.yaml");
        Files.writeString(yamlCache, yaml(true, ADMIN_CACHE));
        String loadBefore = loadAverage();
        List<Config> configs;
        String heap;
        String heapCache;
        String problems;
        long[] cacheTotals;
        long[] plainTotals;
        try (ProxyLoadDriver.Proc members = ProxyLoadDriver.Proc.start("group-servers", logs, List.of(java, "-Xms64m", "-Xmx256m",
                "-cp", cp, GroupServersMain.class.getName(), GROUP, String.valueOf(GROUP_PORT), String.valueOf(SERVER_BASE),
                String.valueOf(SERVERS), String.valueOf(MAX_AGE)), true);
             ProxyLoadDriver.Proc proxy = ProxyLoadDriver.Proc.start("coterie-group", logs, ProxyLoadDriver.proxyCommand(yaml), true);
             ProxyLoadDriver.Proc cacheProxy = ProxyLoadDriver.Proc.start("coterie-group-cache", logs,
                     ProxyLoadDriver.proxyCommand(yamlCache), true)) {
            InetSocketAddress proxyAddress = new InetSocketAddress("127.0.0.1", proxy.port);
            InetSocketAddress cacheAddress = new InetSocketAddress("127.0.0.1", cacheProxy.port);
            configs = List.of(
                    new Config("proxy", new GroupLoad(GroupLoad.Mode.PROXY, proxyAddress, group, "lights.example", servers,
                            outstanding), proxy, ADMIN_PLAIN, cacheProxy.pid(), false, new ArrayList<>()),
                    new Config("direct", new GroupLoad(GroupLoad.Mode.DIRECT, null, group, "lights.example", servers, outstanding),
                            null, 0, proxy.pid(), false, new ArrayList<>()),
                    new Config("cached", new GroupLoad(GroupLoad.Mode.PROXY, cacheAddress, group, "lights.example", servers,
                            outstanding), cacheProxy, ADMIN_CACHE, proxy.pid(), true, new ArrayList<>()),
                    new Config("forward", new GroupLoad(GroupLoad.Mode.PROXY, proxyAddress, group, "lights.example", servers,
                            outstanding), proxy, ADMIN_PLAIN, cacheProxy.pid(), true, new ArrayList<>()));
            log(String.format(Locale.ROOT, "servers pid %d, proxy pid %d on %d, cache proxy pid %d on %d; %d group requests "
                    + "outstanding; warm-up %d s each, then %d x %d s windows each, in turn", members.pid(), proxy.pid(),
                    proxy.port, cacheProxy.pid(), cacheProxy.port, outstanding, warmupS, windows, windowS));
            for (Config c : configs) {
                warm(c);
            }
            for (int w = 0; w < windows; w++) {
                for (int k = 0; k < configs.size(); k++) {
                    Config c = configs.get(w % 2 == 0 ? k : configs.size() - 1 - k);
                    c.load().query(c.fixedQuery() ? "m=c" + (w + 1) : null); // a key of its own per round: a fresh set
                    Window x = window(c, members.pid());
                    c.windows().add(x);
                    log(String.format(Locale.ROOT, "%-7s window %d: %8.0f responses/s (%6.0f requests/s), CPU us/response: "
                                    + "proxy %5.1f, servers %5.1f, client %5.1f; proxy: %d multicasts, %d cache hits, "
                                    + "%d of %d responses with Group-ETag", c.name(), w + 1, x.responsesPerS(), x.requestsPerS(),
                            x.proxyUs(), x.serversUs(), x.clientUs(), x.forwarded(), x.cacheHits(), x.etagResponses(),
                            x.responses()));
                }
            }
            heap = proxy.command("heap");
            heapCache = cacheProxy.command("heap");
            cacheTotals = proxyCounts(ADMIN_CACHE);
            plainTotals = proxyCounts(ADMIN_PLAIN);
            StringBuilder pr = new StringBuilder();
            for (Config c : configs) {
                GroupLoad l = c.load();
                pr.append(pr.length() == 0 ? "" : "; ").append(c.name()).append(": ").append(l.completed.get())
                        .append(" requests completed, ").append(l.responses.get()).append(" responses, ").append(l.problems());
                l.close();
            }
            problems = pr + " (lost: given up after 3 s short of a response; late: a response after that)";
        }
        notes.add("whole run (warm-ups and windows): " + problems);
        notes.add("load average (1 min) of the shared machine: " + loadBefore + " at the start, " + loadAverage() + " at the end "
                + "(2 cores; it counts this run's own busy threads too, up to about 4, so well above that other work competed)");
        notes.add("heap after the run (used after GC, cache entries, observers, cache hits): proxy without a cache " + heap
                + "; proxy with the cache " + heapCache);
        notes.add(String.format(Locale.ROOT, "the proxies' /metrics over the whole run: with the cache %d group_forwarded "
                        + "(multicasts: the first requests of the warm-up's and each round's key, before their set was cached) "
                        + "and %d cache_hit; without a cache %d group_forwarded and %d cache_hit", cacheTotals[0], cacheTotals[1],
                plainTotals[0], plainTotals[1]));
        notes.add("(c) is a plain cacheable NON GET (Uri-Path load, Uri-Query m=c<round>), not a deterministic Group OSCORE "
                + "request: the raw servers here cannot do Group OSCORE. The proxy's cache path is the same for a deterministic "
                + "request, which goes as an outer FETCH (DET-04) whose answers are outer 2.05: GroupForwarder.plan() takes GET "
                + "and FETCH alike and looks up each member's entry under ResponseCache.key(), whose bytes then also hold the "
                + "request's Request-Hash and OSCORE option and its payload (the ciphertext) - a few more bytes to hash and "
                + "compare; storable() takes a response with an OSCORE option only for a request with Request-Hash; "
                + "answerFromCache() sends the stored responses with only the Max-Age left and Group-ETag set (outer options; "
                + "the end-to-end protection is not touched). Not measured: the servers' Group OSCORE cost when the set is filled or forwarded (which would "
                + "slow the reference, not the cached case), and the client's in protecting the request and verifying 5 "
                + "responses (which would slow both).");
        notes.add("(c) reference: the same request to the proxy of the same build with `cache: {enabled: false}` (the proxy "
                + "of (a)), the servers answering Max-Age " + MAX_AGE + " as for the cached case, so requests and responses are "
                + "the same byte for byte. Not one proxy with servers answering Max-Age 0: the windows alternate, and the "
                + "cached windows' sets stay fresh for 60 s, so the same request would be answered from them; it would need "
                + "another URI. A proxy without a cache also forwards without the 5 cache lookups per request and the 5 "
                + "stores per request, so if anything the reference is the faster forwarding and the ratio the lower.");
        String report = report(configs);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    private void warm(Config c) throws Exception {
        GroupLoad load = c.load();
        load.query(c.fixedQuery() ? "m=c0" : null);
        load.start();
        Thread.sleep(warmupS * 1000L);
        load.stop();
        log(c.name() + " warm-up: " + load.completed.get() + " requests completed, " + load.responses.get() + " responses, "
                + load.problems());
        if (load.completed.get() == 0) {
            throw new IllegalStateException(c.name() + ": no group request was answered by every server during the warm-up");
        }
    }

    /**
     * Counters and CPU ticks at one instant: the client's counts, the proxy's /metrics counts
     * (group_forwarded, cache_hit), CPU ticks of the proxy in use (all, kernel), the other proxy,
     * the servers and the client, and the time.
     */
    private record Snapshot(long responses, long requests, long etags, long forwarded, long cacheHits, long proxy, long proxySys,
                            long other, long servers, long client, long nanos) {
        static Snapshot take(Config c, long serversPid) throws IOException {
            long[] m = c.proxy() == null ? new long[2] : proxyCounts(c.admin());
            long pid = c.proxy() == null ? 0 : c.proxy().pid();
            return new Snapshot(c.load().responses.get(), c.load().completed.get(), c.load().withGroupEtag.get(), m[0], m[1],
                    pid == 0 ? 0 : ProxyLoadDriver.cpuTicks(pid), pid == 0 ? 0 : sysTicks(pid),
                    ProxyLoadDriver.cpuTicks(c.otherPid()), ProxyLoadDriver.cpuTicks(serversPid),
                    ProxyLoadDriver.cpuTicks(ProcessHandle.current().pid()), System.nanoTime());
        }
    }

    private Window window(Config c, long serversPid) throws Exception {
        c.load().start();
        Thread.sleep(SETTLE_MS);
        Snapshot a = Snapshot.take(c, serversPid);
        Thread.sleep(windowS * 1000L);
        Snapshot b = Snapshot.take(c, serversPid);
        c.load().stop();
        double secs = (b.nanos() - a.nanos()) / 1e9;
        long n = b.responses() - a.responses();
        double us = n > 0 ? 1e6 / clkTck / n : Double.NaN;
        long proxy = b.proxy() - a.proxy();
        return new Window(n / secs, (b.requests() - a.requests()) / secs, c.proxy() == null ? Double.NaN : proxy * us,
                (b.servers() - a.servers()) * us, (b.client() - a.client()) * us,
                proxy > 0 ? (b.proxySys() - a.proxySys()) / (double) proxy : Double.NaN, (b.other() - a.other()) * us,
                b.requests() - a.requests(), b.etags() - a.etags(), n, b.forwarded() - a.forwarded(),
                b.cacheHits() - a.cacheHits());
    }

    private static double median(List<Window> ws, java.util.function.ToDoubleFunction<Window> f) {
        return ProxyLoadDriver.median(ws.stream().mapToDouble(f).toArray());
    }

    private static long sum(List<Window> ws, java.util.function.ToLongFunction<Window> f) {
        return ws.stream().mapToLong(f).sum();
    }

    private static Config named(List<Config> cs, String name) {
        return cs.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    /** CPU per response of every process that worked for it: the proxy in use (if any), the servers, the client. */
    private static double total(Window w) {
        return (Double.isNaN(w.proxyUs()) ? 0 : w.proxyUs()) + w.serversUs() + w.clientUs();
    }

    private String report(List<Config> configs) {
        List<Window> proxyW = named(configs, "proxy").windows();
        List<Window> directW = named(configs, "direct").windows();
        List<Window> cachedW = named(configs, "cached").windows();
        List<Window> forwardW = named(configs, "forward").windows();
        StringBuilder b = new StringBuilder();
        b.append("Coterie group proxy benchmark (issue 8), one run of bench/group-proxy-run.sh, ")
                .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)).append('\n');
        b.append(String.format(Locale.ROOT, "Private network namespace (lo only, 224.0.0.0/4 routed to it); %d raw CoAP servers "
                + "(one process) in the group %s:%d, each answering NON 2.05 Max-Age %d \"s<i> <Uri-Query>\"; two Coterie "
                + "proxies of the same build, the same configuration (the group with `members` listing the %d servers) but for "
                + "the cache: off in the one of (a) and of (c)'s reference, on in the one of (c); one client with %d group NON "
                + "GETs outstanding, a request refilled once all %d servers answered it, with Multicast-Timeout 1 through a "
                + "proxy; (a) and (b) a request of its own each time, (c) and its reference the same request every time "
                + "(m=c<round>: a new key each round, whose first requests fill the cache in the 1 s before the window); "
                + "warm-up %d s per configuration, then medians of %d windows of %d s each, the four configurations in turn "
                + "(reversed every other round). CPU: utime+stime of each process (/proc/PID/stat) over the window / responses "
                + "the client received and checked in it.%n%n",
                SERVERS, GROUP, GROUP_PORT, MAX_AGE, SERVERS, outstanding, SERVERS, warmupS, windows, windowS));
        double a = median(proxyW, Window::responsesPerS);
        double ref = median(directW, Window::responsesPerS);
        b.append(String.format(Locale.ROOT, "%-62s %10s %10s %8s %-10s %s%n", "measure", "coterie", "reference", "ratio", "target",
                "met"));
        rateRow(b, "(a) group responses/s through the proxy vs (b) own multicast", a, ref, 0.7, ">= 0.7x");
        double pa = median(proxyW, Window::proxyUs);
        b.append(String.format(Locale.ROOT, "%-62s %7.1f us %10s %8s %-10s %s%n", String.format(Locale.ROOT,
                "proxy CPU per relayed response (%.0f%% of it in the kernel)", 100 * median(proxyW, Window::proxySysShare)),
                pa, "-", "-", "report", "-"));
        double ta = median(proxyW, GroupProxyBench::total);
        double tb = median(directW, GroupProxyBench::total);
        usRow(b, "all processes' CPU per response (proxy+servers+client)", ta, tb);
        double c = median(cachedW, Window::responsesPerS);
        double f = median(forwardW, Window::responsesPerS);
        rateRow(b, "(c) group responses/s from the cache (5 entries) vs forwarding", c, f, 10, ">= 10x");
        double pc = median(cachedW, Window::proxyUs);
        double pf = median(forwardW, Window::proxyUs);
        usRow(b, String.format(Locale.ROOT, "(c) proxy CPU per response (kernel: %.0f%% vs %.0f%%)",
                100 * median(cachedW, Window::proxySysShare), 100 * median(forwardW, Window::proxySysShare)), pc, pf);
        double tc = median(cachedW, GroupProxyBench::total);
        double tf = median(forwardW, GroupProxyBench::total);
        usRow(b, "(c) all processes' CPU per response (proxy+servers+client)", tc, tf);
        long mc = sum(cachedW, Window::forwarded);
        long hc = sum(cachedW, Window::cacheHits);
        long rc = sum(cachedW, Window::requests);
        b.append(String.format(Locale.ROOT, "%-62s %10d %10d %8s %-10s %s%n",
                "(c) multicasts the proxy sent in the measured windows", mc, sum(forwardW, Window::forwarded), "-", "0 cached",
                mc == 0 ? "met" : "NOT met"));
        b.append(String.format(Locale.ROOT, "%-62s %10d %10d %8s %-10s %s%n",
                "(c) cache hits at the proxy / requests the client completed", hc, rc, "-", "report", "-"));
        b.append("\nper configuration (medians; windows in brackets, in the order taken)\n");
        b.append(String.format(Locale.ROOT, "%-8s %12s %11s %14s %16s %15s  %s%n", "config", "responses/s", "requests/s",
                "proxy us/resp", "servers us/resp", "client us/resp", "windows responses/s"));
        for (Config x : configs) {
            row(b, x.name(), x.windows());
        }
        b.append("\n(c) per window, from the proxy's /metrics and the client's counts (windows in the order taken)\n");
        b.append(String.format(Locale.ROOT, "%-8s %7s %13s %11s %10s %19s %14s%n", "config", "window", "multicasts", "cache hits",
                "requests", "Group-ETag/resp", "idle proxy us"));
        for (String name : List.of("cached", "forward")) {
            List<Window> ws = named(configs, name).windows();
            for (int i = 0; i < ws.size(); i++) {
                Window w = ws.get(i);
                b.append(String.format(Locale.ROOT, "%-8s %7d %13d %11d %10d %19s %14.2f%n", name, i + 1, w.forwarded(),
                        w.cacheHits(), w.requests(), w.etagResponses() + "/" + w.responses(), w.otherProxyUs()));
            }
        }
        b.append("(multicasts: group_forwarded outcomes; cache hits: cache_hit outcomes; requests: completed by the client, "
                + "read a few ms before the proxy's /metrics at each end of the window (an HTTP request), so the two counts differ "
                + "by the requests of those ms; idle proxy us: CPU of the other proxy, idle meanwhile, per response)\n");
        b.append("\nnotes\n");
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    /** A throughput row: the ratio x / y against {@code target}. */
    private static void rateRow(StringBuilder b, String label, double x, double y, double target, String targetText) {
        b.append(String.format(Locale.ROOT, "%-62s %10.0f %10.0f %7.2fx %-10s %s%n", label, x, y, x / y, targetText,
                x / y >= target ? "met" : "NOT met"));
    }

    /** A row of CPU per response, reported with its ratio. */
    private static void usRow(StringBuilder b, String label, double x, double y) {
        b.append(String.format(Locale.ROOT, "%-62s %7.1f us %7.1f us %7.2fx %-10s %s%n", label, x, y, x / y, "report", "-"));
    }

    private static void row(StringBuilder b, String name, List<Window> ws) {
        StringBuilder w = new StringBuilder();
        for (Window x : ws) {
            w.append(String.format(Locale.ROOT, "%.0f ", x.responsesPerS()));
        }
        double p = median(ws, Window::proxyUs);
        b.append(String.format(Locale.ROOT, "%-8s %12.0f %11.0f %14s %16.1f %15.1f  [%s]%n", name, median(ws, Window::responsesPerS),
                median(ws, Window::requestsPerS), Double.isNaN(p) ? "-" : String.format(Locale.ROOT, "%.1f", p),
                median(ws, Window::serversUs), median(ws, Window::clientUs), w.toString().trim()));
    }

    private static void log(String s) {
        System.err.println("[" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + s);
    }
}
