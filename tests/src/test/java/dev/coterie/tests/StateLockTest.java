package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ContextFile;
import dev.coterie.app.Coterie;
import dev.coterie.keystore.CryptoProviders;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSC-15 with real {@code coterie} processes: while one owns a context (an observing client, a
 * group server), a second one on the same context file or bundle would reuse its sequence
 * numbers, so it must exit with status 3 and name the lock. The observer's notifications are
 * triggered by the test, so "still holding" never depends on timing.
 */
class StateLockTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void OSC_15_aSecondClientOnOneContextFileExits3NamingTheLockWhileAnObserverHoldsIt() throws Exception {
        Path serverFile = contextFile("server", "01", "", "");
        Path clientFile = contextFile("client", "", "01", ",\n  \"state_dir\": \"client-state\"");
        Held held = new Held();
        try (CoterieServer server = new CoterieServer(ContextFile.load(serverFile, CryptoProviders.defaultProvider()),
                TestConfig.standard())) {
            server.server.add(held);
            String base = "coap://127.0.0.1:" + server.address().getPort();
            Cli observer = Cli.start("client", "--context", clientFile.toString(), "--observe", "--notifications", "2",
                    "--timeout", "120", base + "/held");
            try {
                observer.awaitOut(notifications(1)); // it has loaded the context and holds it
                Path stateDir = dir.resolve("client-state").toAbsolutePath().normalize();
                Path lock = onlyLockFile(stateDir);
                String id = lock.getFileName().toString().replace(".lock", "");

                Cli second = Cli.start("client", "--context", clientFile.toString(), "--timeout", "10", base + "/hello");
                assertEquals(3, second.exitStatus(), second.err());
                assertTrue(second.errLines().contains("coterie client: state " + id + " in " + stateDir
                        + " is in use: lock " + lock + " is held by another process (pid " + observer.process.pid()
                        + "); two owners would reuse sequence numbers. Stop the other owner first."), second.err());
                assertFalse(second.out().contains("2.05"), "the refused client sent nothing");

                // the observer goes on undisturbed: one more notification, then it stops by itself
                held.change();
                assertEquals(0, observer.exitStatus(), observer.err());
                assertEquals(2, notifications(observer.out()));
            } finally {
                observer.process.destroyForcibly();
            }
            // positive control: the same command once the observer is gone
            Cli again = Cli.start("client", "--context", clientFile.toString(), "--timeout", "10", base + "/hello");
            assertEquals(0, again.exitStatus(), again.err());
            assertTrue(again.out().startsWith("2.05 CONTENT"), again.out());
            assertTrue(server.events.stream().noneMatch(e -> e.startsWith("REJECTED")), server.events.toString());
        }
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void OSC_15_aSecondServerOnOneGroupBundleExits3NamingTheLock() throws Exception {
        Path groups = dir.resolve("groups");
        assertEquals(0, Coterie.execute("group", "create", "--name", "lights", "--dir", groups.toString()));
        assertEquals(0, Coterie.execute("group", "add-member", "lights", "--role", "server", "--dir", groups.toString(),
                "--member-name", "lamp"));
        Path bundle;
        try (Stream<Path> s = Files.list(groups.resolve("lights").resolve("members"))) {
            List<Path> bundles = s.filter(p -> p.toString().endsWith(".bundle.json")).collect(Collectors.toList());
            assertEquals(1, bundles.size(), bundles.toString());
            bundle = bundles.get(0);
        }
        Cli first = Cli.start("server", "--bundle", bundle.toString(), "--bind", "127.0.0.1:0");
        try {
            first.awaitOut(out -> out.contains("coterie server listening on /127.0.0.1:"));
            Path lock = onlyLockFile(groups);
            Cli second = Cli.start("server", "--bundle", bundle.toString(), "--bind", "127.0.0.1:0");
            assertEquals(3, second.exitStatus(), second.err());
            assertTrue(second.errLines().contains("coterie server: " + bundle + ": state "
                    + lock.getFileName().toString().replace(".lock", "") + " in " + lock.getParent()
                    + " is in use: lock " + lock + " is held by another process (pid " + first.process.pid()
                    + "); two owners would reuse sequence numbers. Stop the other owner first."), second.err());
            assertFalse(second.out().contains("listening"), second.out());
            first.process.destroy(); // SIGTERM: the shutdown hook closes the context
            assertEquals(143, first.exitStatus(), "ended by SIGTERM: " + first.err());
        } finally {
            first.process.destroyForcibly();
        }
        // positive control: the same command once the first server is gone
        Cli again = Cli.start("server", "--bundle", bundle.toString(), "--bind", "127.0.0.1:0");
        try {
            again.awaitOut(out -> out.contains("coterie server listening on /127.0.0.1:"));
        } finally {
            again.process.destroyForcibly();
        }
    }

    private Path contextFile(String name, String sender, String recipient, String extra) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  // RFC 8613 Appendix C.1\n  \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"sequence_block\": 20" + extra + "\n}\n");
        return f;
    }

    private static Path onlyLockFile(Path under) throws Exception {
        try (Stream<Path> s = Files.walk(under)) {
            List<Path> locks = s.filter(p -> p.toString().endsWith(".lock")).collect(Collectors.toList());
            assertEquals(1, locks.size(), locks.toString());
            return locks.get(0).toAbsolutePath().normalize();
        }
    }

    private static Predicate<String> notifications(int n) {
        return out -> notifications(out) >= n;
    }

    private static int notifications(String out) {
        return (int) out.lines().filter(l -> l.startsWith("2.05 CONTENT")).count();
    }

    /** An observable resource that changes only when the test says so. */
    private static final class Held extends CoapResource {
        private final AtomicInteger counter = new AtomicInteger();

        Held() {
            super("held");
            setObservable(true);
            getAttributes().setObservable();
        }

        void change() {
            counter.incrementAndGet();
            changed();
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, String.valueOf(counter.get()), MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /** {@code coterie ARGS} in a JVM of its own with the test class path; output collected as it comes. */
    private static final class Cli {
        final Process process;
        private final StringBuilder out = new StringBuilder();
        private final StringBuilder err = new StringBuilder();

        private Cli(Process process) {
            this.process = process;
            collect(process.getInputStream(), out);
            collect(process.getErrorStream(), err);
        }

        static Cli start(String... args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                    Coterie.class.getName()));
            cmd.addAll(List.of(args));
            return new Cli(new ProcessBuilder(cmd).start());
        }

        private void collect(InputStream in, StringBuilder into) {
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null;) {
                        synchronized (this) {
                            into.append(l).append('\n');
                            notifyAll();
                        }
                    }
                } catch (Exception ignored) {
                    // the process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        synchronized String out() {
            return out.toString();
        }

        synchronized String err() {
            return err.toString();
        }

        List<String> errLines() {
            return err().lines().collect(Collectors.toList());
        }

        /** Waits until the output so far satisfies {@code done}; fails after 60 s or if the process ends first. */
        synchronized void awaitOut(Predicate<String> done) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!done.test(out.toString())) {
                long left = deadline - System.nanoTime();
                assertTrue(left > 0 && (process.isAlive() || !done.test(out.toString())),
                        "not seen within 60 s; out: " + out + " err: " + err);
                wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
            }
        }

        int exitStatus() throws InterruptedException {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "did not end within 60 s; out: " + out() + " err: " + err());
            return process.exitValue();
        }
    }
}
