package dev.coterie.bench;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestProtector;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;

/**
 * The proxy benchmarks of issue 7, side by side in one run, each as a ratio. A closed loop of 64
 * NON requests outstanding ({@link Load}) from one Californium client, over loopback:
 * <ol>
 * <li>GET with Proxy-Uri to a plain Californium origin through the Coterie proxy, through
 * Californium proxy2 3.9.1 ({@code bench/proxy2}, its own process and class path) and through
 * libcoap 4.3.1 {@code coap-server-notls -P}; the same GET sent directly to the origin.</li>
 * <li>CPU time of the proxy process per forwarded request: utime+stime from /proc/PID/stat over
 * each measured window, divided by the requests answered in it. Every proxy is its own
 * process; the client and the origins share this one.</li>
 * <li>The same forwarding with a client-to-proxy OSCORE hop (the proxy removes the layer and
 * protects the response), against plain forwarding.</li>
 * <li>Cache hits of a deterministic Group OSCORE response (DET-10): one member's read primes
 * the cache, another's is verified to be a hit, then the same deterministic request (its wire
 * bytes, new Token and MID each time, responses not verified so that the client's signature
 * checks do not dominate) is repeated, against the plain origin answering GET directly.</li>
 * <li>Heap per cache entry and per observer in the Coterie proxy process.</li>
 * </ol>
 * Each configuration is warmed up (default 30 s), then measured in windows (default 3 of 10 s);
 * the medians are reported. Usage: {@code ProxyLoadDriver --proxy2-cp CP [--warmup S] [--window S]
 * [--windows N] [--heap-n N] [--only a,b] [--out FILE]}. The HTTP front end against CoAP through one
 * proxy process is {@link HttpFrontEndBench} ({@code bench/http-run.sh}), built from the helpers here.
 */
public final class ProxyLoadDriver {
    static final int OUTSTANDING = 64;
    static final byte[] PAYLOAD = "temperature reading 1".getBytes(StandardCharsets.US_ASCII);

    private int warmupS = 30;
    private int windowS = 10;
    private int windows = 3;
    private int heapN = 2000;
    private String proxy2Cp;
    private Path out;
    private Set<String> only;
    private final Path logs = Path.of("bench/target/proxy-logs");
    private long clkTck = 100;
    private final Configuration cfg = LoopbackThroughputBenchmark.config();
    private CoapServer origin;
    private int originPort;
    private CoapServer sensor;
    private int sensorPort;
    private final Map<String, Result> results = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();

    /** Medians over the windows of one configuration. */
    record Result(String name, double[] rates, double[] proxyCpuUs, double[] driverCpuUs, String problems) {
        double rate() {
            return median(rates);
        }

        double cpu() {
            return median(proxyCpuUs);
        }

        double driverCpu() {
            return median(driverCpuUs);
        }
    }

    public static void main(String[] args) throws Exception {
        ProxyLoadDriver d = new ProxyLoadDriver();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--warmup" -> d.warmupS = Integer.parseInt(args[++i]);
                case "--window" -> d.windowS = Integer.parseInt(args[++i]);
                case "--windows" -> d.windows = Integer.parseInt(args[++i]);
                case "--heap-n" -> d.heapN = Integer.parseInt(args[++i]);
                case "--proxy2-cp" -> d.proxy2Cp = args[++i];
                case "--out" -> d.out = Path.of(args[++i]);
                case "--only" -> d.only = Set.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        d.run();
        System.exit(0);
    }

    private boolean wanted(String name) {
        return only == null || only.contains(name);
    }

