package dev.coterie.oscore;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

/**
 * The server side of the rough counting of a group observation's clients
 * (observe-multicast-notifications Section 8.3; digest 6.5, OMN-09), for one
 * {@link GroupObservedResource}.
 *
 * <p>{@link #start()} asks for a count. The next successful multicast notification, and only
 * that one, carries Feedback-Divider Q = max(ceil(log2(N / M)), 0), N = max(COUNT, 1) taken
 * when that notification is built (Section 8.3.1). The confirmation window opens when it has
 * been sent and lasts {@link Config#confirmationWaitMs()} (MAX_CONFIRMATION_WAIT, 452 s by
 * default, Section 8.3.2): every observation request (GET, Observe 0) to the resource with a
 * Feedback-Divider of value 0 that arrives within it is one of the R confirmations, up to
 * {@link Config#maxConfirmations()}. A confirmation is never a new observer (a client sends one only
 * to confirm, Section 8.2), whether it arrives within a window or not.
 * At the end, COUNT' + (E - N) / D with E = R * 2^Q becomes the counter, computed while holding
 * the resource's lock: no registration is processed meanwhile (the resource takes registrations
 * under the same lock, Section 8.3.3). The notification that carried Q is not kept with the
 * option as last_notif.
 *
 * <p>Not specified by the draft and so left to the application: when to ask for a count and
 * whether to cancel the group observation on the new count ({@link #last()}).
 */
public final class FeedbackCounting {
    /** The dampener of the draft's server pseudo-code (Appendix A.3): D = 4. */
    public static final long DEFAULT_DAMPENER = 4;
    /** Confirmations counted per window by default, as a multiple of M. */
    public static final long DEFAULT_MAX_CONFIRMATIONS_PER_M = 16;

    /**
     * @param wanted M, the confirmations the server would like to receive (at least 1)
     * @param dampener D, a positive integer (Section 8.3.3)
     * @param confirmationWaitMs MAX_CONFIRMATION_WAIT in milliseconds (at least 1)
     * @param option the number of Feedback-Divider (18 unless configured)
     * @param maxConfirmations the most confirmations counted in one window (at least 1); more are
     *     dropped and counted in {@link #dropped()}: a client (or a forger) sending many cannot
     *     raise E above maxConfirmations * 2^Q. The expected R is at most about M.
     */
    public record Config(long wanted, long dampener, long confirmationWaitMs, int option, long maxConfirmations) {
        public Config {
            if (wanted < 1) {
                throw new IllegalArgumentException("the confirmations wanted (M) must be at least 1");
            }
            if (dampener < 1) {
                throw new IllegalArgumentException("the dampener D must be a positive integer");
            }
            if (confirmationWaitMs < 1) {
                throw new IllegalArgumentException("MAX_CONFIRMATION_WAIT must be positive");
            }
            if (maxConfirmations < 1) {
                throw new IllegalArgumentException("the confirmations counted per window must be at least 1");
            }
        }

        /** M as given, D = 4, MAX_CONFIRMATION_WAIT = 452 s, Feedback-Divider 18, at most 16 M confirmations. */
        public static Config defaults(long wanted) {
            long max = wanted > Long.MAX_VALUE / DEFAULT_MAX_CONFIRMATIONS_PER_M ? Long.MAX_VALUE
                    : Math.max(1, wanted) * DEFAULT_MAX_CONFIRMATIONS_PER_M;
            return new Config(wanted, DEFAULT_DAMPENER, FeedbackDivider.DEFAULT_CONFIRMATION_WAIT_S * 1000,
                    ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number(), max);
        }

        public Config withWaitMs(long ms) {
            return new Config(wanted, dampener, ms, option, maxConfirmations);
        }

        public Config withMaxConfirmations(long max) {
            return new Config(wanted, dampener, confirmationWaitMs, option, max);
        }
    }

    /** One finished count: the Q sent, N, the R confirmations, E, COUNT' and the new count. */
    public record Result(int q, long n, long confirmations, long estimate, long countBefore, long count) {
    }

    private final Config config;
    private final Object lock;
    private final LongSupplier counter;
    private final LongConsumer setCounter;
    private final ScheduledExecutorService timer;
    private final LongSupplier clockMs;

    // all guarded by lock
    private boolean requested;
    private boolean collecting;
    private int q;
    private long n;
    private long openedAt;
    private long confirmations;
    private long late;
    private long dropped;
    private ScheduledFuture<?> end;
    private Result last;
    private long countsDone;

