package dev.coterie.oscore;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.NoResponseOption;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's answer to a Feedback-Divider (observe-multicast-notifications Section 8.2; digest
 * 6.5, OMN-09): once its draw said answer ({@link GroupObservationClient}), it waits a random
 * part of the Leisure and sends a Non-confirmable GET with Observe 0 to the same target resource
 * and the same destination address and port as the original registration, with the maximum
 * No-Response (26) and an empty Feedback-Divider (value 0). It expects no response: the request
 * goes out of its own ephemeral UDP socket, so nothing waits for an answer or keeps an
 * observation for it.
 */
public final class FeedbackAnswer implements Consumer<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(FeedbackAnswer.class);
    /** The maximum No-Response: suppress 2.xx, 4.xx and 5.xx (RFC 7967). */
    public static final int NO_RESPONSE_ALL = NoResponseOption.SUPPRESS_SUCCESS | NoResponseOption.SUPPRESS_CLIENT_ERROR
            | NoResponseOption.SUPPRESS_SERVER_ERROR;
    /** RFC 7252 DEFAULT_LEISURE, 5 s. */
    public static final long DEFAULT_LEISURE_MS = 5000;
    /** The default hold-off after an answer: MAX_CONFIRMATION_WAIT (observe-multicast-notifications 8.1). */
    public static final long DEFAULT_HOLD_OFF_MS = FeedbackDivider.DEFAULT_CONFIRMATION_WAIT_S * 1000;

    private final Request registration;
    private final InetSocketAddress destination;
    private final int option;
    private final long leisureMs;
    private final RandomGenerator random;
    private final Consumer<Request> send;
    private final ScheduledExecutorService timer;
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong ignored = new AtomicLong();
    private final long holdOffNs;
    /** An answer is scheduled and not yet sent. */
    private boolean pending;
    /** When the last answer left (System.nanoTime), or none yet. */
    private long lastSentNs;
    private boolean answered;

    /**
     * @param registration the original registration (its options and destination are reused)
     * @param option the number of Feedback-Divider
     * @param leisureMs the Leisure the delay is drawn from, [0, leisure)
     * @param random for the delay (the Token and Message ID of {@link #udp} come from a SecureRandom)
     * @param send how the request leaves; null: {@link #udp}, unprotected, which a protected
     *     registration refuses (fail closed: a protected observation's confirmation is never sent
     *     in plaintext; the caller gives a {@code send} that protects it)
     */
    public FeedbackAnswer(Request registration, int option, long leisureMs, RandomGenerator random, Consumer<Request> send) {
        this(registration, option, leisureMs, DEFAULT_HOLD_OFF_MS, random, send);
    }

    /**
     * The same with a hold-off: while one answer is pending, and for {@code holdOffMs} after one
     * left, a further Feedback-Divider is ignored (counted in {@link #ignored()}). In the
     * unprotected variant anyone who can send to the group can put Feedback-Divider into a
     * notification; without this each such datagram would make the client (or the proxy, for
     * all its ticket clients) send a request, without bound. A server asks again only after its
     * confirmation window, so the default hold-off is MAX_CONFIRMATION_WAIT.
     */
    public FeedbackAnswer(Request registration, int option, long leisureMs, long holdOffMs, RandomGenerator random,
                          Consumer<Request> send) {
        if (holdOffMs < 0) {
            throw new IllegalArgumentException("the hold-off cannot be negative");
        }
        this.holdOffNs = TimeUnit.MILLISECONDS.toNanos(holdOffMs);
        if (leisureMs < 0) {
            throw new IllegalArgumentException("the Leisure cannot be negative");
        }
        if (registration.getDestinationContext() == null) {
            throw new IllegalArgumentException("the registration has no destination");
        }
        if (send == null && registration.getOptions().hasOscore()) {
            throw new IllegalArgumentException("the registration is OSCORE-protected: its Feedback-Divider answer needs a "
                    + "sender that protects it, never plaintext");
        }
        this.registration = registration;
        this.destination = registration.getDestinationContext().getPeerAddress();
        this.option = option;
        this.leisureMs = leisureMs;
        this.random = random;
        this.send = send != null ? send : udp(new java.security.SecureRandom());
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "feedback-answer");
            t.setDaemon(true);
            return t;
        });
    }

    /** The re-registration of Section 8.2 for {@code registration}, to its destination. */
    public static Request confirmation(Request registration, int option) {
        Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
        OptionSet o = new OptionSet(registration.getOptions());
        o.clearOtherOption(option);
        o.setObserve(0);
        o.setNoResponse(NO_RESPONSE_ALL);
        o.addOption(new Option(option, FeedbackDivider.encode(0)));
        r.setOptions(o);
        r.setDestinationContext(new AddressEndpointContext(registration.getDestinationContext().getPeerAddress()));
        return r;
    }

    /** Called with Q when the draw said answer: the confirmation leaves after a random part of the Leisure. */
    @Override
    public void accept(Integer q) {
        long delay = leisureMs == 0 ? 0 : random.nextLong(leisureMs);
        if (timer.isShutdown()) {
            return; // closed: the observation is being left, nothing more is sent
        }
        synchronized (this) {
            if (pending || answered && System.nanoTime() - lastSentNs < holdOffNs) {
                ignored.incrementAndGet(); // one answer per count: a burst of Feedback-Dividers is not a burst of requests
                return;
            }
            pending = true;
        }
        try {
            schedule(delay);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closed meanwhile: never an exception into the notification listener, which would end the observation
            synchronized (this) {
                pending = false;
            }
        }
    }

    private void schedule(long delay) {
        timer.schedule(() -> {
            boolean ok = false;
            try {
                send.accept(confirmation(registration, option));
                ok = true;
            } catch (RuntimeException e) {
                LOG.info("the Feedback-Divider answer to {} was not sent: {}", destination, e.toString());
            } finally {
                synchronized (this) {
                    pending = false;
                    answered = true;
                    lastSentNs = System.nanoTime();
                }
            }
            if (ok) {
                sent.incrementAndGet(); // after the state above: once sent() counts it, the next count is decided anew
            }
        }, delay, TimeUnit.MILLISECONDS);
    }

    /** Feedback-Dividers ignored because an answer was pending or had left less than the hold-off ago. */
    public long ignored() {
        return ignored.get();
    }

    /** Confirmations sent so far. */
    public long sent() {
        return sent.get();
    }

    /** Stops the timer; answers not yet sent are dropped. */
    public void close() {
        timer.shutdownNow();
    }

    /** Sends each request from a fresh ephemeral UDP socket, with a random 8-byte Token and Message ID. */
    public static Consumer<Request> udp(RandomGenerator random) {
        return r -> {
            byte[] token = new byte[8];
            random.nextBytes(token);
            r.setToken(Token.fromProvider(token));
            r.setMID(random.nextInt(1 << 16));
            byte[] bytes = new UdpDataSerializer().getByteArray(r);
            InetSocketAddress to = r.getDestinationContext().getPeerAddress();
            try (DatagramSocket s = new DatagramSocket()) {
                s.send(new DatagramPacket(bytes, bytes.length, to));
            } catch (IOException e) {
                throw new IllegalStateException("cannot send to " + to + ": " + e.getMessage(), e);
            }
        };
    }
}