    private void run() throws Exception {
        Files.createDirectories(logs);
        clkTck = clockTicks();
        startOrigins();
        log("origin on " + originPort + ", group sensor on " + sensorPort + "; warm-up " + warmupS + " s, " + windows + " x "
                + windowS + " s windows, " + OUTSTANDING + " outstanding NON");
        String fwdUri = "coap://127.0.0.1:" + originPort + "/fwd";
        if (wanted("direct")) {
            measureDirect();
        }
        if (wanted("coterie")) {
            try (Proc p = coterie("fwd", yaml(false, false), false)) {
                measurePlainProxy("coterie", p, fwdUri);
            }
        }
        if (wanted("proxy2")) {
            if (proxy2Cp == null) {
                notes.add("proxy2 skipped: no --proxy2-cp");
            } else {
                try (Proc p = Proc.start("proxy2", logs, List.of(java(), "-Xms256m", "-Xmx512m", "-cp", proxy2Cp,
                        "dev.coterie.bench.proxy2.Proxy2ForwardProxy", "0"), true)) {
                    measurePlainProxy("proxy2", p, fwdUri);
                }
            }
        }
        if (wanted("libcoap")) {
            int port = freeUdpPort();
            // names after the comma are this proxy's own; 127.0.0.1 must not be one (the origin is there)
            try (Proc p = Proc.start("libcoap", logs, List.of("coap-server-notls", "-A", "127.0.0.1", "-p", String.valueOf(port),
                    "-v", "0", "-P", ",coterie-bench-proxy"), false)) {
                p.port = port;
                measurePlainProxy("libcoap", p, fwdUri);
            }
        }
        if (wanted("hop")) {
            try (Proc p = coterie("hop", yaml(true, false), true)) {
                measureHop(p, fwdUri);
            }
        }
        if (wanted("det")) {
            try (Proc p = coterie("det", yaml(false, true), false)) {
                measureDeterministic(p);
            }
        }
        if (wanted("heap")) {
            try (Proc p = coterie("heap", yaml(false, true), false)) {
                measureHeap(p);
            }
        }
        String report = report();
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
        origin.destroy();
        sensor.destroy();
    }

    // ---------------------------------------------------------------- origins

    private void startOrigins() throws Exception {
        origin = new CoapServer(cfg);
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        origin.addEndpoint(ep);
        origin.add(resource("fwd", 0), resource("nocache", 0), resource("c", 3600));
        CoapResource obs = new CoapResource("obs") {
            @Override
            public void handleGET(CoapExchange exchange) {
                Response r = new Response(ResponseCode.CONTENT);
                r.getOptions().setMaxAge(3600);
                r.setPayload(PAYLOAD);
                exchange.respond(r);
            }
        };
        obs.setObservable(true);
        origin.add(obs);
        origin.start();
        originPort = ep.getAddress().getPort();

        // the group sensor of DeterministicCacheThroughProxyTest: member 1 of three, deterministic reads allowed
        sensor = new CoapServer(cfg);
        CoapEndpoint sep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(cfg)
                .serverGroups(new GroupContextDb().add(group.member(1)))
                .deterministicRequests(r -> r.getOptions().getUriPath().equals(List.of("temperature")))
                .build();
        sensor.addEndpoint(sep);
        sensor.add(new CoapResource("temperature") {
            @Override
            public void handleGET(CoapExchange exchange) {
                Response r = new Response(ResponseCode.CONTENT);
                r.getOptions().setMaxAge(3600);
                r.setPayload(PAYLOAD);
                exchange.respond(r);
            }
        });
        sensor.start();
        sensorPort = sep.getAddress().getPort();
    }

    static CoapResource resource(String name, int maxAge) {
        return resource(name, maxAge, null);
    }

    /** GET answers 2.05 {@link #PAYLOAD} with {@code maxAge}; each is counted in {@code served} (null: not counted). */
    static CoapResource resource(String name, int maxAge, LongAdder served) {
        return new CoapResource(name) {
            @Override
            public void handleGET(CoapExchange exchange) {
                if (served != null) {
                    served.increment();
                }
                Response r = new Response(ResponseCode.CONTENT);
                r.getOptions().setMaxAge(maxAge);
                r.setPayload(PAYLOAD);
                exchange.respond(r);
            }
        };
    }

    /** Three members of one group with a deterministic client, as in DeterministicCacheThroughProxyTest. */
    private final Group group = new Group();

    static final class Group {
        static final byte[] GID = Hex.decode("b1f05c");
        static final byte[] DET = Hex.decode("dc");
        static final List<byte[]> IDS = List.of(Hex.decode("01"), Hex.decode("02"), Hex.decode("03"));
        final List<PrivateKey> keys = new ArrayList<>();
        final List<Credential> creds = new ArrayList<>();
        final Credential gm;

