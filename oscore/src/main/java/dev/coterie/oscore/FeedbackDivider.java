package dev.coterie.oscore;

import java.util.random.RandomGenerator;

/**
 * The rough counting of observers with Feedback-Divider (observe-multicast-notifications
 * Section 8; digest 6.5, OMN-09).
 *
 * <p>Server: with the current estimate COUNT of observers, N = max(COUNT, 1) and M the
 * confirmations it wants, it puts Q = max(ceil(log2(N / M)), 0) into one notification, counts the
 * R registrations with an empty Feedback-Divider that arrive within the confirmation window,
 * estimates E = R * 2^Q, and updates COUNT to COUNT' + (E - N) / D, COUNT' being the count at
 * that time (observers that joined meanwhile included) and D &gt; 0 the dampener.
 *
 * <p>Client: draws I uniformly from [0, 2^Q) and answers only when I = 0, so with probability
 * 2^-Q.
 */
public final class FeedbackDivider {
    /** MAX_CONFIRMATION_WAIT by default: MAX_RTT (202 s) + 250 s. */
    public static final long DEFAULT_CONFIRMATION_WAIT_S = 202 + 250;
    /** Q fits the option's one byte, but 2^Q must fit a long here. */
    public static final int MAX_Q = 62;

    private FeedbackDivider() {
    }

    /** Q = max(ceil(log2(N / M)), 0) with N = max(count, 1); exact in integers (no floating point rounding at powers of 2). */
    public static int q(long count, long wanted) {
        if (wanted < 1) {
            throw new IllegalArgumentException("the confirmations wanted (M) must be at least 1");
        }
        long n = Math.max(count, 1);
        int q = 0;
        // smallest q >= 0 with M * 2^q >= N, i.e. 2^q >= N / M
        while (q < MAX_Q && wanted << q < n && (wanted << q) > 0) {
            q++;
        }
        return q;
    }

    /** E = R * 2^Q. */
    public static long estimate(long confirmations, int q) {
        if (q < 0 || q > MAX_Q) {
            throw new IllegalArgumentException("Q out of range: " + q);
        }
        return confirmations << q;
    }

    /**
     * The new count: COUNT' + (E - N) / D, with N the count Q was computed from and D &gt; 0 an
     * integer (Section 8.3.3), the division an integer one truncating towards zero as in the
     * draft's server pseudo-code (Appendix A.3: {@code int NEW_COUNT = COUNT_PRIME + ((E - N) / D)});
     * never below 0 (the pseudo-code returns 0 below its cancel threshold).
     */
    public static long update(long countNow, long estimate, long n, long dampener) {
        if (dampener < 1) {
            throw new IllegalArgumentException("the dampener D must be a positive integer");
        }
        return Math.max(0, countNow + (estimate - Math.max(n, 1)) / dampener);
    }

    /** The client's draw: true (answer) with probability 2^-Q. */
    public static boolean answers(int q, RandomGenerator random) {
        if (q < 0) {
            throw new IllegalArgumentException("Q out of range: " + q);
        }
        if (q >= MAX_Q) {
            return random.nextLong(1L << MAX_Q) == 0;
        }
        return random.nextLong(1L << q) == 0;
    }

    /** The option value of Q: uint 0-1 bytes, so 0 is the empty value (RFC 7252 Section 3.2). */
    public static byte[] encode(int q) {
        if (q < 0 || q > 255) {
            throw new IllegalArgumentException("Q out of range: " + q);
        }
        return q == 0 ? new byte[0] : new byte[] {(byte) q};
    }

    /** Q from an option value, or -1 when the value is not a 0-1 byte uint. */
    public static int decode(byte[] value) {
        if (value == null || value.length > 1) {
            return -1;
        }
        return value.length == 0 ? 0 : value[0] & 0xff;
    }
}
