package dev.coterie.bench;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The Coterie proxy as its own process for {@link ProxyLoadDriver}, so that its CPU time can
 * be read from /proc like the references' (proxy2, libcoap). Started from a YAML file as
 * {@code coterie proxy} would be; {@code --hop} adds the client hop context of
 * {@link #hopContext(boolean)} (built here rather than from a context file, with the replay
 * window at 64 since 64 requests are in flight, and key-usage limits off for a long run).
 *
 * <p>Prints {@code READY <port>} once it listens ({@code READY <port> <http port>} with the HTTP
 * front end). Reads commands on standard input: {@code heap} prints {@code HEAP <used bytes>
 * <cache entries> <observers> <cache hits>} after full collections; {@code counts} prints
 * {@code COUNTS <forwarded> <cache hits> <HTTP 2xx answers> <fast path requests>} (the proxy's
 * metrics, since it started); with {@code --count-sent}, {@code sent} prints {@link SentClock#line()}
 * of its front endpoints (responses and notifications sent to clients, and when the last left);
 * end of input stops it.
 */
public final class CoterieProxyMain {
    static final byte[] HOP_SECRET = dev.coterie.keystore.Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    static final byte[] HOP_SALT = dev.coterie.keystore.Hex.decode("9e7ca92223786340");
    static final byte[] CLIENT_ID = {0x0c};
    static final byte[] PROXY_ID = {0x0b};

    private CoterieProxyMain() {
    }

    /** The hop context of the proxy ({@code proxySide}) or of the benchmark client. */
    static OscoreContext hopContext(boolean proxySide) throws dev.coterie.keystore.StateUnavailableException {
        return OscoreContext.builder().name(proxySide ? "proxy-hop" : "client-hop")
                .masterSecret(SecretBytes.copyOf(HOP_SECRET)).masterSalt(HOP_SALT)
                .senderId(proxySide ? PROXY_ID : CLIENT_ID).recipientId(proxySide ? CLIENT_ID : PROXY_ID)
                .replayWindowSize(64).keyUsageLimits(false).stateStore(SecurityStateStore.inMemory()).build();
    }

    public static void main(String[] args) throws Exception {
        ProxyConfig cfg = ProxyConfig.load(Path.of(args[0]));
        List<String> flags = List.of(args).subList(1, args.length);
        List<OscoreContext> clients = flags.contains("--hop") ? List.of(hopContext(true)) : List.of();
        ProxyServer proxy = new ProxyServer(cfg, clients, ProxyServer.originMap()).start();
        SentClock sent = flags.contains("--count-sent") ? sentClock(proxy) : null;
        System.out.println("READY " + proxy.listenAddresses().get(0).getPort()
                + (proxy.httpAddress() == null ? "" : " " + proxy.httpAddress().getPort()));
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("heap")) {
                long used = usedHeapAfterGc();
                System.out.println("HEAP " + used + " " + (proxy.cache() == null ? 0 : proxy.cache().size()) + " "
                        + proxy.metrics().observers().get() + " " + (long) proxy.metrics().cacheHits());
                System.out.flush();
            } else if (line.equals("counts")) {
                ProxyMetrics m = proxy.metrics();
                System.out.println("COUNTS " + (long) m.count(ProxyMetrics.Outcome.FORWARDED) + " " + (long) m.cacheHits() + " "
                        + (long) m.httpAnswers("2xx") + " " + proxy.fastPathRequests());
                System.out.flush();
            } else if (line.equals("sent") && sent != null) {
                System.out.println(sent.line());
                System.out.flush();
            }
        }
        proxy.close();
        System.exit(0);
    }

    /**
     * A {@link SentClock} on every front endpoint of the proxy. ProxyServer does not hand its
     * endpoints out, so they are read from its field {@code frontEndpoints} (a rename fails here, at start).
     */
    private static SentClock sentClock(ProxyServer proxy) throws ReflectiveOperationException {
        java.lang.reflect.Field f = ProxyServer.class.getDeclaredField("frontEndpoints");
        f.setAccessible(true);
        SentClock clock = new SentClock();
        for (Object ep : (List<?>) f.get(proxy)) {
            ((org.eclipse.californium.core.network.Endpoint) ep).addPostProcessInterceptor(clock);
        }
        return clock;
    }

    /** Used heap after collections, once it stops falling (at most 10 rounds). */
    static long usedHeapAfterGc() throws InterruptedException {
        MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
        long last = Long.MAX_VALUE;
        for (int i = 0; i < 10; i++) {
            System.gc();
            Thread.sleep(200);
            long used = mem.getHeapMemoryUsage().getUsed();
            if (used >= last - 4096 && i >= 2) {
                return Math.min(used, last);
            }
            last = Math.min(last, used);
        }
        return last;
    }
}