    /**
     * @param clockMs a monotonic clock in milliseconds: the window is [sent, sent + MAX_CONFIRMATION_WAIT)
     *     on it, whenever the timer that ends it runs
     */
    FeedbackCounting(Config config, Object lock, LongSupplier counter, LongConsumer setCounter, ScheduledExecutorService timer,
                     LongSupplier clockMs) {
        this.config = config;
        this.lock = lock;
        this.counter = counter;
        this.setCounter = setCounter;
        this.timer = timer;
        this.clockMs = clockMs;
    }

    public Config config() {
        return config;
    }

    /**
     * Asks for a count: the next successful multicast notification carries Q. False (and nothing
     * changes) while a count is already asked for or collecting.
     */
    public boolean start() {
        synchronized (lock) {
            if (requested || collecting) {
                return false;
            }
            requested = true;
            return true;
        }
    }

    /**
     * With each multicast notification about to be sent (the lock held): when a count was asked
     * for and the notification is successful, Q is computed from the counter now and the option
     * added. True when it was; the caller then calls {@link #sent} once it went out, and
     * {@link #unmark} in any case.
     */
    boolean mark(Response notification) {
        if (!requested || !notification.isSuccess()) {
            return false;
        }
        n = Math.max(counter.getAsLong(), 1);
        q = FeedbackDivider.q(n, config.wanted());
        notification.getOptions().addOption(new Option(config.option(), FeedbackDivider.encode(q)));
        return true;
    }

    /** The marked notification went out: the confirmation window opens now. */
    void sent() {
        requested = false;
        collecting = true;
        confirmations = 0;
        openedAt = clockMs.getAsLong();
        end = timer.schedule(this::finish, config.confirmationWaitMs(), TimeUnit.MILLISECONDS);
    }

    /** Takes the option off the stored notification again: last_notif never asks for a count. */
    void unmark(Response notification) {
        notification.getOptions().clearOtherOption(config.option());
    }

    /**
     * Whether {@code req}, an observation request to the running group observation (the lock
     * held), is a confirmation: it carries a Feedback-Divider whose value is 0 (empty, or zero
     * bytes: RFC 7252 3.2). Counted as one of R when it arrives within the window and fewer than
     * maxConfirmations were counted. A Feedback-Divider of another value, or longer than one byte
     * (RFC 7252 5.4.3: an elective option of a wrong length is ignored), does not make a
     * confirmation: the request is an ordinary registration.
     */
    boolean confirmation(Request req) {
        Option fd = null;
        for (Option o : req.getOptions().getOthers()) {
            if (o.getNumber() == config.option()) {
                fd = o;
            }
        }
        if (fd == null || FeedbackDivider.decode(fd.getValue()) != 0) {
            return false;
        }
        if (collecting && clockMs.getAsLong() - openedAt < config.confirmationWaitMs()) {
            if (confirmations < config.maxConfirmations()) {
                confirmations++;
            } else {
                dropped++;
            }
        } else {
            late++;
        }
        return true;
    }

    /**
     * The end of the confirmation window: COUNT' + (E - N) / D becomes the counter, atomically
     * with respect to registrations. Run by the timer after MAX_CONFIRMATION_WAIT; an
     * application (or a test) may end the window earlier. Null when no window was open.
     */
    public Result finish() {
        synchronized (lock) {
            if (!collecting) {
                return null;
            }
            collecting = false;
            if (end != null) {
                end.cancel(false);
            }
            long e = FeedbackDivider.estimate(confirmations, q);
            long before = counter.getAsLong();
            long now = FeedbackDivider.update(before, e, n, config.dampener());
            setCounter.accept(now);
            last = new Result(q, n, confirmations, e, before, now);
            countsDone++;
            return last;
        }
    }

    /** Drops a count in progress (the group observation ended). */
    void reset() {
        synchronized (lock) {
            requested = false;
            collecting = false;
            if (end != null) {
                end.cancel(false);
            }
        }
    }

    /** The last finished count, or null. */
    public Result last() {
        synchronized (lock) {
            return last;
        }
    }

    /** Confirmations counted in the open window (0 when none is open). */
    public long confirmations() {
        synchronized (lock) {
            return collecting ? confirmations : 0;
        }
    }

    /** Confirmations that arrived with no window open or after it closed: not counted. */
    public long late() {
        synchronized (lock) {
            return late;
        }
    }

    /** Confirmations beyond maxConfirmations in a window: not counted. */
    public long dropped() {
        synchronized (lock) {
            return dropped;
        }
    }

    public boolean collecting() {
        synchronized (lock) {
            return collecting;
        }
    }

    /** A count is asked for and waits for the next successful notification. */
    public boolean requested() {
        synchronized (lock) {
            return requested;
        }
    }

    public long countsDone() {
        synchronized (lock) {
            return countsDone;
        }
    }
}
