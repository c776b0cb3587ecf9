package dev.coterie.bench;

import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.MulticastGuard;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;

/**
 * The group observation benchmarks of issue 9 (observe-multicast-notifications with the proxy of
 * multicast-notifications-proxy Section 3, unprotected variant), side by side in one run, inside
 * the private network namespace that {@code bench/group-observation-run.sh} makes (the server's
 * multicast passes {@link MulticastGuard} or the run stops before anything starts).
 *
 * <p>In this process: two servers, each a Californium CoapServer with one endpoint on loopback
 * and the same configuration as the proxy's endpoints ({@link OscoreEndpointBuilder#defaultConfiguration()},
 * MID tracker off): the reference, a plain observable CoapResource ({@code setObservable(true)},
 * NON notifications) with N traditional observers registered with it directly; and a
 * {@link GroupObservedResource} whose group observation notifies 224.0.1.190:5683 from the
 * server's socket. The Coterie proxy is its own process ({@link CoterieProxyMain}, with
 * {@code group_observations}): its N observers register through it (Proxy-Uri), it registers
 * once with the server, takes the informative response, listens to the group and fans each
 * multicast notification out to its observers. The 2 x N observers are one {@link ObserverFleet}
 * (a few plain UDP sockets here), the same for both sides.
 *
 * <p>A change: the resource's state is set and {@code changed()} called, at t0. Measured per
 * change, for both sides alike: (1) the time from t0 until the sender of the N notifications
 * (the reference server, or the proxy) had written the last of them to its socket, by a
 * {@link SentClock} on the sending endpoint (the proxy's reports over its standard output;
 * System.nanoTime is one clock for all processes); the time until the N-th observer received
 * its notification, and the first; (2) the datagrams the server sent for the change: the
 * reference server's endpoint, counted by an interceptor, and the group observation's
 * {@code multicastSent()} with the group server's endpoint counted the same way; and the
 * datagrams the observers received per side; (3) the proxy's used heap after GC with 0, 1 and
 * N observers ({@code heap} command). Warm-up changes first (default 30 per side), then the
 * measured ones (default 15 per side); the two sides in turn, in one order in a pair of changes
 * and in the reverse order in the next, so that a drift of the shared machine falls on both;
 * medians are reported.
 *
 * <p>Usage: {@code GroupObservationBench [--observers N] [--warmup N] [--changes N]
 * [--sockets N] [--pause MS] [--histogram] [--out FILE]}; {@code --histogram} writes the proxy's class
 * histogram (jcmd GC.class_histogram) with N observers and after the run into {@code bench/target/group-observation-logs}.
 */
public final class GroupObservationBench {
    static final String GROUP = "224.0.1.190";
    static final int GROUP_PORT = 5683;
    static final int REF = 0;
    static final int GOBS = 1;
    static final String[] SIDE = {"traditional", "group"};
    /** How long one change may take to reach every observer before it counts as incomplete. */
    static final long CHANGE_TIMEOUT_MS = 10_000;

    private int observers = 1000;
    private int warmup = 30;
    private int changes = 15;
    private int socketCount = 4;
    private long pauseMs = 200;
    private boolean histogram;
    private Path out;
    private final Path logs = Path.of("bench/target/group-observation-logs");
    private final List<String> notes = new ArrayList<>();

    /** One change of one side; times in ns from t0 (-1: not all N), counts over the change. */
    record Change(int side, int number, long firstSentNs, long lastSentNs, long lastReceivedNs, long firstReceivedNs, long sent,
                  int got,
                  long serverUnicast, long serverMulticast, long atReceivers, long proxyCpuNs, long driverCpuNs) {
    }

