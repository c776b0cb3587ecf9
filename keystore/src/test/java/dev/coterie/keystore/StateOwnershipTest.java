package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSC-15: one owner per context. Two live contexts on one state would hand out the same
 * sequence numbers under one key, so a second owner is refused, in this process and in another,
 * a closed context hands out nothing, and a reservation never goes below what is on disk.
 * Every refusal has a positive control: the same load with the context free succeeds.
 */
class StateOwnershipTest {
    @TempDir
    Path dir;

    @Test
    void OSC_15_twoOwnersOfOneStateDirectoryInOneProcessAreRefused() throws Exception {
        ContextState first = SecurityStateStore.open(dir, 10).load("ctx");
        first.senderSequence().next();
        Path lock = dir.toAbsolutePath().resolve("ctx.lock");
        // another store on the same directory, spelled differently, and the same store again
        for (SecurityStateStore second : new SecurityStateStore[] {
                SecurityStateStore.open(dir.resolve(".").resolve("..").resolve(dir.getFileName()), 10),
                SecurityStateStore.open(dir, 10)}) {
            StateInUseException e = assertThrows(StateInUseException.class, () -> second.load("ctx"));
            assertTrue(e.getMessage().contains("lock " + lock + " is held by this process"), e.getMessage());
            assertTrue(e.getMessage().contains("two owners would reuse sequence numbers"), e.getMessage());
            assertEquals(lock, e.lockFile());
        }
        // positive control: another context of the same directory is free
        assertEquals(0, SecurityStateStore.open(dir, 10).load("other").senderSequence().next());
        first.close();
        assertEquals(1, SecurityStateStore.open(dir, 10).load("ctx").senderSequence().next(),
                "free again after close()");
    }

    @Test
    void OSC_15_afterCloseANewOwnerContinuesAfterTheOldNumbers() throws Exception {
        SecurityStateStore store = SecurityStateStore.open(dir, 10);
        ContextState s = store.load("ctx");
        for (int i = 0; i < 3; i++) {
            s.senderSequence().next();
        }
        s.close();
        ContextState again = store.load("ctx");
        assertEquals(3, again.senderSequence().next(), "a clean close continues where the sender stopped");
        for (int i = 4; i <= 15; i++) {
            assertEquals(i, again.senderSequence().next());
        }
        again.abandon(); // as if it died with 16..22 of its block 13..22 unused
        assertEquals(23, store.load("ctx").senderSequence().next(), "after a crash: above the old reservation");
    }

    @Test
    void OSC_15_aFailedLoadDoesNotKeepTheContextLocked() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        s.senderSequence().next();
        s.close();
        Path f = dir.resolve("ctx.state");
        byte[] good = Files.readAllBytes(f);
        Files.writeString(f, "coterie-state 1\n");
        StateUnavailableException e = assertThrows(StateUnavailableException.class,
                () -> SecurityStateStore.open(dir, 10).load("ctx"));
        assertFalse(e instanceof StateInUseException, e.getMessage());
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        Files.write(f, good);
        assertEquals(1, SecurityStateStore.open(dir, 10).load("ctx").senderSequence().next(),
                "the failed load released the lock and its registry entry");
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void OSC_15_aSecondProcessIsRefusedWhileTheFirstHoldsTheContext() throws Exception {
        Child holder = Child.start("hold", dir, "ctx");
        try {
            assertEquals("held 0", holder.line(), "the child owns the context");
            Path lock = dir.toAbsolutePath().resolve("ctx.lock");
            StateInUseException e = assertThrows(StateInUseException.class,
                    () -> SecurityStateStore.open(dir, 10).load("ctx"));
            assertTrue(e.getMessage().contains("lock " + lock + " is held by another process (pid "
                    + holder.process.pid() + ")"), e.getMessage());
            assertTrue(e.getMessage().contains("two owners would reuse sequence numbers"), e.getMessage());
            holder.process.getOutputStream().close(); // let it close the context
            assertEquals("closed", holder.line());
            assertTrue(holder.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, holder.process.exitValue());
        } finally {
            holder.process.destroyForcibly();
        }
        // positive control: free now, and the numbers go on after the child's
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        assertEquals(1, s.senderSequence().next());

        // and the other way round: this process owns it, a child is refused with status 3
        Child refused = Child.start("try", dir, "ctx");
        try {
            String line = refused.line();
            assertTrue(line.startsWith("refused state ctx in ") && line.contains("ctx.lock is held by another process (pid "
                    + ProcessHandle.current().pid() + ")"), line);
            assertTrue(refused.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(3, refused.process.exitValue());
        } finally {
            refused.process.destroyForcibly();
        }
        s.close();
        Child free = Child.start("try", dir, "ctx");
        try {
            assertEquals("loaded 2", free.line(), "positive control: the child may load it once we closed it");
            assertTrue(free.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, free.process.exitValue());
        } finally {
            free.process.destroyForcibly();
        }
    }

    @Test
    void OSC_15_oneInMemoryStoreRefusesASecondOwnerAndStoresAreIndependent() throws Exception {
        SecurityStateStore store = SecurityStateStore.inMemory();
        ContextState first = store.load("ctx");
        StateInUseException e = assertThrows(StateInUseException.class, () -> store.load("ctx"));
        assertTrue(e.getMessage().contains("in-memory state ctx is in use"), e.getMessage());
        assertNull(e.lockFile());
        // positive controls: another id of the same store, the same id of another store
        assertNotNull(store.load("other"));
        assertEquals(0, SecurityStateStore.inMemory().load("ctx").senderSequence().next());
        first.close();
        assertNotNull(store.load("ctx"), "free again after close()");
    }

    @Test
    void OSC_15_aClosedContextRefusesToProtect() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        assertEquals(0, s.senderSequence().next(), "positive control: open, it protects");
        s.close();
        assertTrue(s.isClosed());
        StateUnavailableException e = assertThrows(StateUnavailableException.class, () -> s.senderSequence().next());
        assertEquals("context closed; it must not protect anything more", e.getMessage());
        byte[] afterFirstClose = Files.readAllBytes(dir.resolve("ctx.state"));
        s.close(); // idempotent: no exception, nothing rewritten
        assertArrayEquals(afterFirstClose, Files.readAllBytes(dir.resolve("ctx.state")));
        assertTrue(new String(afterFirstClose, StandardCharsets.US_ASCII).contains("clean 1\n"));

        ContextState memory = SecurityStateStore.inMemory().load("m");
        memory.senderSequence().next();
        memory.abandon();
        assertThrows(StateUnavailableException.class, () -> memory.senderSequence().next(), "abandoned: refuses too");
    }