        Group() {
            try {
                for (int i = 0; i < IDS.size(); i++) {
                    PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
                    keys.add(k);
                    creds.add(Credential.ccs("member-" + i, k));
                }
                gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        GroupContext member(int i) throws Exception {
            GroupContext.Builder b = GroupContext.builder().name("sensors").algorithms(GroupAlgorithms.defaults()).gid(GID)
                    .masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10")).masterSalt(Hex.decode("9e7c"))
                    .groupManagerCredential(gm).sender(IDS.get(i), keys.get(i), creds.get(i))
                    .deterministicClient(DET, HashAlgorithm.SHA_256).stateStore(SecurityStateStore.inMemory());
            for (int j = 0; j < IDS.size(); j++) {
                if (j != i) {
                    b.member(IDS.get(j), creds.get(j));
                }
            }
            return b.build();
        }
    }

    // ---------------------------------------------------------------- proxies

    private String yaml(boolean hop, boolean cache) {
        String client = hop ? "{kid: '" + Hex.encode(CoterieProxyMain.CLIENT_ID) + "'}" : "unauthenticated";
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "limits: {exchanges: 10000, observers: 20000, requests_per_second: 1000000, burst: 10000000, upstream_timeout_ms: 5000}\n"
                + "cache: {enabled: " + cache + ", max_entries: 100000, max_bytes: 1073741824}\n"
                + "access:\n  - {client: " + client + ", allow: [{origin: '127.0.0.1:" + originPort + "'}, {origin: '127.0.0.1:"
                + sensorPort + "'}]}\n";
    }

    private Proc coterie(String name, String yaml, boolean hop) throws IOException, InterruptedException {
        Path f = logs.resolve("coterie-" + name + ".yaml");
        Files.writeString(f, yaml);
        List<String> cmd = proxyCommand(f);
        if (hop) {
            cmd.add("--hop");
        }
        return Proc.start("coterie-" + name, logs, cmd, true);
    }

    /**
     * The command line of {@link CoterieProxyMain} on {@code yaml}, on this class path;
     * COTERIE_PROXY_BENCH_JVM adds JVM options (e.g. a JFR recording, to profile the proxy), with
     * {@code {name}} in them replaced by the file's name without {@code .yaml}: one file per proxy.
     */
    static List<String> proxyCommand(Path yaml) {
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xms256m", "-Xmx512m"));
        String extra = System.getenv("COTERIE_PROXY_BENCH_JVM");
        if (extra != null && !extra.isBlank()) {
            String name = yaml.getFileName().toString().replace(".yaml", "");
            cmd.addAll(List.of(extra.replace("{name}", name).trim().split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), CoterieProxyMain.class.getName(), yaml.toString()));
        return cmd;
    }

    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    // ---------------------------------------------------------------- clients and measurements

    private CoapEndpoint plainClient() {
        return plainClient(cfg);
    }

    /** A started plain client endpoint on 127.0.0.1 that keeps the extension options. */
    static CoapEndpoint plainClient(Configuration cfg) {
        CoapEndpoint c = new CoapEndpoint.Builder().setConfiguration(cfg).setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        try {
            c.start();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return c;
    }

    static Request get(String proxyUri) {
        Request r = new Request(org.eclipse.californium.core.coap.CoAP.Code.GET, Type.NON);
        if (proxyUri != null) {
            r.getOptions().setProxyUri(proxyUri);
        }
        return r;
    }

    static final Predicate<Response> CONTENT = r -> r.getCode() == ResponseCode.CONTENT
            && Arrays.equals(r.getPayload(), PAYLOAD);

    private void measureDirect() throws Exception {
        CoapEndpoint c = plainClient();
        try {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", originPort);
            waitReady(c, to, () -> {
                Request r = get(null);
                r.getOptions().setUriPath("fwd");
                return r;
            });
            results.put("direct", measure("direct", c, to, n -> {
                Request r = get(null);
                r.getOptions().setUriPath("fwd");
                return r;
            }, CONTENT, -1));
        } finally {
            c.destroy();
        }
    }

    private void measurePlainProxy(String name, Proc p, String uri) throws Exception {
        CoapEndpoint c = plainClient();
        try {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", p.port);
            waitReady(c, to, () -> get(uri));
            results.put(name, measure(name, c, to, n -> get(uri), CONTENT, p.pid()));
        } finally {
            c.destroy();
        }
    }

    private void measureHop(Proc p, String uri) throws Exception {
        RequestProtector hop = RequestProtector.forProxy(CoterieProxyMain.hopContext(false).protector());
        CoapEndpoint c = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(cfg)
                .clientBinding(new ClientContextBinding().endpointDefault(hop)).build();
        c.start();
        try {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", p.port);
            waitReady(c, to, () -> get(uri));
            results.put("hop", measure("hop", c, to, n -> get(uri), CONTENT, p.pid()));
        } finally {
            c.destroy();
        }
    }

    private void measureDeterministic(Proc p) throws Exception {
        InetSocketAddress to = new InetSocketAddress("127.0.0.1", p.port);
        String uri = "coap://127.0.0.1:" + sensorPort + "/temperature";
        // member 0 primes the cache; its request as it went on the wire is what the load repeats
        List<Request> wire = new CopyOnWriteArrayList<>();
        Response first = detRead(group.member(0), uri, to, wire);
        if (first == null || first.getCode() != ResponseCode.CONTENT || !Arrays.equals(first.getPayload(), PAYLOAD)) {
            throw new IllegalStateException("deterministic read through the proxy failed: " + first);
        }
        Response second = detRead(group.member(2), uri, to, new CopyOnWriteArrayList<>());
        if (second == null || OscorePeer.of(second).mode() != ProtectionMode.GROUP || !Arrays.equals(second.getPayload(), PAYLOAD)) {
            throw new IllegalStateException("the second member did not verify the cached response: " + second);
        }
        Request w = wire.get(0);
        OptionSet opts = new OptionSet(w.getOptions());
        byte[] payload = w.getPayload();
        org.eclipse.californium.core.coap.CoAP.Code code = w.getCode(); // FETCH: a deterministic request's outer code
        String hits0 = p.command("heap");
        notes.add("det: wire request " + code + ", " + payload.length + " B payload, options " + opts.asSortedList()
                + "; proxy stats before load (heap entries observers hits): " + hits0);
        CoapEndpoint c = plainClient();
        try {
            Predicate<Response> hit = r -> r.getCode() == ResponseCode.CONTENT && r.getOptions().hasOscore();
            results.put("det", measure("det", c, to, n -> {
                Request r = new Request(code, Type.NON);
                r.setOptions(opts);
                r.setPayload(payload);
                return r;
            }, hit, p.pid()));
        } finally {
            c.destroy();
        }
        String hits1 = p.command("heap");
        notes.add("det: proxy stats after load (heap entries observers hits): " + hits1);
    }

    private Response detRead(GroupContext member, String uri, InetSocketAddress proxy, List<Request> sent) throws Exception {
        ClientContextBinding binding = new ClientContextBinding();
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(cfg)
                .clientBinding(binding).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void sendRequest(Request request) {
                sent.add(request);
            }
        });
        ep.start();
        try {
            RequestProtector det = member.deterministic(Group.IDS.get(1), null, ExtensionOptionRegistry.defaults(), true, 0);
            Request r = Request.newGet();
            r.getOptions().setProxyUri(uri);
            r.setDestinationContext(new AddressEndpointContext(proxy));
            binding.bind(r, det);
            ep.sendRequest(r);
            return r.waitForResponse(5000);
        } finally {
            ep.destroy();
        }
    }

