package dev.coterie.bench;

import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;

/**
 * Counts the responses (notifications among them) an endpoint has sent, and when the last one
 * left: registered with {@code CoapEndpoint.addPostProcessInterceptor}, it is called once the
 * connector has written the datagram to its socket ({@link Response#isSent()}; a send error is
 * not counted). The time is {@link System#nanoTime()}, which on Linux is CLOCK_MONOTONIC, one
 * clock for every process of the machine: a time read in one process can be compared with one
 * read in another ({@link GroupObservationBench} does, for the proxy's process).
 */
final class SentClock extends MessageInterceptorAdapter {
    private final AtomicLong count = new AtomicLong();
    private final AtomicLong last = new AtomicLong();
    private final AtomicLong first = new AtomicLong(); // the first sent since the last line(); 0: none yet

    @Override
    public void sendResponse(Response response) {
        if (response.isSent()) {
            long now = System.nanoTime();
            count.incrementAndGet();
            last.accumulateAndGet(now, Math::max);
            first.compareAndSet(0, now);
        }
    }

    /**
     * {@code SENT <responses sent> <nanoTime of the last> <nanoTime of the first since the
     * previous line, or 0>}, CoterieProxyMain's answer to {@code sent}; the next line's first is
     * the first response sent after this one.
     */
    String line() {
        long[] v = take();
        return "SENT " + v[0] + " " + v[1] + " " + v[2];
    }

    /** Responses sent, the last one's time, and the first one's since the previous take (0: none); starts a new first. */
    long[] take() {
        return new long[] {count.get(), last.get(), first.getAndSet(0)};
    }
}
