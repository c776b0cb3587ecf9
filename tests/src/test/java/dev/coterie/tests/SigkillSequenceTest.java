package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSC-15 and RFC 8613 Appendix B.1.1 under real crashes: a client process is killed with
 * SIGKILL at random points, 100 times, and restarted from its state directory. Every Partial
 * IV it ever emitted is recorded; none may repeat. Bounded: 100 runs of at most a few hundred
 * milliseconds each.
 */
class SigkillSequenceTest {
    private static final int RUNS = 100;
    private static final int BLOCK = 8;

    @TempDir
    Path dir;

    @Test
    void OSC_15_B_1_1_sigkillNeverCausesASequenceNumberToBeReused() throws Exception {
        Random random = new Random(20261122L);
        Set<Long> seen = new HashSet<>();
        long total = 0;
        long maxGap = 0;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        for (int run = 0; run < RUNS; run++) {
            Process child = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                    "-cp", cp, SequenceHammer.class.getName(), dir.toString(), String.valueOf(BLOCK))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            List<Long> emitted = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.US_ASCII))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        if (!line.equals("ready") && !line.isEmpty()) {
                            synchronized (emitted) {
                                emitted.add(Long.parseLong(line.trim()));
                            }
                        }
                    }
                } catch (Exception endOfStream) {
                    // the child was killed mid-line; a partial line is not a number that was emitted
                }
            });
            reader.start();
            // random kill point: after a random number of emitted numbers or a random delay
            int target = random.nextInt(200);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(5000);
            while (System.nanoTime() < deadline) {
                synchronized (emitted) {
                    if (emitted.size() >= target) {
                        break;
                    }
                }
                Thread.sleep(1);
            }
            Thread.sleep(random.nextInt(3));
            child.destroyForcibly(); // SIGKILL on Linux
            assertTrue(child.waitFor(10, TimeUnit.SECONDS));
            reader.join(10_000);
            long previous = -1;
            synchronized (emitted) {
                for (long seq : emitted) {
                    assertTrue(seq > previous, "increasing within run " + run);
                    if (previous >= 0) {
                        maxGap = Math.max(maxGap, seq - previous);
                    }
                    previous = seq;
                    assertTrue(seen.add(seq), "sequence number " + seq + " reused in run " + run);
                    total++;
                }
            }
        }
        assertEquals(seen.size(), total);
        assertTrue(total > RUNS, "the children emitted numbers: " + total);
        System.out.println("SIGKILL test: " + RUNS + " kills, " + total + " Partial IVs recorded, all distinct");
    }
}