    private void measureHeap(Proc p) throws Exception {
        CoapEndpoint c = plainClient();
        try {
            InetSocketAddress to = new InetSocketAddress("127.0.0.1", p.port);
            String base = "coap://127.0.0.1:" + originPort + "/";
            waitReady(c, to, () -> get(base + "fwd"));
            bounded(c, to, 500, n -> get(base + "fwd"), CONTENT); // classes loaded, pools filled
            long[] h0 = heap(p);
            bounded(c, to, heapN, n -> get(base + "nocache?n=" + n), CONTENT);
            long[] h1 = heap(p);
            bounded(c, to, heapN, n -> get(base + "c?n=" + n), CONTENT);
            long[] h2 = heap(p);
            bounded(c, to, heapN, n -> get(base + "c?n=0"), CONTENT);
            long[] h3 = heap(p);
            bounded(c, to, heapN, n -> {
                Request r = get(base + "obs");
                r.setObserve();
                return r;
            }, CONTENT);
            Thread.sleep(500);
            long[] h4 = heap(p);
            // what a forwarded request leaves behind for EXCHANGE_LIFETIME (deduplication entries),
            // measured on misses and on hits, is taken off what the entries and observers add
            double residueMiss = (h1[0] - h0[0]) / (double) heapN;
            double perEntry = (h2[0] - h1[0]) / (double) heapN - residueMiss;
            double residueHit = (h3[0] - h2[0]) / (double) heapN;
            // not less the hit residue: an observer's Exchange is the very object its deduplication
            // entry holds, and it stays as long as the observation (an upper bound by a map node)
            double perObserver = (h4[0] - h3[0]) / (double) heapN;
            notes.add(String.format(Locale.ROOT, "heap: used after GC %d / %d / %d / %d / %d B (start, then +%d each: uncached GETs, "
                            + "GETs of distinct cacheable URIs, cache hits, observers of one resource); cache entries %d -> %d, "
                            + "hits %d -> %d, observers %d; left behind for EXCHANGE_LIFETIME per request: %.0f B per miss (subtracted from "
                            + "the entries), %.0f B per hit (the observers' Exchanges are these same objects: not subtracted)",
                    h0[0], h1[0], h2[0], h3[0], h4[0], heapN, h1[1], h2[1], h2[3], h3[3], h4[2], residueMiss, residueHit));
            results.put("heap-entry", new Result("heap-entry", new double[] {perEntry}, new double[] {Double.NaN},
                    new double[] {Double.NaN}, "entries " + (h2[1] - h1[1])));
            results.put("heap-observer", new Result("heap-observer", new double[] {perObserver}, new double[] {Double.NaN},
                    new double[] {Double.NaN}, "observers " + h4[2]));
        } finally {
            c.destroy();
        }
    }

