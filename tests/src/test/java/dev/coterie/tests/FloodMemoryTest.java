package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory under a flood is bounded (docs/configuration.md, "Limits under load"): a {@code coterie
 * server} in a child JVM with a small fixed heap gets {@value #DATAGRAMS} garbage OSCORE-looking
 * datagrams (CON and NON, an OSCORE option, a payload; unique Message IDs) from
 * {@value #SOURCES} loopback ports in about 10 s, while a valid OSCORE client keeps asking it
 * for /hello. The client must be answered during the flood (some of its requests may be lost
 * with the flood's) and every time after it; then, after a full GC in the child, the retained
 * heap must stay under a ceiling derived from the limits:
 *
 * <pre>
 *   retained after &lt;= retained before + min(valid requests, DEDUPLICATION_MAX_ENTRIES) x ENTRY_BYTES + SLACK
 * </pre>
 *
 * A rejected request keeps no state at all, so the garbage adds nothing; each valid request
 * keeps at most one deduplication entry (its exchange, with request, response and the OSCORE
 * identifiers), up to the ceiling of entries. Positive control: with Californium's unbounded
 * deduplication the same test retained 235 MB after the flood (10 MB before; run with
 * {@code -Dcoterie.flood.heap=1g}), far above the ceiling; with this child's heap the server no
 * longer answered after the flood.
 *
 * <p>Bounded: {@value #DATAGRAMS} datagrams, a few hundred client requests, under a minute.
 * No timing is asserted.
 */
class FloodMemoryTest {
    static final int DATAGRAMS = 400_000;
    static final int SOURCES = 50;
    static final long FLOOD_MILLIS = 10_000;
    /** The child's fixed heap; {@code -Dcoterie.flood.heap=1g} only to measure a configuration that fails at this one. */
    static final String HEAP = System.getProperty("coterie.flood.heap", "128m");
    /** Default of {@link OscoreEndpointBuilder#DEDUPLICATION_MAX_ENTRIES}; the server runs with the defaults. */
    static final int MAX_DEDUP_ENTRIES = 10_000;
    /** Upper bound of what one answered /hello request keeps in the deduplicator (measured: 1.7 to 2.7 KB). */
    static final long ENTRY_BYTES = 4096;
    /** Class initialisation, caches and GC filler objects that a full GC leaves (seen: up to 6 MB). */
    static final long SLACK = 16L << 20;
    static final int AFTER_REQUESTS = 200;
    /** Datagrams with the server's own kid, each a failed decryption; well under the integrity limit 2^14. */
    static final int FORGERIES = 8_000;

    @TempDir
    Path dir;

    @Test
    void retainedHeapStaysUnderTheCeilingAndAValidClientIsServedDuringAndAfterAFlood() throws Exception {
        assertEquals(MAX_DEDUP_ENTRIES, OscoreEndpointBuilder.defaultConfiguration().get(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES));
        Path ctx = dir.resolve("server-c1.json");
        Files.copy(Path.of("..", "docs", "examples", "server-c1.json"), ctx);
        Files.setPosixFilePermissions(ctx, PosixFilePermissions.fromString("rw-------"));
        String javaHome = System.getProperty("java.home");
        Process child = new ProcessBuilder(Path.of(javaHome, "bin", "java").toString(), "-Xmx" + HEAP, "-XX:+UseSerialGC",
                "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), "dev.coterie.app.Coterie",
                "server", "--context", ctx.toString(), "--bind", "127.0.0.1:0")
                .redirectError(dir.resolve("server.err").toFile()).start();
        OscoreContext clientContext = Rfc8613Contexts.C1.client(null);
        CoapEndpoint ep = null;
        CoapClient client = null;
        try {
            InetSocketAddress server = awaitListening(child);
            String uri = "coap://127.0.0.1:" + server.getPort() + "/hello";
            ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(TestConfig.standard())
                    .clientBinding(new ClientContextBinding().endpointDefault(clientContext)).build();
            client = new CoapClient().setEndpoint(ep).setTimeout(5000L);
            int valid = 0;
            for (int i = 0; i < 20; i++, valid++) {
                assertHello(client.advanced(get(uri)), "before the flood");
            }
            long before = retainedBytes(child.pid());

            // the flood, with the client asking every 50 ms meanwhile
            AtomicBoolean flooding = new AtomicBoolean(true);
            AtomicInteger duringOk = new AtomicInteger();
            AtomicInteger duringSent = new AtomicInteger();
            CoapClient c = client;
            Thread asker = new Thread(() -> {
                while (flooding.get()) {
                    duringSent.incrementAndGet();
                    c.advanced(new CoapHandler() {
                        @Override
                        public void onLoad(CoapResponse r) {
                            if (flooding.get() && r.getCode() == ResponseCode.CONTENT && "Hello World!".equals(r.getResponseText())) {
                                duringOk.incrementAndGet();
                            }
                        }

                        @Override
                        public void onError() {
                        }
                    }, get(uri));
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "valid-client");
            DatagramSocket[] sources = new DatagramSocket[SOURCES];
            long floodMillis;
            int answered = 0;
            try {
                for (int i = 0; i < SOURCES; i++) {
                    sources[i] = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
                }
                asker.start();
                floodMillis = flood(sources, server);
                flooding.set(false);
                asker.join(10_000);
                for (DatagramSocket s : sources) {
                    answered += drain(s);
                }
                assertTrue(answered > 1000, "the server answered the garbage: " + answered + " error responses seen");
            } finally {
                flooding.set(false);
                for (DatagramSocket s : sources) {
                    if (s != null) {
                        s.close();
                    }
                }
            }
            assertTrue(child.isAlive(), "the server survived the flood");
            valid += duringSent.get();
            assertTrue(duringOk.get() > 0, "answered during the flood: " + duringOk + " of " + duringSent);

            // after the flood: once the server has caught up, every request is answered
            long catchUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            CoapResponse first;
            int probes = 0;
            do {
                first = client.advanced(get(uri));
                valid++;
                probes++;
            } while (first == null && System.nanoTime() < catchUp);
            assertHello(first, "the first request after the flood");
            for (int i = 0; i < AFTER_REQUESTS; i++, valid++) {
                assertHello(client.advanced(get(uri)), "request " + i + " after the flood");
            }

            long after = retainedBytes(child.pid());
            long ceiling = before + Math.min(valid, MAX_DEDUP_ENTRIES) * ENTRY_BYTES + SLACK;
            System.out.printf("flood: %d datagrams from %d ports in %d ms, %d error answers seen; client answered %d of %d during, "
                            + "caught up after %d request(s), then %d of %d; retained heap %d KB before, %d KB after "
                            + "(ceiling %d KB)%n", DATAGRAMS, SOURCES, floodMillis, answered, duringOk.get(), duringSent.get(),
                    probes, AFTER_REQUESTS, AFTER_REQUESTS, before >> 10, after >> 10, ceiling >> 10);
            assertTrue(after <= ceiling, "retained " + (after >> 10) + " KB after the flood, ceiling " + (ceiling >> 10) + " KB");
            assertTrue(child.isAlive(), "the server is still running");
        } finally {
            if (client != null) {
                client.shutdown();
            }
            if (ep != null) {
                ep.destroy();
            }
            child.destroy();
            if (!child.waitFor(10, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
            clientContext.close();
        }
    }

    private static Request get(String uri) {
        Request r = Request.newGet();
        r.setURI(uri);
        return r;
    }

    private static void assertHello(CoapResponse r, String when) {
        assertNotNull(r, "no answer " + when);
        assertEquals(ResponseCode.CONTENT, r.getCode(), when + ": " + r.getResponseText());
        assertEquals("Hello World!", r.getResponseText(), when);
    }

    private static InetSocketAddress awaitListening(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Pattern listening = Pattern.compile("listening on /?127\\.0\\.0\\.1:(\\d+)");
        String line;
        while ((line = out.readLine()) != null) {
            Matcher m = listening.matcher(line);
            if (m.find()) {
                Thread drainer = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe open and empty
                        }
                    } catch (Exception closed) {
                        // the child ended
                    }
                }, "server-stdout");
                drainer.setDaemon(true);
                drainer.start();
                return new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));
            }
        }
        throw new AssertionError("the server did not start (exit " + child.waitFor() + ")");
    }

    /**
     * Garbage that looks like OSCORE: CON or NON POST, a 4-byte Token, an OSCORE option with a
     * 1-byte Partial IV and 24 random bytes of "ciphertext". Four kinds, each rejected at another
     * step: an unknown kid (4.01), the server's empty kid under an unknown kid context (4.01),
     * reserved flag bits (4.02), and the kid the server knows (4.00 "Decryption failed"). Only
     * {@value #FORGERIES} are of the last kind: every failed decryption counts against the
     * Recipient Key's integrity limit (2^14 for AES-CCM-16-64-128, draft-ietf-core-oscore-key-limits),
     * and past it the context refuses every request until it is renewed, by design. Message IDs
     * never repeat per source, so every datagram is a new message. Paced to take about
     * {@value #FLOOD_MILLIS} ms.
     */
    private static long flood(DatagramSocket[] sources, InetSocketAddress to) throws Exception {
        Random random = new Random(20261201L);
        byte[] buf = new byte[64];
        long start = System.nanoTime();
        for (int n = 0; n < DATAGRAMS; n++) {
            int mid = n / sources.length;
            int len = 0;
            buf[len++] = (byte) (random.nextBoolean() ? 0x44 : 0x54); // version 1, CON or NON, TKL 4
            buf[len++] = 0x02; // POST, as OSCORE requests are
            buf[len++] = (byte) (mid >> 8);
            buf[len++] = (byte) mid;
            for (int i = 0; i < 4; i++) {
                buf[len++] = (byte) random.nextInt();
            }
            int kind = n % (DATAGRAMS / FORGERIES) == 0 ? 3 : n % 3;
            switch (kind) {
                case 0: // OSCORE option (9), k and n=1: Partial IV, an unknown 1-byte kid
                    buf[len++] = (byte) 0x93;
                    buf[len++] = 0x09;
                    buf[len++] = (byte) random.nextInt();
                    buf[len++] = (byte) (0x40 | random.nextInt(64));
                    break;
                case 1: // h, k and n=1: Partial IV, an 8-byte kid context nobody has, the empty kid
                    buf[len++] = (byte) 0x9b;
                    buf[len++] = 0x19;
                    buf[len++] = (byte) random.nextInt();
                    buf[len++] = 8;
                    for (int i = 0; i < 8; i++) {
                        buf[len++] = (byte) random.nextInt();
                    }
                    break;
                case 2: // a reserved flag bit
                    buf[len++] = (byte) 0x93;
                    buf[len++] = (byte) 0x89;
                    buf[len++] = (byte) random.nextInt();
                    buf[len++] = (byte) random.nextInt();
                    break;
                default: // the empty kid of the server's context: a forgery
                    buf[len++] = (byte) 0x92;
                    buf[len++] = 0x09;
                    buf[len++] = (byte) random.nextInt();
                    break;
            }
            buf[len++] = (byte) 0xff;
            for (int i = 0; i < 24; i++) {
                buf[len++] = (byte) random.nextInt();
            }
            sources[n % sources.length].send(new DatagramPacket(buf, len, to));
            if ((n & 511) == 511) {
                long due = start + TimeUnit.MILLISECONDS.toNanos(FLOOD_MILLIS) * (n + 1) / DATAGRAMS;
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        }
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    /** The answers waiting in a flood source's receive buffer. */
    private static int drain(DatagramSocket s) throws Exception {
        s.setSoTimeout(50);
        byte[] buf = new byte[256];
        int n = 0;
        while (true) {
            try {
                s.receive(new DatagramPacket(buf, buf.length));
                n++;
            } catch (SocketTimeoutException e) {
                return n;
            }
        }
    }

    /** Live bytes in the child after a full GC (the class histogram runs one), the least of three samples. */
    private static long retainedBytes(long pid) throws Exception {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Pattern total = Pattern.compile("^Total\\s+\\d+\\s+(\\d+)\\s*$", Pattern.MULTILINE);
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            Process p = new ProcessBuilder(jcmd, Long.toString(pid), "GC.class_histogram").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            Matcher m = total.matcher(out);
            assertTrue(m.find(), "no histogram total from jcmd: " + out.lines().limit(5).toList());
            least = Math.min(least, Long.parseLong(m.group(1)));
        }
        return least;
    }
}
