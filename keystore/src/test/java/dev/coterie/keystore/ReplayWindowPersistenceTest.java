package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RFC 8613 Appendix B.1.2 (OSC-16, ECHO-02) across restarts: a clean close must never turn a
 * window it cannot vouch for into a valid, empty one. Review A, finding C1: a crash, then a
 * clean stop, then a restart; and a window a session never used, dropped at its clean close.
 * Each test has a positive control before the assertion that failed before the fix.
 */
class ReplayWindowPersistenceTest {
    private static final byte[] A = {1};
    private static final byte[] MEMBER = {0x52};

    @TempDir
    Path dir;

    private SecurityStateStore store() throws StateUnavailableException {
        return SecurityStateStore.open(dir, 16);
    }

    @Test
    void B_1_2_aWindowInvalidAfterACrashStaysInvalidAcrossACleanClose() throws Exception {
        ContextState s1 = store().load("ctx");
        ReplayWindow w1 = s1.replayWindow(A, 32);
        for (long i = 0; i <= 10; i++) {
            assertEquals(ReplayWindow.Verdict.FRESH, w1.accept(i));
        }
        s1.close();
        ContextState s2 = store().load("ctx");
        ReplayWindow w2 = s2.replayWindow(A, 32);
        assertEquals(ReplayWindow.Verdict.REPLAYED, w2.check(5), "positive control: a clean restart keeps the window");
        assertEquals(ReplayWindow.Verdict.FRESH, w2.accept(11));
        s2.abandon(); // crash
        ContextState s3 = store().load("ctx");
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, s3.replayWindow(A, 32).check(5), "after a crash the window is invalid");
        s3.close(); // orderly shutdown before any Echo recovery
        ContextState s4 = store().load("ctx");
        ReplayWindow w4 = s4.replayWindow(A, 32);
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, w4.check(5), "old Partial IV 5 must not be fresh again: " + w4.snapshot());
        s4.close();
        assertFalse(store().load("ctx").replayWindow(A, 32).isValid(), "and it stays invalid over more clean closes");
    }

    @Test
    void B_1_2_aWindowThisSessionNeverUsedSurvivesACleanClose() throws Exception {
        ContextState s1 = store().load("grp");
        ReplayWindow w1 = s1.replayWindow(MEMBER, 32);
        for (long i = 0; i <= 10; i++) {
            w1.accept(i);
        }
        s1.close();
        ContextState s2 = store().load("grp"); // member 52 silent in this session (its recipient is created lazily)
        s2.replayWindow(A, 32).accept(0); // another member is heard
        s2.close();
        ContextState s3 = store().load("grp");
        ReplayWindow w3 = s3.replayWindow(MEMBER, 32);
        assertEquals(ReplayWindow.Verdict.REPLAYED, w3.check(5), "old Partial IV 5 must not be fresh again: " + w3.snapshot());
        assertEquals(ReplayWindow.Verdict.FRESH, w3.check(11), "positive control: the window is valid and moves on");
        assertEquals(ReplayWindow.Verdict.REPLAYED, s3.replayWindow(A, 32).check(0));
    }

    @Test
    void B_1_2_aRecipientFirstSeenInACrashedSessionIsNotNewAfterwards() throws Exception {
        store().load("grp").close(); // the context exists and was closed cleanly
        ContextState s2 = store().load("grp");
        ReplayWindow w2 = s2.replayWindow(MEMBER, 32);
        assertTrue(w2.isValid(), "positive control: a member never seen before starts with a valid, empty window");
        assertEquals(ReplayWindow.Verdict.FRESH, w2.accept(5));
        s2.abandon(); // crash: the window was never written, but the member was recorded before its first use
        ContextState s3 = store().load("grp");
        assertTrue(s3.replayWindow(A, 32).isValid(), "a recipient that never had a window is new, even after a crash");
        s3.close(); // never hears member 52
        ContextState s4 = store().load("grp");
        ReplayWindow w4 = s4.replayWindow(MEMBER, 32);
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, w4.check(5), "member 52 had a window before: " + w4.snapshot());
    }

    @Test
    void B_1_2_echoRecoveryIsKeptByACleanClose() throws Exception {
        ContextState s1 = store().load("ctx");
        s1.replayWindow(A, 32).accept(3);
        s1.abandon();
        ContextState s2 = store().load("ctx");
        ReplayWindow w2 = s2.replayWindow(A, 32);
        assertTrue(w2.reinitialise(20), "the Echo procedure rebuilds the window");
        s2.close();
        ReplayWindow w3 = store().load("ctx").replayWindow(A, 32);
        assertEquals(ReplayWindow.Verdict.REPLAYED, w3.check(20));
        assertEquals(ReplayWindow.Verdict.FRESH, w3.check(21));
    }

    @Test
    void B_1_2_aVersion1FileTreatsRecipientsItDoesNotListAsInvalid() throws Exception {
        String body = "coterie-state 1\nsender-reserved 7\nclean 1\nwindow 01 4 1f\n";
        CRC32 crc = new CRC32();
        crc.update(body.getBytes(StandardCharsets.US_ASCII));
        Files.writeString(dir.resolve("ctx.state"), body + "crc32 " + Long.toHexString(crc.getValue()) + "\n");
        ContextState s = store().load("ctx");
        assertEquals(ReplayWindow.Verdict.REPLAYED, s.replayWindow(A, 32).check(4), "positive control: its windows load");
        assertFalse(s.replayWindow(MEMBER, 32).isValid(), "an old clean close may have dropped this window");
        assertEquals(7, s.senderSequence().next());
        s.close();
        ContextState again = store().load("ctx");
        assertFalse(again.replayWindow(new byte[] {0x53}, 32).isValid(), "still so once the file is rewritten");
        assertFalse(again.replayWindow(MEMBER, 32).isValid());
    }

    @Test
    void OSC_16_theWindowsOfAClosedStateAcceptNothing() throws Exception {
        ContextState s = store().load("ctx");
        ReplayWindow w = s.replayWindow(A, 32);
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(1), "positive control");
        s.close();
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, w.accept(2), "a window moved after close would not be on disk");
        assertFalse(w.reinitialise(9));
        assertFalse(s.replayWindow(MEMBER, 32).isValid());
        assertEquals(ReplayWindow.Verdict.FRESH, store().load("ctx").replayWindow(A, 32).check(2));
    }
}
