package dev.coterie.bench;

import dev.coterie.oscore.MulticastGuard;
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
 * configured ({@link CoterieProxyMain}, its own process), and one client here with the same
 * number of group requests outstanding ({@link GroupLoad}) in two ways:
 * <ol>
 * <li>proxy: unicast to the proxy, Proxy-Uri naming the group, Multicast-Timeout 1; the proxy
 * sends each request to the group and relays every response, with Reply-From;</li>
 * <li>direct, the reference: the client sends the same request to the group itself and
 * collects the same servers' responses.</li>
 * </ol>
 * Each is warmed up (default 20 s), then measured in windows (default 5 of 8 s each) taken in
 * turn, proxy and direct alternating (their order swapped every round) so that a drift of the
 * shared machine falls on both; the medians are reported with their ratio. Per window: responses
 * received and checked per second, and the CPU time (utime+stime from /proc/PID/stat) of the
 * proxy, the servers' and this client's process per response.
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

    private int warmupS = 20;
    private int windowS = 8;
    private int windows = 5;
    private int outstanding = 16;
    private Path out;
    private final Path logs = Path.of("bench/target/group-proxy-logs");
    private long clkTck = 100;
    private final List<String> notes = new ArrayList<>();

    /** One window of one configuration. */
    record Window(double responsesPerS, double requestsPerS, double proxyUs, double serversUs, double clientUs,
                  double proxySysShare) {
    }

    /** stime (field 15 of /proc/PID/stat), in clock ticks. */
    static long sysTicks(long pid) throws java.io.IOException {
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

    private static String yaml() {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "groups:\n  - {name: lights, host: lights.example, address: " + GROUP + ", port: " + GROUP_PORT
                + ", interface: lo}\n"
                + "limits: {exchanges: 100000, requests_per_second: 1000000, burst: 10000000, upstream_timeout_ms: 5000}\n"
                + "cache: {enabled: false}\n"
                + "access:\n  - {client: unauthenticated, allow: [{group: lights}]}\n";
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
        Files.writeString(yaml, yaml());
        String loadBefore = loadAverage();
        List<Window> proxyW = new ArrayList<>();
        List<Window> directW = new ArrayList<>();
        String heap;
        String problems;
        try (ProxyLoadDriver.Proc members = ProxyLoadDriver.Proc.start("group-servers", logs, List.of(java, "-Xms64m", "-Xmx256m",
                "-cp", cp, GroupServersMain.class.getName(), GROUP, String.valueOf(GROUP_PORT), String.valueOf(SERVER_BASE),
                String.valueOf(SERVERS)), true);
             ProxyLoadDriver.Proc proxy = ProxyLoadDriver.Proc.start("coterie-group", logs, proxyCommand(java, cp, yaml), true)) {
            InetSocketAddress proxyAddress = new InetSocketAddress("127.0.0.1", proxy.port);
            GroupLoad viaProxy = new GroupLoad(GroupLoad.Mode.PROXY, proxyAddress, group, "lights.example", servers, outstanding);
            GroupLoad direct = new GroupLoad(GroupLoad.Mode.DIRECT, null, group, "lights.example", servers, outstanding);
            log(String.format(Locale.ROOT, "servers pid %d, proxy pid %d on %d; %d group requests outstanding; warm-up %d s each, "
                    + "then %d x %d s windows each, alternating", members.pid(), proxy.pid(), proxy.port, outstanding, warmupS,
                    windows, windowS));
            warm(viaProxy, "proxy");
            warm(direct, "direct");
            for (int w = 0; w < windows; w++) {
                boolean proxyFirst = w % 2 == 0;
                for (int k = 0; k < 2; k++) {
                    boolean p = proxyFirst == (k == 0);
                    Window x = window(p ? viaProxy : direct, proxy.pid(), members.pid());
                    (p ? proxyW : directW).add(x);
                    log(String.format(Locale.ROOT, "%-6s window %d: %8.0f responses/s (%6.0f requests/s), CPU us/response: "
                                    + "proxy %5.1f, servers %5.1f, client %5.1f", p ? "proxy" : "direct", w + 1,
                            x.responsesPerS(), x.requestsPerS(), x.proxyUs(), x.serversUs(), x.clientUs()));
                }
            }
            heap = proxy.command("heap");
            problems = "proxy (warm-up and windows): " + viaProxy.completed.get() + " requests completed, "
                    + viaProxy.responses.get() + " responses, " + viaProxy.problems() + "; direct: " + direct.completed.get()
                    + " requests completed, " + direct.responses.get() + " responses, " + direct.problems()
                    + " (lost: given up after 3 s short of a response; late: a response after that)";
            viaProxy.close();
            direct.close();
        }
        notes.add("whole run: " + problems);
        notes.add("load average (1 min) of the shared machine: " + loadBefore + " at the start, " + loadAverage() + " at the end "
                + "(2 cores; above 2, other work competed with this run)");
        notes.add("proxy heap after the run (used after GC, cache entries, observers, cache hits): " + heap);
        notes.add("(c) deterministic group request served from the cache (5 entries) vs forwarding it to the group: not run. "
                + "The proxy does not serve group requests from its cache: a request for a configured group goes to "
                + "GroupForwarder before any cache lookup (Forwarder.toGroup), so there is nothing to measure yet.");
        String report = report(proxyW, directW);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    /** The proxy's command line; COTERIE_PROXY_BENCH_JVM adds JVM options (e.g. a JFR recording), as in ProxyLoadDriver. */
    private static List<String> proxyCommand(String java, String cp, Path yaml) {
        List<String> cmd = new ArrayList<>(List.of(java, "-Xms256m", "-Xmx512m"));
        String extra = System.getenv("COTERIE_PROXY_BENCH_JVM");
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(List.of(extra.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-cp", cp, CoterieProxyMain.class.getName(), yaml.toString()));
        return cmd;
    }

    private void warm(GroupLoad load, String name) throws InterruptedException {
        load.start();
        Thread.sleep(warmupS * 1000L);
        load.stop();
        log(name + " warm-up: " + load.completed.get() + " requests completed, " + load.responses.get() + " responses, "
                + load.problems());
        if (load.completed.get() == 0) {
            throw new IllegalStateException(name + ": no group request was answered by every server during the warm-up");
        }
    }

    /** Counters and CPU ticks at one instant: responses, requests completed, proxy (all, kernel), servers, client, time. */
    private record Snapshot(long responses, long requests, long proxy, long proxySys, long servers, long client, long nanos) {
        static Snapshot take(GroupLoad load, long proxyPid, long serversPid) throws java.io.IOException {
            return new Snapshot(load.responses.get(), load.completed.get(), ProxyLoadDriver.cpuTicks(proxyPid), sysTicks(proxyPid),
                    ProxyLoadDriver.cpuTicks(serversPid), ProxyLoadDriver.cpuTicks(ProcessHandle.current().pid()), System.nanoTime());
        }
    }

    private Window window(GroupLoad load, long proxyPid, long serversPid) throws Exception {
        load.start();
        Thread.sleep(SETTLE_MS);
        Snapshot a = Snapshot.take(load, proxyPid, serversPid);
        Thread.sleep(windowS * 1000L);
        Snapshot b = Snapshot.take(load, proxyPid, serversPid);
        load.stop();
        double secs = (b.nanos() - a.nanos()) / 1e9;
        long n = b.responses() - a.responses();
        double us = n > 0 ? 1e6 / clkTck / n : Double.NaN;
        long proxy = b.proxy() - a.proxy();
        return new Window(n / secs, (b.requests() - a.requests()) / secs, proxy * us, (b.servers() - a.servers()) * us,
                (b.client() - a.client()) * us, proxy > 0 ? (b.proxySys() - a.proxySys()) / (double) proxy : Double.NaN);
    }

    private static double median(List<Window> ws, java.util.function.ToDoubleFunction<Window> f) {
        return ProxyLoadDriver.median(ws.stream().mapToDouble(f).toArray());
    }

    private String report(List<Window> proxyW, List<Window> directW) {
        StringBuilder b = new StringBuilder();
        b.append("Coterie group proxy benchmark (issue 8), one run of bench/group-proxy-run.sh, ")
                .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)).append('\n');
        b.append(String.format(Locale.ROOT, "Private network namespace (lo only, 224.0.0.0/4 routed to it); %d raw CoAP servers "
                + "(one process) in the group %s:%d, each answering NON 2.05 \"s<i> <Uri-Query>\"; one client with %d group "
                + "NON GETs outstanding, a request refilled once all %d servers answered it; warm-up %d s per configuration, "
                + "then medians of %d windows of %d s each, the two configurations alternating. CPU: utime+stime of each "
                + "process (/proc/PID/stat) over the window / responses the client received and checked in it.%n%n",
                SERVERS, GROUP, GROUP_PORT, outstanding, SERVERS, warmupS, windows, windowS));
        double a = median(proxyW, Window::responsesPerS);
        double ref = median(directW, Window::responsesPerS);
        double ratio = a / ref;
        b.append(String.format(Locale.ROOT, "%-62s %10s %10s %8s %-10s %s%n", "measure", "coterie", "reference", "ratio", "target",
                "met"));
        b.append(String.format(Locale.ROOT, "%-62s %10.0f %10.0f %7.2fx %-10s %s%n",
                "(a) group responses/s through the proxy vs (b) own multicast", a, ref, ratio, ">= 0.7x", ratio >= 0.7 ? "met"
                        : "NOT met"));
        double pa = median(proxyW, Window::proxyUs);
        b.append(String.format(Locale.ROOT, "%-62s %7.1f us %10s %8s %-10s %s%n", String.format(Locale.ROOT,
                "proxy CPU per relayed response (%.0f%% of it in the kernel)", 100 * median(proxyW, Window::proxySysShare)),
                pa, "-", "-", "report", "-"));
        double ta = median(proxyW, w -> w.proxyUs() + w.serversUs() + w.clientUs());
        double tb = median(directW, w -> w.serversUs() + w.clientUs());
        b.append(String.format(Locale.ROOT, "%-62s %7.1f us %7.1f us %7.2fx %-10s %s%n",
                "all processes' CPU per response (proxy+servers+client)", ta, tb, ta / tb, "report", "-"));
        b.append(String.format(Locale.ROOT, "%-62s %10s %10s %8s %-10s %s%n",
                "(c) deterministic group request from cache (5 entries) vs fwd", "-", "-", "-", "-", "not run (see notes)"));
        b.append("\nper configuration (medians; windows in brackets, in the order taken)\n");
        b.append(String.format(Locale.ROOT, "%-8s %12s %11s %14s %16s %15s  %s%n", "config", "responses/s", "requests/s",
                "proxy us/resp", "servers us/resp", "client us/resp", "windows responses/s"));
        row(b, "proxy", proxyW);
        row(b, "direct", directW);
        b.append("\nnotes\n");
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String name, List<Window> ws) {
        StringBuilder w = new StringBuilder();
        for (Window x : ws) {
            w.append(String.format(Locale.ROOT, "%.0f ", x.responsesPerS()));
        }
        double p = median(ws, Window::proxyUs);
        b.append(String.format(Locale.ROOT, "%-8s %12.0f %11.0f %14s %16.1f %15.1f  [%s]%n", name, median(ws, Window::responsesPerS),
                median(ws, Window::requestsPerS), Double.isNaN(p) || name.equals("direct") ? "-" : String.format(Locale.ROOT, "%.1f", p),
                median(ws, Window::serversUs), median(ws, Window::clientUs), w.toString().trim()));
    }

    private static void log(String s) {
        System.err.println("[" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + s);
    }
}