    private static long[] heap(Proc p) throws Exception {
        String[] f = p.command("heap").split(" ");
        return new long[] {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[4])};
    }

    private void bounded(Endpoint c, InetSocketAddress to, int n, LongFunction<Request> make, Predicate<Response> good)
            throws InterruptedException {
        Load l = new Load(c, to, OUTSTANDING, make, good, n);
        if (!l.runToLimit(120_000)) {
            notes.add("heap phase: " + l.answered() + " of " + n + " answered, " + l.problems());
        }
    }

    /** Sends one request a second until one is answered (at most 20 s). */
    static void waitReady(Endpoint c, InetSocketAddress to, java.util.function.Supplier<Request> make)
            throws InterruptedException {
        for (int i = 0; i < 40; i++) {
            Request r = make.get();
            r.setDestinationContext(new AddressEndpointContext(to));
            c.sendRequest(r);
            Response resp = r.waitForResponse(500);
            if (resp != null) {
                if (!CONTENT.test(resp)) {
                    throw new IllegalStateException("readiness probe to " + to + " answered " + resp);
                }
                return;
            }
            r.cancel();
        }
        throw new IllegalStateException("no answer from " + to + " within 20 s");
    }

    private Result measure(String name, Endpoint c, InetSocketAddress to, LongFunction<Request> make, Predicate<Response> good,
                           long proxyPid) throws Exception {
        Load load = new Load(c, to, OUTSTANDING, make, good, 50_000_000L).start();
        Thread.sleep(warmupS * 1000L);
        double[] rates = new double[windows];
        double[] cpu = new double[windows];
        double[] driver = new double[windows];
        for (int w = 0; w < windows; w++) {
            Window x = window(load::answered, proxyPid, windowS, clkTck);
            rates[w] = x.rate();
            cpu[w] = x.proxyUs();
            driver[w] = x.driverUs();
            log(String.format(Locale.ROOT, "%-8s window %d: %8.0f req/s, proxy %6.1f us/req, client+origin %6.1f us/req", name, w + 1,
                    rates[w], cpu[w], driver[w]));
        }
        load.stop();
        String problems = load.problems();
        log(name + ": sent " + load.sent() + ", answered " + load.answered() + ", " + problems);
        return new Result(name, rates, cpu, driver, problems);
    }

    /** One measured window: answers per second, and CPU per answer of the proxy process (NaN: none) and of this one. */
    record Window(double rate, double proxyUs, double driverUs, long answered) {
    }

