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

    @Override
    public void sendResponse(Response response) {
        if (response.isSent()) {
            long now = System.nanoTime();
            count.incrementAndGet();
            last.accumulateAndGet(now, Math::max);
        }
    }

    long count() {
        return count.get();
    }

    long lastNanos() {
        return last.get();
    }

    /** {@code SENT <responses sent> <nanoTime of the last>}: CoterieProxyMain's answer to {@code sent}. */
    String line() {
        return "SENT " + count.get() + " " + last.get();
    }
}
