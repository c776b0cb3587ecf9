package dev.coterie.bench;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import dev.coterie.oscore.tcp.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.TcpConfig;

/**
 * The CoAP over TCP/TLS benchmarks of issue 10, side by side in one run, each variant driven by
 * the same bounded closed loop ({@link Load}: 64 requests outstanding, a slot refilled on its
 * answer, a request unanswered after 3 s counted as lost) from one client endpoint over one
 * connection (TCP, TLS) or one socket (UDP), all to 127.0.0.1:
 * <ul>
 * <li>udp, udp-oscore: Coterie over UDP, CON GET (plain: the bounded plain endpoint; OSCORE:
 * {@link OscoreEndpointBuilder}), the reference of (1);
 * <li>tcp, tcp-oscore: coap+tcp through {@link TcpConnectors} (plain: a Californium endpoint on
 * the connector; OSCORE: {@link OscoreEndpointBuilder} with it, as {@code coterie server --tcp-bind});
 * <li>tls, tls-oscore: the same over coaps+tcp (TLS 1.3, ALPN coap, a self-signed EC certificate
 * made here with keytool), plain the reference of (2);
 * <li>libcoap-tcp: the tcp client, unchanged, against libcoap's {@code coap-server} over coap+tcp,
 * the reference of (3);
 * <li>raw-udp, raw-tcp, raw-libcoap-tcp: the plain udp and tcp servers and libcoap driven by
 * {@link RawLoad} instead, a one-thread driver with pre-encoded requests and no Californium stack,
 * to show what the servers do when the client endpoint is not the bottleneck (the Californium
 * client driver costs more per request than libcoap's server does).
 * </ul>
 * Every Coterie variant asks the same resource: {@code GET /}, answered 2.05 with the bytes,
 * Content-Format and Max-Age libcoap's {@code coap-server} answers its {@code /} with (read from
 * it at the start), so (3) compares the same request and response. The Coterie servers run in
 * this JVM (one {@link CoapServer}, one endpoint per variant), libcoap in a process of its own;
 * CPU per request is given for both (this JVM, plus coap-server's for libcoap).
 * Each window is a bounded count of requests (and at most {@code --max-seconds}); warm-up
 * windows per variant, then rounds of all variants in turn, the order reversed every other round;
 * medians per variant and their ratios.
 */
public final class TcpLoad {
    static final int OUTSTANDING = 64;
    static final byte[] SECRET = OscoreExchangeBenchmark.SECRET;
    static final String STORE_PASS = "bench-only-pass";
    static final List<String> ALL = List.of("udp", "udp-oscore", "tcp", "tcp-oscore", "tls", "tls-oscore", "libcoap-tcp",
            "raw-udp", "raw-tcp", "raw-libcoap-tcp");

    private List<String> variants = ALL;
    private int requests = 40_000;
    private int warmup = 2;
    private int rounds = 5;
    private int maxSeconds = 60;
    private String coapServer;
    private Path out;

    /** One variant: its client endpoint and where it sends. */
    private record Variant(String name, Endpoint client, String uri, InetSocketAddress to) {
    }

    /** One window: requests answered 2.05 with the banner, elapsed, CPU of this JVM and of coap-server. */
    record Window(long ok, long nanos, long selfCpu, long peerCpu, String problems) {
        double rate() {
            return ok * 1e9 / nanos;
        }

        double cpuUs() {
            return (selfCpu + peerCpu) / 1e3 / Math.max(1, ok);
        }
    }