    @Test
    void OSC_15_reservationNeverGoesBelowWhatIsOnDisk() throws Exception {
        SecurityStateStore store = SecurityStateStore.open(dir, 10);
        ContextState s = store.load("ctx");
        ContextState control = store.load("control");
        for (int i = 0; i < 10; i++) {
            assertEquals(i, s.senderSequence().next());
            assertEquals(i, control.senderSequence().next());
        }
        // a writer that bypassed the lock reserved up to 500 and may have used numbers below it
        writeState(dir.resolve("ctx.state"), 500);
        assertEquals(500, s.senderSequence().next(), "the new block starts at the bound on disk");
        assertEquals(510, reserved(dir.resolve("ctx.state")));
        assertEquals(10, control.senderSequence().next(), "positive control: untouched, it goes on at 10");
        // a bound on disk below memory does not pull us back
        for (int i = 501; i < 510; i++) {
            s.senderSequence().next();
        }
        writeState(dir.resolve("ctx.state"), 3);
        assertEquals(510, s.senderSequence().next());
        // close() does not lower the bound below what is on disk either
        writeState(dir.resolve("ctx.state"), 900);
        s.close();
        assertEquals(900, reserved(dir.resolve("ctx.state")));
        assertEquals(900, store.load("ctx").senderSequence().next());
    }

    @Test
    void OSC_15_aStateFileThatVanishesWhileOpenStopsTheSenderAtTheNextBlock() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        assertEquals(0, s.senderSequence().next());
        Files.delete(dir.resolve("ctx.state"));
        for (int i = 1; i < 10; i++) {
            assertEquals(i, s.senderSequence().next(), "numbers already reserved on disk are still safe");
        }
        StateUnavailableException e = assertThrows(StateUnavailableException.class, () -> s.senderSequence().next());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    /** A valid state file, as another writer would leave it. */
    private static void writeState(Path f, long reserved) throws Exception {
        String body = "coterie-state 1\nsender-reserved " + reserved + "\nclean 0\n";
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.US_ASCII));
        Files.writeString(f, body + "crc32 " + Long.toHexString(crc.getValue()) + "\n");
    }

    private static long reserved(Path f) throws Exception {
        for (String line : Files.readAllLines(f)) {
            if (line.startsWith("sender-reserved ")) {
                return Long.parseLong(line.substring(16));
            }
        }
        throw new AssertionError("no reservation line");
    }

    /** A {@link StateHolder} JVM on the test class path, its output read line by line with a timeout. */
    private static final class Child {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        private Child(Process process) {
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.US_ASCII))) {
                    for (String l; (l = in.readLine()) != null;) {
                        lines.add(l);
                    }
                } catch (Exception ignored) {
                    // the child ended
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(String mode, Path dir, String id) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            return new Child(new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                    "-cp", System.getProperty("java.class.path"), StateHolder.class.getName(), mode, dir.toString(), id)
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }

        String line() throws InterruptedException {
            String l = lines.poll(60, TimeUnit.SECONDS);
            assertNotNull(l, "the child said nothing within 60 s");
            return l;
        }
    }

    /** Review A, L1: the in-process registry entry must not outlive a lock file that could not be opened. */
    @Test
    void OSC_15_aLockFileThatCannotBeOpenedLeavesNoRegistryEntry() throws Exception {
        SecurityStateStore store = SecurityStateStore.open(dir, 16);
        Path lock = dir.resolve("ctx.lock");
        Files.createDirectory(lock); // opening it for writing fails with an IOException, even as root
        StateUnavailableException first = assertThrows(StateUnavailableException.class, () -> store.load("ctx"));
        assertFalse(first instanceof StateInUseException, "positive control: the open itself failed: " + first.getMessage());
        Files.delete(lock); // the operator fixes the problem
        ContextState s = store.load("ctx"); // threw StateInUseException ("held by this process") before the fix
        assertEquals(0, s.senderSequence().next());
        s.close();
    }
}
