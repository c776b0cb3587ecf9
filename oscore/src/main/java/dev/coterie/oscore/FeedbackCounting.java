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
 * <p>{@link #start()} asks for a count: the next successful multicast notification, and only
 * that one, carries Feedback-Divider Q = max(ceil(log2(N / M)), 0) with N = max(COUNT, 1). From
 * the moment it is sent, for {@link Config#confirmationWaitMs()} (MAX_CONFIRMATION_WAIT, 452 s
 * by default), every observation request with an empty Feedback-Divider (value 0) is one of the
 * R confirmations; none of them is a new observer. At the end the counter becomes
 * COUNT' + (E - N) / D with E = R * 2^Q, computed while holding the resource's lock, so no new
 * registration is processed meanwhile (the resource takes registrations under the same lock).
 */
public final class FeedbackCounting {
    /** The dampener of the draft's server pseudo-code (Appendix A.2): D = 4. */
    public static final double DEFAULT_DAMPENER = 4;

    /**
     * @param wanted M, the confirmations the server would like to receive (at least 1)
     * @param dampener D &gt; 0
     * @param confirmationWaitMs MAX_CONFIRMATION_WAIT in milliseconds (at least 1)
     * @param option the number of Feedback-Divider (18 unless configured)
     */
    public record Config(long wanted, double dampener, long confirmationWaitMs, int option) {
        public Config {
            if (wanted < 1) {
                throw new IllegalArgumentException("the confirmations wanted (M) must be at least 1");
            }
            if (!(dampener > 0) || Double.isInfinite(dampener)) {
                throw new IllegalArgumentException("the dampener D must be positive");
            }
            if (confirmationWaitMs < 1) {
                throw new IllegalArgumentException("MAX_CONFIRMATION_WAIT must be positive");
            }
        }

        /** M as given, D = 4, MAX_CONFIRMATION_WAIT = 452 s, Feedback-Divider 18. */
        public static Config defaults(long wanted) {
            return new Config(wanted, DEFAULT_DAMPENER, FeedbackDivider.DEFAULT_CONFIRMATION_WAIT_S * 1000,
                    ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.FEEDBACK_DIVIDER).number());
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

    // all guarded by lock
    private boolean requested;
    private boolean collecting;
    private int q;
    private long n;
    private long confirmations;
    private ScheduledFuture<?> end;
    private Result last;
    private long countsDone;

    FeedbackCounting(Config config, Object lock, LongSupplier counter, LongConsumer setCounter, ScheduledExecutorService timer) {
        this.config = config;
        this.lock = lock;
        this.counter = counter;
        this.setCounter = setCounter;
        this.timer = timer;
    }

    public Config config() {
        return config;
    }

    /**
     * Asks for a count: Q is computed now from the current counter and goes into the next
     * successful multicast notification. False (and nothing changes) while a count is already
     * asked for or collecting.
     */
    public boolean start() {
        synchronized (lock) {
            if (requested || collecting) {
                return false;
            }
            n = Math.max(counter.getAsLong(), 1);
            q = FeedbackDivider.q(n, config.wanted());
            requested = true;
            return true;
        }
    }

    /**
     * Called by the resource with each multicast notification it is about to send (holding the
     * lock): a successful one carries Feedback-Divider Q when a count was asked for, and the
     * confirmation window opens.
     */
    void mark(Response notification) {
        if (!requested || !notification.isSuccess()) {
            return;
        }
        notification.getOptions().addOption(new Option(config.option(), FeedbackDivider.encode(q)));
        requested = false;
        collecting = true;
        confirmations = 0;
        end = timer.schedule(this::finish, config.confirmationWaitMs(), TimeUnit.MILLISECONDS);
    }

    /**
     * Whether {@code req} (an observation request, the resource's lock held) is a confirmation:
     * it carries Feedback-Divider with value 0. Counted as one of R while collecting; never a new
     * observer. A request with another Feedback-Divider value is not a confirmation (Section 8.3.3).
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
        if (collecting) {
            confirmations++;
        }
        return true;
    }

    /**
     * The end of the confirmation window: COUNT' + (E - N) / D becomes the counter, atomically
     * with respect to registrations. Normally run by the timer after MAX_CONFIRMATION_WAIT; an
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

    /** Confirmations received in the open window (0 when none is open). */
    public long confirmations() {
        synchronized (lock) {
            return collecting ? confirmations : 0;
        }
    }

    public boolean collecting() {
        synchronized (lock) {
            return collecting;
        }
    }

    public long countsDone() {
        synchronized (lock) {
            return countsDone;
        }
    }
}