    public static void main(String[] args) throws Exception {
        TcpLoad t = new TcpLoad();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--requests" -> t.requests = Integer.parseInt(args[++i]);
                case "--warmup" -> t.warmup = Integer.parseInt(args[++i]);
                case "--rounds" -> t.rounds = Integer.parseInt(args[++i]);
                case "--max-seconds" -> t.maxSeconds = Integer.parseInt(args[++i]);
                case "--coap-server" -> t.coapServer = args[++i];
                case "--out" -> t.out = Path.of(args[++i]);
                case "--variants" -> t.variants = List.of(args[++i].split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (t.coapServer == null) {
            throw new IllegalArgumentException("--coap-server PATH (libcoap's coap-server-notls; bench/tcp-run.sh finds it)");
        }
        t.run();
        System.exit(0);
    }

    /** The answer of libcoap's {@code /}, served by the Coterie root too. */
    private volatile Response banner;

    private void run() throws Exception {
        Path dir = Files.createTempDirectory("coterie-tcpbench");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        TcpConfig.register();
        TcpLimits limits = TcpLimits.DEFAULTS;
        Path p12 = dir.resolve("server.p12");
        Path pem = dir.resolve("server.pem");
        certificate(p12, pem);
        SSLContext serverTls = TlsFiles.server(p12, STORE_PASS.toCharArray(), null);
        SSLContext clientTls = TlsFiles.client(pem, null, null);

        int libcoapPort = freePort();
        Path libcoapLog = dir.resolve("coap-server.log");
        Process libcoap = new ProcessBuilder(coapServer, "-A", "127.0.0.1", "-p", String.valueOf(libcoapPort))
                .redirectErrorStream(true).redirectOutput(libcoapLog.toFile()).start();
        libcoap.getOutputStream().close();
        Runtime.getRuntime().addShutdownHook(new Thread(libcoap::destroy)); // also when this JVM is killed
        CoapServer server = new CoapServer(cfg()) {
            @Override
            protected Resource createRoot() {
                return new CoapResource("") {
                    @Override
                    public void handleGET(CoapExchange exchange) {
                        Response b = banner;
                        exchange.setMaxAge(b.getOptions().getMaxAge());
                        exchange.respond(ResponseCode.CONTENT, b.getPayload(), b.getOptions().getContentFormat());
                    }
                };
            }
        };
        List<Endpoint> clients = new ArrayList<>();
        Map<String, Variant> v = new LinkedHashMap<>();
        try {
            InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
            ExtensionOptionRegistry ext = ExtensionOptionRegistry.defaults();
            CoapEndpoint udpS = OscoreEndpointBuilder.boundedPlainEndpoint(cfg(), any, ext);
            CoapEndpoint udpOS = new OscoreEndpointBuilder().bind(any).configuration(cfg())
                    .serverContexts(new InMemoryContextDb().add(context(true))).build();
            Configuration c;
            CoapEndpoint tcpS = new CoapEndpoint.Builder().setConfiguration(c = cfg()).setConnector(TcpConnectors.server(any, c, limits)).build();
            CoapEndpoint tcpOS = new OscoreEndpointBuilder().configuration(c = cfg()).connector(TcpConnectors.server(any, c, limits))
                    .serverContexts(new InMemoryContextDb().add(context(true))).build();
            CoapEndpoint tlsS = new CoapEndpoint.Builder().setConfiguration(c = cfg())
                    .setConnector(TcpConnectors.tlsServer(serverTls, false, any, c, limits)).build();
            CoapEndpoint tlsOS = new OscoreEndpointBuilder().configuration(c = cfg())
                    .connector(TcpConnectors.tlsServer(serverTls, false, any, c, limits))
                    .serverContexts(new InMemoryContextDb().add(context(true))).build();
            for (CoapEndpoint e : List.of(udpS, udpOS, tcpS, tcpOS, tlsS, tlsOS)) {
                server.addEndpoint(e);
            }
            server.start();

            Endpoint udpC = OscoreEndpointBuilder.boundedPlainEndpoint(udpClientCfg(), any, ext);
            Endpoint udpOC = new OscoreEndpointBuilder().bind(any).configuration(udpClientCfg())
                    .clientBinding(new ClientContextBinding().endpointDefault(context(false))).build();
            Endpoint tcpC = new CoapEndpoint.Builder().setConfiguration(c = cfg()).setConnector(TcpConnectors.client(c, limits)).build();
            Endpoint tcpOC = new OscoreEndpointBuilder().configuration(c = cfg()).connector(TcpConnectors.client(c, limits))
                    .clientBinding(new ClientContextBinding().endpointDefault(context(false))).build();
            Endpoint tlsC = new CoapEndpoint.Builder().setConfiguration(c = cfg())
                    .setConnector(TcpConnectors.tlsClient(clientTls, "127.0.0.1", c, limits)).build();
            Endpoint tlsOC = new OscoreEndpointBuilder().configuration(c = cfg())
                    .connector(TcpConnectors.tlsClient(clientTls, "127.0.0.1", c, limits))
                    .clientBinding(new ClientContextBinding().endpointDefault(context(false))).build();
            clients.addAll(List.of(udpC, udpOC, tcpC, tcpOC, tlsC, tlsOC));
            for (Endpoint e : clients) {
                e.start();
            }
            add(v, "udp", udpC, "coap", udpS);
            add(v, "udp-oscore", udpOC, "coap", udpOS);
            add(v, "tcp", tcpC, "coap+tcp", tcpS);
            add(v, "tcp-oscore", tcpOC, "coap+tcp", tcpOS);
            add(v, "tls", tlsC, "coaps+tcp", tlsS);
            add(v, "tls-oscore", tlsOC, "coaps+tcp", tlsOS);
            InetSocketAddress lc = new InetSocketAddress("127.0.0.1", libcoapPort);
            v.put("libcoap-tcp", new Variant("libcoap-tcp", tcpC, "coap+tcp://127.0.0.1:" + libcoapPort + "/", lc));
            // the lean driver (RawLoad, no client endpoint): the same servers, plain GET /
            v.put("raw-udp", new Variant("raw-udp", null, null, v.get("udp").to()));
            v.put("raw-tcp", new Variant("raw-tcp", null, null, v.get("tcp").to()));
            v.put("raw-libcoap-tcp", new Variant("raw-libcoap-tcp", null, null, lc));

            banner = fetchBanner(tcpC, lc, libcoapLog);
            log("libcoap coap-server / answers " + banner.getCode() + ", " + banner.getPayloadSize() + " bytes, Content-Format "
                    + banner.getOptions().getContentFormat() + ", Max-Age " + banner.getOptions().getMaxAge());

            Map<String, List<Window>> measured = new LinkedHashMap<>();
            for (String n : variants) {
                measured.put(n, new ArrayList<>());
            }
            List<String> notes = new ArrayList<>();
            double load0 = loadAverage();
            for (int w = 0; w < warmup; w++) {
                for (String n : variants) {
                    Window x = window(v.get(n), libcoap.pid());
                    log("warm-up " + (w + 1) + " " + n + ": " + Math.round(x.rate()) + "/s " + x.problems());
                }
            }
            for (int r = 0; r < rounds; r++) {
                List<String> order = new ArrayList<>(variants);
                if (r % 2 == 1) {
                    java.util.Collections.reverse(order);
                }
                for (String n : order) {
                    Window x = window(v.get(n), libcoap.pid());
                    measured.get(n).add(x);
                    log("round " + (r + 1) + " " + n + ": " + Math.round(x.rate()) + "/s, " + String.format("%.1f", x.cpuUs()) + " us/req "
                            + x.problems());
                    if (x.ok() != requests) {
                        notes.add("round " + (r + 1) + " " + n + ": " + x.ok() + " of " + requests + " answered 2.05 (" + x.problems() + ")");
                    }
                }
            }
            notes.add(String.format("load average (1 min) of the shared machine: %.2f at the start, %.2f at the end (2 cores)", load0,
                    loadAverage()));
            String report = report(measured, notes);
            System.out.print(report);
            if (out != null) {
                Files.writeString(out, report);
            }
        } finally {
            for (Endpoint e : clients) {
                e.destroy();
            }
            server.destroy();
            libcoap.destroy();
            if (!libcoap.waitFor(5, TimeUnit.SECONDS)) {
                libcoap.destroyForcibly();
            }
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.deleteIfExists(f);
                }
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void add(Map<String, Variant> v, String name, Endpoint client, String scheme, CoapEndpoint server) {
        InetSocketAddress a = new InetSocketAddress("127.0.0.1", server.getAddress().getPort());
        v.put(name, new Variant(name, client, scheme + "://127.0.0.1:" + a.getPort() + "/", a));
    }

    private static Configuration cfg() {
        return OscoreEndpointBuilder.defaultConfiguration();
    }

    /**
     * A UDP client's: no Message ID tracker. With Californium's (GROUPED), a client has 65536 MIDs
     * per peer per EXCHANGE_LIFETIME (247 s), so a UDP client at some 10^4 requests/s runs out
     * after a few seconds and its sends fail ("no MID available"); coap+tcp has no Message IDs.
     * Without it the UDP reference would stop, not slow down; the report says so.
     */
    private static Configuration udpClientCfg() {
        Configuration c = cfg();
        c.set(org.eclipse.californium.core.config.CoapConfig.MID_TRACKER, org.eclipse.californium.core.config.CoapConfig.TrackerMode.NULL);
        return c;
    }

    /** One side of the OSCORE context pair (client: Sender ID empty, server: 01); a window of 64 for 64 in flight. */
    private static OscoreContext context(boolean serverSide) throws Exception {
        byte[] s = serverSide ? new byte[] {1} : new byte[0];
        byte[] r = serverSide ? new byte[0] : new byte[] {1};
        // a benchmark protects more messages than the key usage limits allow (2^20): limits off, said here
        return OscoreContext.builder().masterSecret(SecretBytes.copyOf(SECRET)).masterSalt(OscoreExchangeBenchmark.SALT)
                .senderId(s).recipientId(r).replayWindowSize(64).keyUsageLimits(false).stateStore(SecurityStateStore.inMemory())
                .build();
    }

    private static Request get(String uri) {
        Request r = new Request(org.eclipse.californium.core.coap.CoAP.Code.GET, Type.CON);
        r.setURI(uri);
        return r;
    }

    private boolean good(Response r) {
        return r.getCode() == ResponseCode.CONTENT && java.util.Arrays.equals(r.getPayload(), banner.getPayload());
    }

    private Window window(Variant x, long libcoapPid) throws Exception {
        if (x.client() == null) {
            return rawWindow(x, libcoapPid);
        }
        Load load = new Load(x.client(), x.to(), OUTSTANDING, n -> get(x.uri()), this::good, requests);
        long self = ProcessHandle.current().pid();
        boolean peer = x.name().startsWith("libcoap");
        long s0 = ProxyLoadDriver.cpuNanos(self);
        long p0 = peer ? ProxyLoadDriver.cpuNanos(libcoapPid) : 0;
        long t0 = System.nanoTime();
        load.start();
        long until = t0 + TimeUnit.SECONDS.toNanos(maxSeconds);
        while (load.ok.sum() + load.bad.sum() + load.failed.sum() + load.lost.sum() < requests && System.nanoTime() - until < 0) {
            Thread.sleep(1);
        }
        long t1 = System.nanoTime();
        long s1 = ProxyLoadDriver.cpuNanos(self);
        long p1 = peer ? ProxyLoadDriver.cpuNanos(libcoapPid) : 0;
        long ok = load.ok.sum();
        load.stop();
        return new Window(ok, t1 - t0, s1 - s0, p1 - p0, load.problems());
    }

    /** A window of the lean driver ({@link RawLoad}), in this thread. */
    private Window rawWindow(Variant x, long libcoapPid) throws Exception {
        long self = ProcessHandle.current().pid();
        boolean peer = x.name().contains("libcoap");
        long s0 = ProxyLoadDriver.cpuNanos(self);
        long p0 = peer ? ProxyLoadDriver.cpuNanos(libcoapPid) : 0;
        long t0 = System.nanoTime();
        long max = TimeUnit.SECONDS.toNanos(maxSeconds);
        RawLoad.Result r = x.name().endsWith("udp") ? RawLoad.udp(x.to(), OUTSTANDING, requests, banner.getPayload(), max)
                : RawLoad.tcp(x.to(), OUTSTANDING, requests, banner.getPayload(), max);
        long t1 = System.nanoTime();
        long s1 = ProxyLoadDriver.cpuNanos(self);
        long p1 = peer ? ProxyLoadDriver.cpuNanos(libcoapPid) : 0;
        return new Window(r.ok(), t1 - t0, s1 - s0, p1 - p0, r.problems());
    }

    /** GET / from coap-server over coap+tcp, retried until it listens (at most 10 s). */
    private static Response fetchBanner(Endpoint tcp, InetSocketAddress to, Path log) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() - until < 0) {
            try (Socket s = new Socket()) {
                s.connect(to, 500);
                break;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        Request r = get("coap+tcp://127.0.0.1:" + to.getPort() + "/");
        tcp.sendRequest(r);
        Response b = r.waitForResponse(5000);
        if (b == null || b.getCode() != ResponseCode.CONTENT || b.getPayloadSize() == 0) {
            throw new IOException("libcoap's coap-server did not answer GET / over coap+tcp with 2.05 and a body: " + b
                    + (r.getSendError() == null ? "" : " (send error " + r.getSendError() + ")") + "; its log: "
                    + Files.readString(log, StandardCharsets.ISO_8859_1));
        }
        if (b.getOptions().getContentFormat() == MediaTypeRegistry.UNDEFINED) {
            b.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
        }
        return b;
    }

    /** A self-signed EC P-256 certificate for IP 127.0.0.1 (keytool), PKCS#12 and PEM, owner-only. */
    private static void certificate(Path p12, Path pem) throws Exception {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "bench", "-dname", "CN=bench", "-ext", "SAN=ip:127.0.0.1",
                "-validity", "2", "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass", STORE_PASS)
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String o = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool failed: " + o);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(p12)) {
            ks.load(in, STORE_PASS.toCharArray());
        }
        Base64.Encoder b64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + b64.encodeToString(ks.getCertificate("bench").getEncoded())
                + "\n-----END CERTIFICATE-----\n");
        for (Path f : List.of(p12, pem)) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
    }

    private static int freePort() throws IOException {
        // libcoap listens on this port for UDP and TCP: both must be free
        for (int i = 0; i < 20; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
                 java.net.DatagramSocket d = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", s.getLocalPort()))) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IOException("no port free for both TCP and UDP");
    }

    private static double loadAverage() {
        try {
            return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
        } catch (Exception e) {
            return Double.NaN;
        }
    }

    private static double median(List<Window> ws, java.util.function.ToDoubleFunction<Window> f) {
        return ProxyLoadDriver.median(ws.stream().mapToDouble(f).toArray());
    }

    private String report(Map<String, List<Window>> m, List<String> notes) {
        StringBuilder b = new StringBuilder();
        b.append("Coterie CoAP over TCP/TLS benchmark (issue 10), one run of bench/tcp-run.sh, ").append(LocalDate.now()).append('\n');
        b.append(String.format("Loopback only; one client endpoint per variant, one connection (TCP, TLS 1.3) or socket (UDP), %d GET / "
                + "outstanding (closed loop, CON over UDP), each window %d requests answered 2.05 with libcoap's / body (%d bytes); "
                + "%d warm-up windows per variant, then medians of %d rounds, the variants in turn (reversed every other round). "
                + "Coterie servers in this JVM, libcoap's coap-server (4.3.1, -notls build, single-threaded) in its own process. "
                + "The UDP clients run without a Message ID tracker (MID_TRACKER NULL): with Californium's, 65536 MIDs per 247 s "
                + "run out within seconds at these rates and every further send fails. "
                + "CPU: this JVM's threads (client, and server for Coterie), plus coap-server's for libcoap, per request. "
                + "raw-*: the same servers driven by RawLoad (one thread, pre-encoded GET /, no Californium client) "
                + "instead of a Californium client endpoint.\n\n",
                OUTSTANDING, requests, banner.getPayloadSize(), warmup, rounds));
        b.append(String.format("%-52s %10s %10s %7s %8s %s%n", "measure", "coterie", "reference", "ratio", "target", "met"));
        if (variants.equals(ALL)) {
            row(b, m, "(1) requests/s, one TCP connection vs UDP (plain)", "tcp", "udp", 0.9, Window::rate);
            row(b, m, "(1) requests/s, one TCP connection vs UDP (OSCORE)", "tcp-oscore", "udp-oscore", 0.9, Window::rate);
            row(b, m, "(2) requests/s, OSCORE over TLS vs plain over TLS", "tls-oscore", "tls", 0.85, Window::rate);
            row(b, m, "(3) requests/s over TCP, Coterie vs libcoap", "tcp", "libcoap-tcp", 1.0, Window::rate);
            row(b, m, "(3) CPU us/request, Coterie vs libcoap (all processes)", "tcp", "libcoap-tcp", Double.NaN, Window::cpuUs);
            row(b, m, "lean driver: requests/s, TCP vs UDP (plain)", "raw-tcp", "raw-udp", 0.9, Window::rate);
            row(b, m, "lean driver: requests/s, Coterie vs libcoap over TCP", "raw-tcp", "raw-libcoap-tcp", 1.0, Window::rate);
            row(b, m, "lean driver: CPU us/request, Coterie vs libcoap over TCP", "raw-tcp", "raw-libcoap-tcp", Double.NaN,
                    Window::cpuUs);
        }
        b.append("\nper variant (medians; windows in brackets, in the order taken)\n");
        b.append(String.format("%-12s %12s %12s  %s%n", "variant", "requests/s", "CPU us/req", "windows requests/s"));
        for (var e : m.entrySet()) {
            StringBuilder w = new StringBuilder();
            for (Window x : e.getValue()) {
                w.append(w.length() == 0 ? "" : " ").append(Math.round(x.rate()));
            }
            b.append(String.format("%-12s %12.0f %12.1f  [%s]%n", e.getKey(), median(e.getValue(), Window::rate),
                    median(e.getValue(), Window::cpuUs), w));
        }
        b.append("\nnotes\n");
        for (String n : notes) {
            b.append("- ").append(n).append('\n');
        }
        return b.toString();
    }

    private static void row(StringBuilder b, Map<String, List<Window>> m, String what, String a, String ref, double target,
                            java.util.function.ToDoubleFunction<Window> f) {
        double x = median(m.get(a), f);
        double y = median(m.get(ref), f);
        double ratio = x / y;
        boolean rate = Double.isFinite(target);
        b.append(String.format("%-52s %10s %10s %6.3fx %8s %s%n", what, rate ? String.format("%.0f", x) : String.format("%.1f", x),
                rate ? String.format("%.0f", y) : String.format("%.1f", y), ratio, rate ? String.format(">= %.2gx", target) : "report",
                rate ? (ratio >= target ? "met" : "NOT met") : "-"));
    }

    static void log(String s) {
        ProxyLoadDriver.log(s);
    }
}
