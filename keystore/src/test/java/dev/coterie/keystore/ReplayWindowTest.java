package dev.coterie.keystore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** OSC-16: the sliding replay window of RFC 8613 Section 7.4. */
class ReplayWindowTest {

    @Test
    void OSC_16_seenNumbersAndTooOldNumbersAreRejected() {
        ReplayWindow w = new ReplayWindow(32, true);
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(0));
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.accept(0));
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(40));
        assertEquals(ReplayWindow.Verdict.TOO_OLD, w.accept(8), "40 - 8 = 32 is outside a window of 32");
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(9), "40 - 9 = 31 is the oldest slot");
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.accept(9));
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(39));
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.accept(40));
    }

    @Test
    void OSC_16_checkDoesNotUpdate() {
        ReplayWindow w = new ReplayWindow(32, true);
        assertEquals(ReplayWindow.Verdict.FRESH, w.check(3));
        assertEquals(ReplayWindow.Verdict.FRESH, w.check(3));
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(3));
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.check(3));
    }

    @Test
    void sizeIsConfigurable() {
        ReplayWindow w = new ReplayWindow(4, true);
        w.accept(10);
        assertEquals(ReplayWindow.Verdict.FRESH, w.check(7));
        assertEquals(ReplayWindow.Verdict.TOO_OLD, w.check(6));
        ReplayWindow big = new ReplayWindow(64, true);
        big.accept(100);
        assertEquals(ReplayWindow.Verdict.FRESH, big.accept(37));
        assertEquals(ReplayWindow.Verdict.TOO_OLD, big.check(36));
        assertThrows(IllegalArgumentException.class, () -> new ReplayWindow(65, true));
    }

    @Test
    void invalidWindowAcceptsNothingUntilReinitialised() {
        ReplayWindow w = new ReplayWindow(32, false);
        assertEquals(ReplayWindow.Verdict.WINDOW_INVALID, w.accept(1000));
        w.reinitialise(1000);
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.check(1000));
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.check(999), "may have been seen before the restart");
        assertEquals(ReplayWindow.Verdict.REPLAYED, w.check(969));
        assertEquals(ReplayWindow.Verdict.TOO_OLD, w.check(10));
        assertEquals(ReplayWindow.Verdict.FRESH, w.accept(1001));
    }

    @Test
    void largeJumpsClearTheBitmap() {
        ReplayWindow w = new ReplayWindow(32, true);
        w.accept(1);
        w.accept(1L << 39);
        assertEquals(ReplayWindow.Verdict.TOO_OLD, w.check(1));
        assertFalse(w.check((1L << 39) - 1) == ReplayWindow.Verdict.REPLAYED);
    }
}
