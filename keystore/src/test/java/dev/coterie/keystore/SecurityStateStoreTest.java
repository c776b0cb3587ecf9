package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** RFC 8613 Appendix B.1.1 sequence-number persistence and B.1.2 replay-window trust. */
class SecurityStateStoreTest {
    @TempDir
    Path dir;

    @Test
    void B_1_1_reservationIsOnDiskBeforeTheFirstNumberOfABlockIsUsed() throws Exception {
        SecurityStateStore store = SecurityStateStore.open(dir, 10);
        ContextState s = store.load("ctx");
        assertEquals(0, reserved(dir.resolve("ctx.state")));
        assertEquals(0, s.senderSequence().next());
        assertEquals(10, reserved(dir.resolve("ctx.state")), "block 0..9 reserved before 0 was handed out");
        for (int i = 1; i < 10; i++) {
            assertEquals(i, s.senderSequence().next());
        }
        assertEquals(10, reserved(dir.resolve("ctx.state")));
        assertEquals(10, s.senderSequence().next());
        assertEquals(20, reserved(dir.resolve("ctx.state")));
    }

    @Test
    void B_1_1_afterACrashTheSenderContinuesAboveTheLastReservation() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        for (int i = 0; i < 13; i++) {
            s.senderSequence().next();
        }
        s.abandon(); // a crash: nothing persisted, the lock released as by a dying process
        ContextState again = SecurityStateStore.open(dir, 10).load("ctx");
        assertEquals(20, again.senderSequence().next(), "numbers 13..19 are skipped, none reused");
    }

    @Test
    void aCleanCloseContinuesExactlyWhereTheSenderStopped() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        for (int i = 0; i < 3; i++) {
            s.senderSequence().next();
        }
        s.close();
        assertEquals(3, SecurityStateStore.open(dir, 10).load("ctx").senderSequence().next());
    }

    @Test
    void corruptStateFileRefusesAndSaysWhy() throws Exception {
        crashAfterOneNumber();
        Path f = dir.resolve("ctx.state");
        Files.writeString(f, Files.readString(f).replace("sender-reserved 10", "sender-reserved 99"));
        StateUnavailableException e = assertThrows(StateUnavailableException.class,
                () -> SecurityStateStore.open(dir, 10).load("ctx"));
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
    }

    @Test
    void truncatedStateFileRefuses() throws Exception {
        crashAfterOneNumber();
        Files.write(dir.resolve("ctx.state"), "coterie-state 1\n".getBytes(StandardCharsets.US_ASCII));
        assertThrows(StateUnavailableException.class, () -> SecurityStateStore.open(dir, 10).load("ctx"));
    }

    @Test
    void missingStateFileOfAKnownContextRefusesInsteadOfRestartingAtZero() throws Exception {
        crashAfterOneNumber();
        Files.delete(dir.resolve("ctx.state"));
        StateUnavailableException e = assertThrows(StateUnavailableException.class,
                () -> SecurityStateStore.open(dir, 10).load("ctx"));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void B_1_2_windowsSurviveACleanCloseAndAreInvalidAfterACrash() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        ReplayWindow w = s.replayWindow(new byte[] {1}, 32);
        assertTrue(w.isValid(), "a context seen for the first time starts with a valid, empty window");
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(5));
        s.close();
        ContextState clean = SecurityStateStore.open(dir, 10).load("ctx");
        ReplayWindow w2 = clean.replayWindow(new byte[] {1}, 32);
        assertTrue(w2.isValid());
        assertEquals(ReplayWindow.Verdict.REPLAYED, w2.check(5));
        clean.abandon(); // a crash this time: the next start must distrust the window
        ContextState crashed = SecurityStateStore.open(dir, 10).load("ctx");
        ReplayWindow w3 = crashed.replayWindow(new byte[] {1}, 32);
        assertFalse(w3.isValid());
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, w3.check(100));
    }

    @Test
    void stateIdMustBeAPlainFileName() {
        assertThrows(IllegalArgumentException.class, () -> SecurityStateStore.open(dir, 10).load("../etc"));
    }

    @Test
    void OSC_15_sequenceNumbersAreExhaustedAt2To40() throws Exception {
        ContextState s = SecurityStateStore.inMemoryStartingAt(SenderSequence.MAX).load("x");
        assertEquals(SenderSequence.MAX, s.senderSequence().next());
        assertThrows(StateUnavailableException.class, () -> s.senderSequence().next());
    }

    private void crashAfterOneNumber() throws Exception {
        ContextState s = SecurityStateStore.open(dir, 10).load("ctx");
        s.senderSequence().next();
        s.abandon();
    }

    private static long reserved(Path f) throws Exception {
        for (String line : Files.readAllLines(f)) {
            if (line.startsWith("sender-reserved ")) {
                return Long.parseLong(line.substring(16));
            }
        }
        throw new AssertionError("no reservation line");
    }

    /** Review A, M2: the test-vector store cannot be shared or reused to start a second context at the same number. */
    @Test
    void OSC_15_aTestVectorStoreLoadsOneContextOnce() throws Exception {
        SecurityStateStore vectors = SecurityStateStore.inMemoryStartingAt(20);
        ContextState s = vectors.load("x");
        assertEquals(20, s.senderSequence().next(), "positive control: it starts where the vector says");
        s.close();
        assertThrows(StateInUseException.class, () -> vectors.load("x"), "not again after close");
        assertThrows(StateInUseException.class, () -> vectors.load("y"), "nor for another context");
        ContextState plain = SecurityStateStore.inMemory().load("x");
        plain.close();
    }
}