    /** The representation of both resources: 2.05 text "alarm <state>", Max-Age 3600 (no refresh during a run). */
    static Response representation(int state) {
        Response r = new Response(CoAP.ResponseCode.CONTENT);
        r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN).setMaxAge(3600);
        r.setPayload("alarm " + state);
        return r;
    }

    /** The reference: a plain observable resource, NON notifications. */
    static final class Traditional extends CoapResource {
        volatile int state;

        Traditional() {
            super("ref");
            setObservable(true);
            setObserveType(CoAP.Type.NON);
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(representation(state));
        }
    }

    /** The group-observed resource. */
    static final class Alarm extends GroupObservedResource {
        volatile int state;

        Alarm(InetSocketAddress group) {
            super("alarm", group, InformativeResponse.DEFAULT_CONTENT_FORMAT);
        }

        @Override
        protected Response representation() {
            return GroupObservationBench.representation(state);
        }
    }

    /** Every message an endpoint hands to its connector (before it is sent): requests, responses, empty messages. */
    static final class Outgoing extends MessageInterceptorAdapter {
        final LongAdder count = new LongAdder();

        @Override
        public void sendRequest(Request request) {
            count.increment();
        }

        @Override
        public void sendResponse(Response response) {
            count.increment();
        }

        @Override
        public void sendEmptyMessage(EmptyMessage message) {
            count.increment();
        }
    }

    public static void main(String[] args) throws Exception {
        GroupObservationBench b = new GroupObservationBench();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--observers" -> b.observers = Integer.parseInt(args[++i]);
                case "--warmup" -> b.warmup = Integer.parseInt(args[++i]);
                case "--changes" -> b.changes = Integer.parseInt(args[++i]);
                case "--sockets" -> b.socketCount = Integer.parseInt(args[++i]);
                case "--pause" -> b.pauseMs = Long.parseLong(args[++i]);
                case "--histogram" -> b.histogram = true;
                case "--out" -> b.out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        if (b.observers < 1 || b.observers > 1 << 24 || b.changes < 1 || b.warmup < 0) {
            throw new IllegalArgumentException("--observers 1..2^24, --changes >= 1, --warmup >= 0");
        }
        b.run();
        System.exit(0);
    }

    /** The proxy's configuration: group observations on lo, room for N observers of the one resource. */
    String yaml(int serverPort) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "limits: {exchanges: 100000, observers: " + Math.max(5000, 2 * observers)
                + ", requests_per_second: 1000000, burst: 10000000, upstream_timeout_ms: 5000}\n"
                + "cache: {enabled: false}\n"
                + "group_observations: {interface: lo, max_observers: " + Math.max(1000, observers) + "}\n"
                + "access:\n  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + serverPort + "'}]}\n";
    }

    private static CoapServer server(Configuration cfg, CoapResource resource, Outgoing outgoing, SentClock sent)
            throws java.io.IOException {
        CoapServer s = new CoapServer(cfg);
        CoapEndpoint ep = CoapEndpoint.builder().setConfiguration(cfg).setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .build();
        ep.addInterceptor(outgoing);
        if (sent != null) {
            ep.addPostProcessInterceptor(sent);
        }
        s.addEndpoint(ep);
        s.add(resource);
        s.start();
        return s;
    }

    private void run() throws Exception {
        InetSocketAddress group = new InetSocketAddress(InetAddress.getByName(GROUP), GROUP_PORT);
        MulticastGuard.check(group.getAddress()); // before anything starts: outside a private namespace, stop here
        Files.createDirectories(logs);
        long self = ProcessHandle.current().pid();
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        cfg.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL); // as ProxyServer sets it for its endpoints
        Traditional ref = new Traditional();
        Outgoing refOut = new Outgoing();
        SentClock refSent = new SentClock();
        CoapServer refServer = server(cfg, ref, refOut, refSent);
        InetSocketAddress refAddress = refServer.getEndpoints().get(0).getAddress();
        Alarm alarm = new Alarm(group);
        Outgoing gobsOut = new Outgoing();
        CoapServer gobsServer = server(new Configuration(cfg), alarm, gobsOut, null);
        CoapEndpoint gep = (CoapEndpoint) gobsServer.getEndpoints().get(0);
        alarm.sendFrom(gep.getConnector(), gep.getAddress());
        Path yaml = logs.resolve("coterie-gobs.yaml");
        Files.writeString(yaml, yaml(gep.getAddress().getPort()));
        List<String> cmd = ProxyLoadDriver.proxyCommand(yaml);
        cmd.add("--count-sent");
        String loadBefore = GroupProxyBench.loadAverage();
        List<Change> measured = new ArrayList<>();
        long[] heap = new long[4];
        String[] heapLines = new String[4];
        String fleetNote;
        try (ProxyLoadDriver.Proc proxy = ProxyLoadDriver.Proc.start("coterie-gobs", logs, cmd, true);
             ObserverFleet fleet = new ObserverFleet(socketCount, 4 << 20)) {
            InetSocketAddress proxyAddress = new InetSocketAddress("127.0.0.1", proxy.port);
            String proxyUri = "coap://127.0.0.1:" + gep.getAddress().getPort() + "/alarm";
            ObserverFleet.Side refSide = fleet.side(REF, refAddress, observers);
            ObserverFleet.Side gobsSide = fleet.side(GOBS, proxyAddress, observers);
            log(String.format(Locale.ROOT, "reference server %s, group server %s (group %s), proxy pid %d on %d; %d observers "
                            + "per side on %d sockets (receive buffer %d B); %d warm-up and %d measured changes per side",
                    refAddress, gep.getAddress(), group, proxy.pid(), proxy.port, observers, socketCount,
                    fleet.receiveBufferSize(), warmup, changes));
            probe(cfg, proxyAddress, proxyUri);
            heapLines[0] = proxy.command("heap");
            require(fleet.register(GOBS, proxyAddress, null, proxyUri, 0, 1, 1, 20_000), "the first observer through the proxy");
            Thread.sleep(500);
            heapLines[1] = proxy.command("heap");
            require(fleet.register(GOBS, proxyAddress, null, proxyUri, 1, observers, 64, 120_000),
                    observers + " observers through the proxy");
            Thread.sleep(500);
            heapLines[2] = proxy.command("heap");
            histogram(proxy, "registered");
            require(fleet.register(REF, refAddress, "ref", null, 0, observers, 64, 120_000),
                    observers + " observers of the reference server");
            for (int i = 0; i < 3; i++) {
                heap[i] = Long.parseLong(heapLines[i].split(" ")[1]);
            }
            require(alarm.observers() == 1, "the proxy registered once with the group server (" + alarm.observers() + ")");
            require(ref.getObserverCount() == observers, "the reference has " + observers + " observers ("
                    + ref.getObserverCount() + ")");
            require(Long.parseLong(heapLines[2].split(" ")[3]) == observers, "the proxy counts " + observers + " observers ("
                    + heapLines[2] + ")");
            log(String.format(Locale.ROOT, "registered; proxy heap used after GC: %d B with 0 observers, %d B with 1, %d B with %d",
                    heap[0], heap[1], heap[2], observers));
            int number = 0;
            for (int pair = 0; pair < warmup + changes; pair++) {
                boolean counted = pair >= warmup;
                for (int k = 0; k < 2; k++) {
                    int side = (pair % 2 == 0) == (k == 0) ? REF : GOBS;
                    Change c = change(side, ++number, fleet, side == REF ? refSide : gobsSide, ref, alarm, refOut, gobsOut,
                            refSent, proxy, self);
                    if (counted) {
                        measured.add(c);
                        log(String.format(Locale.ROOT, "%-11s change %3d: first sent %6.2f ms, last sent %7.2f ms, last received %7.2f ms, first "
                                        + "received %6.2f ms; %d sent, %d of %d observers; server datagrams %d unicast + %d "
                                        + "multicast; CPU: proxy %.1f ms, servers+observers %.1f ms", SIDE[side], c.number(),
                                c.firstSentNs() / 1e6, c.lastSentNs() / 1e6,
                                c.lastReceivedNs() / 1e6, c.firstReceivedNs() / 1e6, c.sent(), c.got(), observers,
                                c.serverUnicast(), c.serverMulticast(), c.proxyCpuNs() / 1e6, c.driverCpuNs() / 1e6));
                    } else if (c.lastReceivedNs() < 0) {
                        log("warm-up change " + c.number() + " (" + SIDE[side] + ") incomplete: " + c.got() + " of " + observers);
                    }
                    Thread.sleep(pauseMs);
                }
                if (pair == warmup - 1) {
                    log("warm-up done");
                }
            }
            heapLines[3] = proxy.command("heap");
            heap[3] = Long.parseLong(heapLines[3].split(" ")[1]);
            histogram(proxy, "after-run");
            fleetNote = String.format(Locale.ROOT, "observers' sockets over the whole run: %d CON notifications (acknowledged), "
                            + "%d foreign datagrams; traditional side: %d late (another change's), %d duplicate, %d not 2.05 "
                            + "with Observe; group side: %d late, %d duplicate, %d not 2.05 with Observe",
                    fleet.confirmable.sum(), fleet.foreign.sum(), refSide.stale.sum(), refSide.duplicates.sum(),
                    refSide.other.sum(), gobsSide.stale.sum(), gobsSide.duplicates.sum(), gobsSide.other.sum());
        } finally {
            alarm.close();
            gobsServer.destroy();
            refServer.destroy();
        }
        notes.add(fleetNote);
        notes.add("proxy heap (used after GC, cache entries, observers, cache hits): 0 observers " + heapLines[0] + "; 1 observer "
                + heapLines[1] + "; " + observers + " observers " + heapLines[2] + "; after the run " + heapLines[3]);
        notes.add("load average (1 min) of the shared machine: " + loadBefore + " at the start, " + GroupProxyBench.loadAverage()
                + " at the end (2 cores)");
        String report = report(measured, heap);
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
    }

    /**
     * With --histogram: jcmd GC.class_histogram of the proxy and of this process (its reference
     * server) into the logs, as {proxy,driver}-histogram-{@code when}.txt.
     */
    private void histogram(ProxyLoadDriver.Proc proxy, String when) throws Exception {
        if (!histogram) {
            return;
        }
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        for (String who : List.of("proxy", "driver")) {
            Path f = logs.resolve(who + "-histogram-" + when + ".txt");
            long pid = who.equals("proxy") ? proxy.pid() : ProcessHandle.current().pid();
            Process p = new ProcessBuilder(jcmd, String.valueOf(pid), "GC.class_histogram").redirectErrorStream(true)
                    .redirectOutput(f.toFile()).start();
            require(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "jcmd answered");
            log("class histogram: " + f);
        }
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("not so: " + what);
        }
    }

    /** A few plain GETs of /alarm through the proxy: it forwards, and its first-use classes and pools are in place. */
    private static void probe(Configuration cfg, InetSocketAddress proxy, String uri) throws Exception {
        CoapEndpoint c = ProxyLoadDriver.plainClient(cfg);
        try {
            for (int i = 0; i < 20; i++) {
                Request r = Request.newGet();
                r.getOptions().setProxyUri(uri);
                r.setDestinationContext(new AddressEndpointContext(proxy));
                c.sendRequest(r);
                Response resp = r.waitForResponse(5000);
                require(resp != null && resp.getCode() == CoAP.ResponseCode.CONTENT, "a GET through the proxy answered 2.05 ("
                        + resp + ")");
            }
        } finally {
            c.destroy();
        }
    }

    /** The fan-out sender's {@link SentClock#take()}: the reference server's clock, or the proxy's. */
    private static long[] sent(int side, SentClock refSent, ProxyLoadDriver.Proc proxy) throws Exception {
        if (side == REF) {
            return refSent.take();
        }
        String[] f = proxy.command("sent").split(" ");
        require(f[0].equals("SENT"), "the proxy answers sent");
        return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
    }

    private Change change(int side, int number, ObserverFleet fleet, ObserverFleet.Side s, Traditional ref, Alarm alarm,
                          Outgoing refOut, Outgoing gobsOut, SentClock refSent, ProxyLoadDriver.Proc proxy, long self)
            throws Exception {
        Outgoing o = side == REF ? refOut : gobsOut;
        long[] sent0 = sent(side, refSent, proxy);
        long unicast0 = o.count.sum();
        long multicast0 = alarm.multicastSent();
        long received0 = s.datagrams.sum();
        long p0 = ProxyLoadDriver.cpuNanos(proxy.pid());
        long d0 = ProxyLoadDriver.cpuNanos(self);
        fleet.expect(side, number);
        long t0 = System.nanoTime();
        if (side == REF) {
            ref.state = number;
            ref.changed();
        } else {
            alarm.state = number;
            alarm.changed();
        }
        boolean all = fleet.await(side, CHANGE_TIMEOUT_MS);
        Thread.sleep(50); // late or duplicate datagrams of this change land before the counts are read
        long d1 = ProxyLoadDriver.cpuNanos(self);
        long p1 = ProxyLoadDriver.cpuNanos(proxy.pid());
        long[] sent1 = sent(side, refSent, proxy);
        long n = sent1[0] - sent0[0];
        return new Change(side, number, sent1[2] > 0 ? sent1[2] - t0 : -1, n >= observers ? sent1[1] - t0 : -1, all ? s.lastNanos - t0 : -1,
                s.firstNanos > 0 ? s.firstNanos - t0 : -1, n, s.got.get(), o.count.sum() - unicast0,
                alarm.multicastSent() - multicast0, s.datagrams.sum() - received0, p1 - p0, d1 - d0);
    }

    // ---------------------------------------------------------------- report

    private static double median(List<Change> cs, int side, ToDoubleFunction<Change> f) {
        return ProxyLoadDriver.median(cs.stream().filter(c -> c.side() == side).mapToDouble(f).filter(v -> v >= 0).toArray());
    }

    private static String values(List<Change> cs, int side, ToDoubleFunction<Change> f, String format) {
        StringBuilder b = new StringBuilder();
        for (Change c : cs) {
            if (c.side() == side) {
                double v = f.applyAsDouble(c);
                b.append(b.length() == 0 ? "" : " ").append(v < 0 ? "-" : String.format(Locale.ROOT, format, v));
            }
        }
        return b.toString();
    }

    private String report(List<Change> cs, long[] heap) {
        int n = observers;
        StringBuilder b = new StringBuilder();
        b.append("Coterie group observation benchmark (issue 9), one run of bench/group-observation-run.sh, ")
                .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)).append('\n');
        b.append(String.format(Locale.ROOT, "Private network namespace (lo only, 224.0.0.0/4 routed to it). N = %d observers per "
                + "side on %d plain UDP sockets of one observer process (the same for both sides), NON registrations. "
                + "traditional: a plain Californium 3.13.0 CoapServer, observable resource, NON notifications, the N observers "
                + "registered with it directly. group: the server's GroupObservedResource (one NON notification per change to "
                + "%s:%d), the Coterie proxy as its own process with group_observations, the N observers registered through it "
                + "(Proxy-Uri); the proxy registered once and fans each multicast notification out. %d warm-up, then %d measured "
                + "changes per side, the two sides in turn (order reversed every other pair), %d ms apart; medians.%n%n", n,
                socketCount, GROUP, GROUP_PORT, warmup, changes, pauseMs));
        b.append(String.format(Locale.ROOT, "%-66s %11s %11s %8s %-10s %s%n", "measure", "group", "traditional", "ratio",
                "target", "met"));
        double sg = median(cs, GOBS, c -> c.lastSentNs() / 1e6);
        double sr = median(cs, REF, c -> c.lastSentNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.2f ms %8.2f ms %7.2fx %-10s %s%n",
                "(1) change -> last of the " + n + " notifications sent (at the sender)", sg, sr, sg / sr, "<= 1.0x",
                sg / sr <= 1.0 ? "met" : "NOT met"));
        double rg = median(cs, GOBS, c -> c.lastReceivedNs() / 1e6);
        double rr = median(cs, REF, c -> c.lastReceivedNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.2f ms %8.2f ms %7.2fx %-10s %s%n",
                "(1) change -> the " + n + "th observer received its notification", rg, rr, rg / rr, "report", "-"));
        double fsg = median(cs, GOBS, c -> c.firstSentNs() / 1e6);
        double fsr = median(cs, REF, c -> c.firstSentNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.2f ms %8.2f ms %7.2fx %-10s %s%n",
                "(1) change -> the first notification sent (at the sender)", fsg, fsr, fsg / fsr, "report", "-"));
        double fg = median(cs, GOBS, c -> c.firstReceivedNs() / 1e6);
        double fr = median(cs, REF, c -> c.firstReceivedNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.2f ms %8.2f ms %7.2fx %-10s %s%n",
                "(1) change -> the first observer received its notification", fg, fr, fg / fr, "report", "-"));
        double dg = median(cs, GOBS, c -> c.serverUnicast() + c.serverMulticast());
        double dr = median(cs, REF, c -> c.serverUnicast() + c.serverMulticast());
        b.append(String.format(Locale.ROOT, "%-66s %11.0f %11.0f %7.3fx %-10s %s%n",
                "(2) datagrams the server sent per change, N = " + n, dg, dr, dg / dr, "1 vs N",
                dg == 1 && dr == n ? "met" : "NOT met"));
        double ag = median(cs, GOBS, Change::atReceivers);
        double ar = median(cs, REF, Change::atReceivers);
        b.append(String.format(Locale.ROOT, "%-66s %11.0f %11.0f %7.2fx %-10s %s%n",
                "(2) datagrams the observers received per change (proxy / server)", ag, ar, ag / ar, "report", "-"));
        double perObserver = (heap[2] - heap[0]) / (double) n;
        b.append(String.format(Locale.ROOT, "%-66s %9.0f B %11s %8s %-10s %s%n",
                "(3) proxy heap per observer ((" + n + " observers - 0) / " + n + ")", perObserver, "-", "-", "report", "-"));
        double pc = median(cs, GOBS, c -> c.proxyCpuNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.1f ms %11s %8s %-10s %s%n", "proxy process CPU per change (group side)", pc,
                "-", "-", "report", "-"));
        double cg = median(cs, GOBS, c -> c.driverCpuNs() / 1e6);
        double cr = median(cs, REF, c -> c.driverCpuNs() / 1e6);
        b.append(String.format(Locale.ROOT, "%-66s %8.1f ms %8.1f ms %7.2fx %-10s %s%n",
                "servers' and observers' process CPU per change", cg, cr, cg / cr, "report", "-"));
        b.append(String.format(Locale.ROOT, "%-66s %8.1f ms %8.1f ms %7.2fx %-10s %s%n",
                "CPU per change of the N notifications' sender (traditional: estimate)", pc, cr - cg, pc / (cr - cg), "report",
                "-"));

        b.append("\nper change (ms from the change; measured changes in the order taken)\n");
        for (int side : new int[] {GOBS, REF}) {
            b.append(String.format(Locale.ROOT, "%-11s first sent    [%s]%n", SIDE[side], values(cs, side,
                    c -> c.firstSentNs() / 1e6, "%.2f")));
            b.append(String.format(Locale.ROOT, "%-11s last sent     [%s]%n", SIDE[side], values(cs, side, c -> c.lastSentNs() / 1e6,
                    "%.1f")));
            b.append(String.format(Locale.ROOT, "%-11s last received [%s]%n", SIDE[side], values(cs, side,
                    c -> c.lastReceivedNs() / 1e6, "%.1f")));
            StringBuilder counts = new StringBuilder();
            for (Change c : cs) {
                if (c.side() == side) {
                    counts.append(counts.length() == 0 ? "" : " ").append(c.sent()).append('/').append(c.got()).append('/')
                            .append(c.serverUnicast() + c.serverMulticast());
                }
            }
            b.append(String.format(Locale.ROOT, "%-11s sent by the fan-out sender / observers with it / server datagrams [%s]%n",
                    SIDE[side], counts));
        }
        long incomplete = cs.stream().filter(c -> c.lastReceivedNs() < 0 || c.lastSentNs() < 0).count();
        b.append(String.format(Locale.ROOT, "%nincomplete measured changes (a sender short of N, or an observer without it after "
                + "%d s): %d%n", CHANGE_TIMEOUT_MS / 1000, incomplete));
        b.append(String.format(Locale.ROOT, "proxy heap used after GC: %d B (0 observers, after 20 forwarded GETs), %d B (1: the "
                        + "group observation joined), %d B (%d), %d B (after the run); per observer from 1 to %d: %.0f B%n",
                heap[0], heap[1], heap[2], n, heap[3], n, (heap[2] - heap[1]) / (double) (n - 1 == 0 ? 1 : n - 1)));
        int perRelation = warmup + changes;
        b.append(String.format(Locale.ROOT, "after the run, %d notifications later per observer: %+.0f B per observer, %.0f B per "
                        + "notification sent: Californium keeps a KeyMID (NotificationKeyMID) of every NON notification of a "
                        + "relation until a CON one is acknowledged (every %dth by default, NOTIFICATION_CHECK_INTERVAL_COUNT), in the proxy "
                        + "and in the reference server alike (class histograms with --histogram)%n", perRelation,
                (heap[3] - heap[2]) / (double) n, (heap[3] - heap[2]) / (double) n / perRelation, 100));
        b.append("\nwhat is measured\n");
        b.append("- t0: System.nanoTime() just before the resource's changed() in this process (the state set first); the "
                + "traditional resource then notifies its relations on the server's executor, the group-observed one sends its "
                + "one multicast notification from the server's socket.\n");
        b.append("- last sent: the nanoTime at which the sending endpoint (the reference server's, or the proxy's front endpoint "
                + "in the proxy's process) had written the N-th response of the change to its socket: a Californium "
                + "post-process interceptor (SentClock), called after the connector sent the datagram; System.nanoTime is "
                + "CLOCK_MONOTONIC, one clock for both processes. A change counts only if the sender sent at least N responses "
                + "in it (nothing else is sent meanwhile).\n");
        b.append("- first sent: the same clock's first response written after the count before the change was read.\n");
        b.append("- last / first received: the nanoTime at which an observer socket's thread received the N-th / first "
                + "notification carrying the change (distinct observers, payload checked), in this process; this includes "
                + "the observers' own lag, the same code for both sides.\n");
        b.append("- server datagrams: what the server's endpoint handed to its connector during the change (a Californium "
                + "interceptor: every request, response and empty message), plus GroupObservedResource.multicastSent() (its "
                + "notifications go to the connector directly).\n");
        b.append("- the estimate of the traditional server's CPU: this process's CPU per change on the traditional side less "
                + "on the group side (the observers' receiving is the same on both, the group server's one datagram next to "
                + "nothing).\n");
        b.append("- the traditional server shares this process with the observers; the proxy is a process of its own (its heap "
                + "and CPU its own); both compete for the same 2 cores with the observers' threads.\n");
        b.append("- heap per observer: used heap after GC in the proxy process (System.gc() until it stops falling) with N "
                + "observers minus with none, divided by N: gross, with the one group observation (its socket, thread and "
                + "relay) and what each registration exchange leaves behind.\n");
        b.append("- CPU: the time on CPU of all the process's threads (/proc/PID/task/TID/schedstat, ns) from just before the "
                + "change until 50 ms after the last notification arrived, median per change; the servers and the observers "
                + "share this process, so its figure holds the traditional server's sending and both sides' receiving.\n");
        b.append("\nnotes\n");
        for (String s : notes) {
            b.append("- ").append(s).append('\n');
        }
        return b.toString();
    }

    private static void log(String s) {
        ProxyLoadDriver.log(s);
    }
}
