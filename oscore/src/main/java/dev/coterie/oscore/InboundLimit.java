package dev.coterie.oscore;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.DataParser;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.RawDataChannel;
import org.eclipse.californium.elements.config.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ceiling on the datagrams an endpoint has received and not yet begun to process:
 * {@link OscoreEndpointBuilder#MAX_PENDING_DATAGRAMS}. Californium's connector hands every
 * datagram to the protocol-stage executor, whose queue is unbounded, so a flood faster than the
 * stage (which verifies each request) grows the heap without bound, and every valid request waits
 * behind the whole backlog. Past the ceiling a datagram is dropped on arrival, as a full socket
 * buffer would drop it, at no cost.
 *
 * <p>A datagram counts from the connector's receiver ({@link #wrap}) until the endpoint's parser
 * starts on it ({@link #parser}). The stage's queue is first-in first-out, so the tasks that
 * datagrams already parsed still have queued are about as many more: the backlog stays within
 * about twice the ceiling. Datagrams that Californium drops between the two (an endpoint being
 * started or stopped) are forgotten when the connector starts again ({@link #reset}).
 */
public final class InboundLimit {
    private static final Logger LOG = LoggerFactory.getLogger(InboundLimit.class);
    private static final long LOG_INTERVAL = TimeUnit.SECONDS.toNanos(10);

    private final int max;
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong lastLog = new AtomicLong(System.nanoTime() - LOG_INTERVAL);

    public InboundLimit(Configuration config) {
        this(config.get(OscoreEndpointBuilder.MAX_PENDING_DATAGRAMS));
    }

    public InboundLimit(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("the pending-datagram limit must be positive");
        }
        this.max = max;
    }

    /** The receiver a connector of one's own hands its datagrams to (in its {@code setRawDataReceiver}). */
    public RawDataChannel wrap(RawDataChannel inbox) {
        return raw -> receive(inbox, raw);
    }

    private void receive(RawDataChannel inbox, RawData raw) {
        if (pending.incrementAndGet() > max) {
            pending.decrementAndGet();
            long n = dropped.incrementAndGet();
            long now = System.nanoTime();
            long last = lastLog.get();
            if (now - last >= LOG_INTERVAL && lastLog.compareAndSet(last, now)) {
                LOG.warn("overloaded: {} datagrams wait for processing; {} dropped so far", max, n);
            }
            return;
        }
        try {
            inbox.receiveData(raw);
        } catch (RuntimeException e) {
            started();
            throw e;
        }
    }

    /** The endpoint's parser, which marks a datagram as begun. */
    DataParser parser(boolean strictEmptyMessageFormat, OptionRegistry registry) {
        return parser(strictEmptyMessageFormat, registry, ResponseParsing.STANDARD);
    }

    /** The endpoint's parser, which marks a datagram as begun and treats responses as {@code responses} says. */
    DataParser parser(boolean strictEmptyMessageFormat, OptionRegistry registry, ResponseParsing responses) {
        return responses.udpParser(strictEmptyMessageFormat, registry, this::started);
    }

    private void started() {
        pending.getAndUpdate(p -> p > 0 ? p - 1 : 0);
    }

    /** Forgets what was pending; for a connector's start. */
    public void reset() {
        pending.set(0);
    }

    /** Datagrams received and not yet begun. */
    public int pending() {
        return pending.get();
    }

    /** Datagrams dropped because {@link #max()} were pending. */
    public long dropped() {
        return dropped.get();
    }

    public int max() {
        return max;
    }
}