    /**
     * Measures {@code seconds} of a running load: the answers {@code answered} counts, and the
     * utime+stime of the proxy process ({@code proxyPid}, none if not positive) and of this
     * process over them.
     */
    static Window window(LongSupplier answered, long proxyPid, int seconds, long clkTck) throws IOException, InterruptedException {
        long self = ProcessHandle.current().pid();
        long n0 = answered.getAsLong();
        long p0 = proxyPid > 0 ? cpuTicks(proxyPid) : 0;
        long d0 = cpuTicks(self);
        long t0 = System.nanoTime();
        Thread.sleep(seconds * 1000L);
        long n1 = answered.getAsLong();
        long p1 = proxyPid > 0 ? cpuTicks(proxyPid) : 0;
        long d1 = cpuTicks(self);
        long t1 = System.nanoTime();
        long n = n1 - n0;
        return new Window(n / ((t1 - t0) / 1e9), proxyPid > 0 && n > 0 ? (p1 - p0) * 1e6 / clkTck / n : Double.NaN,
                n > 0 ? (d1 - d0) * 1e6 / clkTck / n : Double.NaN, n);
    }

    // ---------------------------------------------------------------- /proc

    /** utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks. */
    static long cpuTicks(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        // f[0] is field 3 (state): field k is f[k - 3]
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /**
     * CPU time of the process's threads now, in ns: the first field of each
     * /proc/PID/task/TID/schedstat, summed (finer than {@link #cpuTicks}'s clock ticks, for
     * spans of a few ms; a thread that ended since an earlier reading drops out of the sum).
     */
    static long cpuNanos(long pid) throws IOException {
        long sum = 0;
        try (java.nio.file.DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : tasks) {
                try {
                    String s = Files.readString(t.resolve("schedstat"));
                    sum += Long.parseLong(s.substring(0, s.indexOf(' ')));
                } catch (java.nio.file.NoSuchFileException e) {
                    // the thread ended meanwhile
                }
            }
        }
        return sum;
    }

