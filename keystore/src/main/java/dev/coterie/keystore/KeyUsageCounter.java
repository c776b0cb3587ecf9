package dev.coterie.keystore;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the uses of one key against one limit of draft-ietf-core-oscore-key-limits: the
 * failed decryptions with a Recipient Key ('count_v' against v) or the encryptions with a Sender
 * Key ('count_q' against q). Once the limit is reached the key must not be used for that
 * purpose any more and the context must be renewed. Thread-safe; kept in memory only, so a
 * restarted process starts counting at 0 again.
 *
 * <p>Use for a Recipient Key: before decrypting, refuse if {@link #isExhausted()}; after a
 * decryption or verification failure (not after a replay, which the draft does not count), call
 * {@link #tryCount()}. For a Sender Key: call {@link #tryCount()} before encrypting and refuse if
 * it returns false. That allows exactly q encryptions, as the draft does; for v it refuses after
 * v failures, one earlier than the draft's "after count_v has exceeded limit_v", on the safe side.
 */
public final class KeyUsageCounter {
    private final String usage;
    private final long limit;
    private final AtomicLong count = new AtomicLong();

    private KeyUsageCounter(String usage, long limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative");
        }
        this.usage = usage;
        this.limit = limit;
    }

    /** Failed decryptions with one Recipient Key, up to {@link AeadAlgorithm#integrityLimit()}. */
    public static KeyUsageCounter failedDecryptions(AeadAlgorithm alg) {
        return new KeyUsageCounter("failed decryptions", alg.integrityLimit());
    }

    /** Encryptions with one Sender Key, up to {@link AeadAlgorithm#confidentialityLimit()}. */
    public static KeyUsageCounter encryptions(AeadAlgorithm alg) {
        return new KeyUsageCounter("encryptions", alg.confidentialityLimit());
    }

    /** A counter with a limit of the caller's choosing (lower ones, for tests of the refusal). */
    public static KeyUsageCounter withLimit(String usage, long limit) {
        return new KeyUsageCounter(usage, limit);
    }

    /**
     * Counts one use if the limit allows it. Returns false, counting nothing, when the limit was
     * reached already: the key must not be used.
     */
    public boolean tryCount() {
        while (true) {
            long c = count.get();
            if (c >= limit) {
                return false;
            }
            if (count.compareAndSet(c, c + 1)) {
                return true;
            }
        }
    }

    /** Whether the limit is reached: the key must not be used for this purpose any more. */
    public boolean isExhausted() {
        return count.get() >= limit;
    }

    public long count() {
        return count.get();
    }

    public long limit() {
        return limit;
    }

    /** Why the key is refused, for a log line; names only counts, never the key. */
    public String describe() {
        return usage + " " + count.get() + " of limit " + limit;
    }
}
