package dev.coterie.bench;

import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongFunction;
import java.util.function.Predicate;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * A bounded closed-loop load: a fixed number of requests outstanding at all times, each slot
 * refilled as soon as its response (or failure) arrives. A request without an answer after
 * {@link #TIMEOUT_NANOS} is cancelled and counted as lost, so a lost NON request never shrinks
 * the window. Bounded by a request count ({@code limit}) and by whoever calls {@link #stop()}.
 */
final class Load {
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(3);

    private final Endpoint endpoint;
    private final LongFunction<Request> make;
    private final AddressEndpointContext to;
    private final Predicate<Response> good;
    private final long limit;
    private final AtomicReferenceArray<Request> slots;
    private final long[] sentAt;
    private final ArrayBlockingQueue<Integer> free;
    final LongAdder ok = new LongAdder();
    final LongAdder bad = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder lost = new LongAdder();
    private final AtomicLong sent = new AtomicLong();
    private volatile boolean running;
    private volatile Response sample;
    private volatile Response badSample;
    private Thread sender;
    private Thread sweeper;

    /**
     * @param make the n-th request (a fresh object each time)
     * @param good which responses count as answered correctly
     * @param limit the most requests sent in all
     */
    Load(Endpoint endpoint, InetSocketAddress to, int outstanding, LongFunction<Request> make, Predicate<Response> good,
         long limit) {
        this.endpoint = endpoint;
        this.to = new AddressEndpointContext(to);
        this.make = make;
        this.good = good;
        this.limit = limit;
        slots = new AtomicReferenceArray<>(outstanding);
        sentAt = new long[outstanding];
        free = new ArrayBlockingQueue<>(outstanding);
        for (int i = 0; i < outstanding; i++) {
            free.add(i);
        }
    }

    Load start() {
        running = true;
        sender = new Thread(this::send, "load-sender");
        sweeper = new Thread(this::sweep, "load-sweeper");
        sender.setDaemon(true);
        sweeper.setDaemon(true);
        sender.start();
        sweeper.start();
        return this;
    }

    /** Stops sending and waits (at most the timeout) for the requests in flight. */
    void stop() throws InterruptedException {
        running = false;
        sender.join(5000);
        long until = System.nanoTime() + TIMEOUT_NANOS + TimeUnit.MILLISECONDS.toNanos(500);
        while (free.remainingCapacity() > 0 && System.nanoTime() - until < 0) {
            Thread.sleep(20);
        }
        sweeper.interrupt();
        sweeper.join(2000);
    }

    /** Runs until {@code limit} requests are answered or lost, or {@code maxMillis} pass. */
    boolean runToLimit(long maxMillis) throws InterruptedException {
        start();
        long until = System.currentTimeMillis() + maxMillis;
        while (ok.sum() + bad.sum() + failed.sum() + lost.sum() < limit && System.currentTimeMillis() < until) {
            Thread.sleep(10);
        }
        stop();
        return ok.sum() == limit;
    }

    long answered() {
        return ok.sum();
    }

    long sent() {
        return sent.get();
    }

    /** One good response, for the report (the last one seen). */
    Response sample() {
        return sample;
    }

    String problems() {
        Response b = badSample;
        return "bad=" + bad.sum() + (b == null ? "" : " (e.g. " + b.getCode() + " " + b.getPayloadString() + ")")
                + " failed=" + failed.sum() + " lost=" + lost.sum();
    }

    private void send() {
        try {
            while (running) {
                if (sent.get() >= limit) {
                    Thread.sleep(10);
                    continue;
                }
                Integer s = free.poll(100, TimeUnit.MILLISECONDS);
                if (s == null) {
                    continue;
                }
                Request r = make.apply(sent.getAndIncrement());
                r.setDestinationContext(to);
                r.addMessageObserver(new Done(s, r));
                sentAt[s] = System.nanoTime();
                slots.set(s, r);
                endpoint.sendRequest(r);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void sweep() {
        try {
            while (true) {
                Thread.sleep(250);
                long now = System.nanoTime();
                for (int i = 0; i < slots.length(); i++) {
                    Request r = slots.get(i);
                    if (r != null && now - sentAt[i] > TIMEOUT_NANOS && slots.compareAndSet(i, r, null)) {
                        lost.increment();
                        free.add(i);
                        r.cancel();
                    }
                }
            }
        } catch (InterruptedException e) {
            // stopped
        }
    }

    private final class Done extends MessageObserverAdapter {
        private final int slot;
        private final Request request;

        Done(int slot, Request request) {
            this.slot = slot;
            this.request = request;
        }

        private boolean finish() {
            if (slots.compareAndSet(slot, request, null)) {
                free.add(slot);
                return true;
            }
            return false;
        }

        @Override
        public void onResponse(Response response) {
            boolean g = good.test(response);
            if (finish()) {
                if (g) {
                    ok.increment();
                    sample = response;
                } else {
                    bad.increment();
                    badSample = response;
                }
            }
        }

        @Override
        public void onReject() {
            if (finish()) {
                failed.increment();
            }
        }

        @Override
        public void onTimeout() {
            if (finish()) {
                failed.increment();
            }
        }

        @Override
        public void onCancel() {
            if (finish()) {
                failed.increment();
            }
        }

        @Override
        protected void failed() {
            if (finish()) {
                failed.increment();
            }
        }

        @Override
        public void onSendError(Throwable error) {
            if (finish()) {
                failed.increment();
            }
        }
    }
}