    static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            p.waitFor();
            return Long.parseLong(v);
        } catch (Exception e) {
            return 100;
        }
    }

    private static int freeUdpPort() throws IOException {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            return s.getLocalPort();
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length == 0 ? Double.NaN : s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    static void log(String s) {
        System.err.println("[" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")) + "] " + s);
    }

    // ---------------------------------------------------------------- report

    private String report() {
        StringBuilder b = new StringBuilder();
        b.append("Coterie proxy benchmarks (issue 7), one run of bench/proxy-run.sh, ")
                .append(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE)).append('\n');
        b.append(String.format(Locale.ROOT, "Loopback, %d NON requests outstanding from one Californium 3.13.0 client; warm-up %d s, "
                + "then medians of %d windows of %d s per configuration. Proxy CPU: utime+stime of the proxy process "
                + "(/proc/PID/stat) over each window / requests answered in it.%n%n", OUTSTANDING, warmupS, windows, windowS));
        b.append(String.format(Locale.ROOT, "%-58s %12s %12s %8s %-22s %s%n", "measure", "coterie", "reference", "ratio",
                "target", "met"));
        Result direct = results.get("direct");
        Result cot = results.get("coterie");
        Result p2 = results.get("proxy2");
        Result lc = results.get("libcoap");
        Result hop = results.get("hop");
        Result det = results.get("det");
        row(b, "forwarding req/s vs Californium proxy2 3.9.1", cot, p2, false, 1.5, ">= 1.5x");
        row(b, "forwarding req/s vs libcoap 4.3.1 -P", cot, lc, false, 1.0, ">= 1.0x");
        cpuRow(b, "proxy CPU us/forwarded request vs proxy2", cot, p2, 0.5, "<= 0.5x");
        cpuRow(b, "proxy CPU us/forwarded request vs libcoap", cot, lc, 1.0, "<= 1.0x");
        row(b, "forwarding with an OSCORE hop vs plain forwarding", hop, cot, false, 0.8, ">= 0.8x");
        row(b, "deterministic cache hit req/s vs plain server direct", det, direct, false, 1.0, ">= 1.0x");
        Result he = results.get("heap-entry");
        Result ho = results.get("heap-observer");
        if (he != null) {
            b.append(String.format(Locale.ROOT, "%-58s %10.0f B %12s %8s %-22s %s%n", "heap per cache entry (plain GET, 21 B payload)",
                    he.rate(), "-", "-", "report", "-"));
            b.append(String.format(Locale.ROOT, "%-58s %10.0f B %12s %8s %-22s %s%n", "heap per observer (one relayed resource, gross)",
                    ho.rate(), "-", "-", "report", "-"));
        }
        b.append("\nper configuration (medians; windows in brackets)\n");
        b.append(String.format(Locale.ROOT, "%-10s %10s %14s %18s  %s%n", "config", "req/s", "proxy us/req", "client+origin us/req",
                "windows req/s | problems over the whole run"));
        for (Result r : results.values()) {
            if (r.name().startsWith("heap")) {
                continue;
            }
            StringBuilder w = new StringBuilder();
            for (double x : r.rates()) {
                w.append(String.format(Locale.ROOT, "%.0f ", x));
            }
            b.append(String.format(Locale.ROOT, "%-10s %10.0f %14.1f %18.1f  [%s] %s%n", r.name(), r.rate(), r.cpu(), r.driverCpu(),
                    w.toString().trim(), r.problems()));
        }
        if (direct != null) {
            b.append("\nthrough each proxy as a fraction of direct: ");
            for (Result r : java.util.stream.Stream.of(cot, p2, lc, hop, det).filter(java.util.Objects::nonNull).toList()) {
                b.append(String.format(Locale.ROOT, "%s %.2fx  ", r.name(), r.rate() / direct.rate()));
            }
            b.append('\n');
        }
        if (!notes.isEmpty()) {
            b.append("\nnotes\n");
            for (String n : notes) {
                b.append("- ").append(n).append('\n');
            }
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String measure, Result a, Result ref, boolean lowerBetter, double target, String t) {
        if (a == null || ref == null) {
            b.append(String.format(Locale.ROOT, "%-58s %12s %12s %8s %-22s %s%n", measure, "-", "-", "-", t, "not run"));
            return;
        }
        double ratio = a.rate() / ref.rate();
        boolean met = lowerBetter ? ratio <= target : ratio >= target;
        b.append(String.format(Locale.ROOT, "%-58s %12.0f %12.0f %7.2fx %-22s %s%n", measure, a.rate(), ref.rate(), ratio, t,
                met ? "met" : "NOT met"));
    }

    private static void cpuRow(StringBuilder b, String measure, Result a, Result ref, double target, String t) {
        if (a == null || ref == null) {
            b.append(String.format(Locale.ROOT, "%-58s %12s %12s %8s %-22s %s%n", measure, "-", "-", "-", t, "not run"));
            return;
        }
        double ratio = a.cpu() / ref.cpu();
        b.append(String.format(Locale.ROOT, "%-58s %10.1f us %9.1f us %7.2fx %-22s %s%n", measure, a.cpu(), ref.cpu(), ratio, t,
                ratio <= target ? "met" : "NOT met"));
    }

    // ---------------------------------------------------------------- processes

    /**
     * A proxy process: its pid, its port (the first of its READY line, or set), every port of
     * that line, and its later output lines.
     */
    static final class Proc implements AutoCloseable {
        final Process process;
        final String name;
        volatile int port;
        volatile int[] ports = new int[0];
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Proc(String name, Process process) {
            this.name = name;
            this.process = process;
        }

        static Proc start(String name, Path logs, List<String> cmd, boolean waitReady) throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(logs.resolve(name + ".err").toFile());
            Proc p = new Proc(name, pb.start());
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        p.lines.add(line);
                    }
                } catch (IOException e) {
                    // process gone
                }
            }, name + "-stdout");
            reader.setDaemon(true);
            reader.start();
            if (waitReady) {
                long until = System.currentTimeMillis() + 30_000;
                while (System.currentTimeMillis() < until) {
                    String l = p.lines.poll(100, TimeUnit.MILLISECONDS);
                    if (l != null && l.startsWith("READY ")) {
                        p.ports = Arrays.stream(l.substring(6).trim().split(" +")).mapToInt(Integer::parseInt).toArray();
                        p.port = p.ports[0];
                        break;
                    }
                    if (!p.process.isAlive()) {
                        break;
                    }
                }
                if (p.port == 0) {
                    p.close();
                    throw new IllegalStateException(name + " did not start; see " + logs.resolve(name + ".err"));
                }
            }
            log(name + " started, pid " + p.pid());
            return p;
        }

        long pid() {
            return process.pid();
        }

        /** Sends one command line and returns the first output line that answers it (30 s at most). */
        String command(String c) throws IOException, InterruptedException {
            OutputStream o = process.getOutputStream();
            o.write((c + "\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
            String l = lines.poll(30, TimeUnit.SECONDS);
            if (l == null) {
                throw new IllegalStateException(name + ": no answer to " + c);
            }
            return l;
        }

        @Override
        public void close() {
            try {
                process.getOutputStream().close();
            } catch (IOException e) {
                // already closed
            }
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
