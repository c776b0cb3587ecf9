package dev.coterie.oscore;

import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;

/**
 * A client's request identifiers by Token: what its responses, and an observation's
 * notifications, are verified with. An entry lives until its last response (a final response to
 * a unicast request, the end of an observation, a cancel or a timeout) and at most its lifetime
 * (500 s: the longest a group request's responses may arrive, groupcomm-bis MIN_TOKEN_REUSE_TIME);
 * observations live until Californium's observation store drops them. The number of entries is
 * bounded: past the limit a new request is refused, not sent.
 */
final class ClientExchanges {
    static final long DEFAULT_LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(500);

    /**
     * @param layers the identifiers of every layer, innermost (end to end) first
     * @param views the views the request was protected with, in the same order
     * @param echoed the layers whose Echo challenge this request already answered (a bit each)
     */
    record Entry(List<RequestIdentifiers> layers, List<RequestProtector> views, Request plain, boolean multicast,
                 int echoed, long deadline) {
        /** The innermost layer's identifiers: end to end. */
        RequestIdentifiers identifiers() {
            return layers.get(0);
        }
    }

    private final Map<Token, Entry> byToken = new ConcurrentHashMap<>();
    private final int limit;
    private final long lifetimeNanos;
    private volatile long nextSweep;

    ClientExchanges(int limit, long lifetimeNanos) {
        this.limit = limit;
        this.lifetimeNanos = lifetimeNanos;
    }

    boolean hasRoom() {
        sweep();
        return byToken.size() < limit;
    }

    void put(Token token, List<RequestIdentifiers> layers, List<RequestProtector> views, Request plain, boolean multicast,
             int echoed) {
        long deadline = layers.get(0).isObserve() ? Long.MAX_VALUE : System.nanoTime() + lifetimeNanos;
        byToken.put(token, new Entry(layers, views, plain, multicast, echoed, deadline));
    }

    Entry get(Token token) {
        return token == null ? null : byToken.get(token);
    }

    void remove(Token token) {
        if (token != null) {
            byToken.remove(token);
        }
    }

    /** Removes the entry only if it is still {@code ids}' (a newer request may reuse the Token). */
    void remove(Token token, RequestIdentifiers ids) {
        Entry e = get(token);
        if (e != null && e.identifiers() == ids) {
            byToken.remove(token, e);
        }
    }

    int size() {
        return byToken.size();
    }

    private void sweep() {
        long now = System.nanoTime();
        if (now - nextSweep < 0) {
            return;
        }
        nextSweep = now + TimeUnit.SECONDS.toNanos(1);
        for (Iterator<Entry> it = byToken.values().iterator(); it.hasNext();) {
            Entry e = it.next();
            if (e.deadline() != Long.MAX_VALUE && now - e.deadline() > 0) {
                it.remove();
            }
        }
    }
}
