package dev.coterie.keystore;

/**
 * A Sender Sequence Number that is reserved on disk in blocks before use (RFC 8613 Appendix
 * B.1.1): the first number of a block is handed out only after the new upper bound was written
 * and fsynced. After a crash the sender continues at the last reserved bound, so numbers can be
 * skipped but never reused. A new block starts at the larger of the next number in memory and
 * the bound on disk as read back just before the write, so the sequence never goes backwards,
 * even if some other writer bypassed the lock. Once its context is closed it hands out nothing.
 */
public final class SenderSequence {
    /** RFC 8613 Section 7.2.1: the Partial IV is at most 5 bytes. */
    public static final long MAX = (1L << 40) - 1;

    private final ContextState owner;
    private final long blockSize;
    private long next;
    private long reservedLimit;
    private long max = MAX;
    private boolean closed;

    SenderSequence(ContextState owner, long next, long blockSize) {
        this.owner = owner;
        this.next = next;
        this.reservedLimit = next;
        this.blockSize = blockSize;
    }

    /**
     * Lowers the highest number that may be handed out (2^40 - 1 by default), never raises it.
     * For a key usage limit of q encryptions counted by sequence number, give q - 1 (numbers
     * 0 to q - 1); see {@link AeadAlgorithm#confidentialityLimit()} for what that misses.
     */
    public synchronized void limit(long newMax) {
        max = Math.min(max, newMax);
    }

    /**
     * Returns the next number, reserving a new block on disk first if needed.
     *
     * @throws StateUnavailableException if the context is closed, the numbers are exhausted or
     *     the reservation cannot be persisted; the context must then stop protecting messages
     */
    public synchronized long next() throws StateUnavailableException {
        if (closed) {
            throw new StateUnavailableException("context closed; it must not protect anything more");
        }
        if (next > max) {
            throw exhausted();
        }
        if (next >= reservedLimit) {
            long start = Math.max(next, owner.reservedOnDisk());
            if (start > max) {
                next = start;
                throw exhausted();
            }
            long limit = Math.min(start + blockSize, max + 1);
            owner.persistReservation(limit); // on disk before the first number of the block is used
            next = start;
            reservedLimit = limit;
        }
        return next++;
    }

    private StateUnavailableException exhausted() {
        return new StateUnavailableException("sender sequence numbers exhausted (limit " + max
                + "); the context must be renewed");
    }

    /**
     * Stops handing out numbers; returns the first number that was never handed out and the
     * bound this sequence last persisted.
     */
    synchronized long[] close() {
        closed = true;
        return new long[] {next, reservedLimit};
    }

    /** The number that {@link #next()} would return. */
    public synchronized long peek() {
        return next;
    }

    synchronized long reservedLimit() {
        return reservedLimit;
    }
}
