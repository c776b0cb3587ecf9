package dev.coterie.keystore;

/**
 * The sliding anti-replay window of RFC 8613 Section 7.4 (DTLS style), 1 to 64 entries wide.
 *
 * <p>A window may be <em>invalid</em>: after an unclean restart the server cannot tell which
 * numbers it has seen (RFC 8613 Appendix B.1.2) and must rebuild the window with the Echo
 * procedure before it accepts anything. Checking and updating happen under one lock, and the
 * update is a separate call so that it runs only after the AEAD verified.
 */
public final class ReplayWindow {
    public enum Verdict { FRESH, REPLAYED, TOO_OLD, WINDOW_INVALID }

    private final int size;
    private long highest = -1;
    private long seen; // bit i set = (highest - i) was received
    private boolean valid;
    /** Set when its context closes: from then on nothing is accepted, so nothing moves unpersisted. */
    private boolean frozen;

    public ReplayWindow(int size, boolean valid) {
        if (size < 1 || size > 64) {
            throw new IllegalArgumentException("replay window size must be 1..64, was " + size);
        }
        this.size = size;
        this.valid = valid;
    }

    public int size() {
        return size;
    }

    /** Whether the window can accept numbers: not after an unclean restart, nor once its context closed. */
    public synchronized boolean isValid() {
        return valid && !frozen;
    }

    public synchronized Verdict check(long seq) {
        if (!valid || frozen) {
            return Verdict.WINDOW_INVALID;
        }
        return checkLocked(seq);
    }

    private Verdict checkLocked(long seq) {
        if (seq > highest) {
            return Verdict.FRESH;
        }
        long diff = highest - seq;
        if (diff >= size) {
            return Verdict.TOO_OLD;
        }
        return (seen & (1L << diff)) != 0 ? Verdict.REPLAYED : Verdict.FRESH;
    }

    /** Records {@code seq} if it is still fresh; returns the verdict that applied. */
    public synchronized Verdict accept(long seq) {
        Verdict v = valid && !frozen ? checkLocked(seq) : Verdict.WINDOW_INVALID;
        if (v == Verdict.FRESH) {
            record(seq);
        }
        return v;
    }

    /**
     * Makes an invalid window valid again at {@code seq}, the Partial IV of a request that
     * carried a verified Echo value (RFC 8613 Appendix B.1.2). Every number up to {@code seq}
     * counts as used: the numbers below it may have been received before the restart.
     *
     * @return false, and nothing changes, if the window's context is closed
     */
    public synchronized boolean reinitialise(long seq) {
        if (frozen) {
            return false;
        }
        valid = true;
        highest = seq;
        seen = size == 64 ? -1L : (1L << size) - 1;
        return true;
    }

    public synchronized void invalidate() {
        valid = false;
        highest = -1;
        seen = 0;
    }

    private void record(long seq) {
        if (seq > highest) {
            long shift = highest < 0 ? 64 : seq - highest;
            seen = shift >= 64 ? 0 : seen << shift;
            seen |= 1L;
            highest = seq;
        } else {
            seen |= 1L << (highest - seq);
        }
        if (size < 64) {
            seen &= (1L << size) - 1;
        }
    }

    /**
     * Stops the window for good (its context closed) and returns what a clean close persists:
     * {highest, bitmap} if it was valid, null if it was invalid.
     */
    synchronized long[] freeze() {
        frozen = true;
        return valid ? new long[] {highest, seen} : null;
    }

    /** A comparable summary of the whole state (validity, highest number, bitmap), for tests and traces. */
    public synchronized String snapshot() {
        return (valid ? "valid" : "invalid") + "/" + highest + "/" + Long.toHexString(seen);
    }

    synchronized long highest() {
        return highest;
    }

    synchronized long bitmap() {
        return seen;
    }

    synchronized void restore(long highest, long seen) {
        this.highest = highest;
        this.seen = seen;
        this.valid = true;
    }

    @Override
    public synchronized String toString() {
        return "ReplayWindow[size=" + size + (valid ? ", highest=" + highest : ", invalid") + "]";
    }
}
