package dev.coterie.keystore;

/**
 * A Sender Sequence Number that is reserved on disk in blocks before use (RFC 8613 Appendix
 * B.1.1): the first number of a block is handed out only after the new upper bound was written
 * and fsynced. After a crash the sender continues at the last reserved bound, so numbers can be
 * skipped but never reused.
 */
public final class SenderSequence {
    /** RFC 8613 Section 7.2.1: the Partial IV is at most 5 bytes. */
    public static final long MAX = (1L << 40) - 1;

    private final ContextState owner;
    private final long blockSize;
    private long next;
    private long reservedLimit;
    private long max = MAX;

    SenderSequence(ContextState owner, long next, long blockSize) {
        this.owner = owner;
        this.next = next;
        this.reservedLimit = next;
        this.blockSize = blockSize;
    }

    /** Lowers the limit below 2^40 for AEAD algorithms that need it. */
    public synchronized void limit(long newMax) {
        max = Math.min(max, newMax);
    }

    /**
     * Returns the next number, reserving a new block on disk first if needed.
     *
     * @throws StateUnavailableException if the numbers are exhausted or the reservation cannot
     *     be persisted; the context must then stop protecting messages
     */
    public synchronized long next() throws StateUnavailableException {
        if (next > max) {
            throw new StateUnavailableException("sender sequence numbers exhausted (limit " + max
                    + "); the context must be renewed");
        }
        if (next >= reservedLimit) {
            long limit = Math.min(next + blockSize, max + 1);
            owner.persistReservation(limit);
            reservedLimit = limit;
        }
        return next++;
    }

    /** The number that {@link #next()} would return. */
    public synchronized long peek() {
        return next;
    }

    synchronized long reservedLimit() {
        return reservedLimit;
    }
}
