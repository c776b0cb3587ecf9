package dev.coterie.oscore;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.KeyMID;
import org.eclipse.californium.core.network.deduplication.Deduplicator;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.util.ClockUtil;

/**
 * Californium's mark-and-sweep deduplication with a ceiling: at most
 * {@link OscoreEndpointBuilder#DEDUPLICATION_MAX_ENTRIES} entries in all (the oldest goes first)
 * and, with {@code DEDUPLICATOR = PEERS_MARK_AND_SWEEP}, at most
 * {@code PEERS_MARK_AND_SWEEP_MESSAGES} per peer. Californium's own deduplicators bound neither
 * the total nor the number of peers, so a flood from many source ports grows them for an
 * {@code EXCHANGE_LIFETIME}.
 *
 * <p>An entry lives {@code EXCHANGE_LIFETIME} at most; expired ones go on every insertion (they
 * are the oldest, at the head) and every {@code MARK_AND_SWEEP_INTERVAL}. Dropping an entry early
 * costs little under OSCORE: a retransmission it would have answered is then verified again and
 * gets 4.01 "Replay detected" instead of the cached response; it is never processed twice.
 */
public final class BoundedDeduplicator implements Deduplicator {
    private final int maxEntries;
    private final int maxPerPeer;
    private final long lifetimeNanos;
    private final long sweepIntervalMs;
    private final boolean replace;
    /** In insertion order, which is time order: a replaced entry is removed and added anew. */
    private final LinkedHashMap<KeyMID, Entry> entries = new LinkedHashMap<>();
    /** Per-peer keys, oldest first; only with a per-peer limit. */
    private final Map<Object, ArrayDeque<KeyMID>> perPeer;
    private long evicted;
    private ScheduledExecutorService executor;
    private ScheduledFuture<?> job;

    private static final class Entry {
        final Exchange exchange;
        final long nanos;

        Entry(Exchange exchange, long nanos) {
            this.exchange = exchange;
            this.nanos = nanos;
        }
    }

    /**
     * @param maxEntries the most entries in all
     * @param maxPerPeer the most entries of one peer, or 0 for no per-peer limit
     */
    public BoundedDeduplicator(Configuration config, int maxEntries, int maxPerPeer) {
        if (maxEntries < 1 || maxPerPeer < 0) {
            throw new IllegalArgumentException("deduplication limits must be positive");
        }
        this.maxEntries = maxEntries;
        this.maxPerPeer = maxPerPeer;
        this.lifetimeNanos = config.get(CoapConfig.EXCHANGE_LIFETIME, TimeUnit.NANOSECONDS);
        this.sweepIntervalMs = Math.max(1, config.get(CoapConfig.MARK_AND_SWEEP_INTERVAL, TimeUnit.MILLISECONDS));
        this.replace = config.get(CoapConfig.DEDUPLICATOR_AUTO_REPLACE);
        this.perPeer = maxPerPeer > 0 ? new HashMap<>() : null;
    }

    @Override
    public synchronized Exchange findPrevious(KeyMID key, Exchange exchange) {
        long now = ClockUtil.nanoRealtime();
        expire(now);
        Entry previous = entries.get(key);
        if (previous != null) {
            if (!replace || previous.exchange.getOrigin() == exchange.getOrigin()) {
                return previous.exchange;
            }
            remove(key);
        }
        add(key, exchange, now);
        return null;
    }

    @Override
    public synchronized boolean replacePrevious(KeyMID key, Exchange previous, Exchange exchange) {
        long now = ClockUtil.nanoRealtime();
        expire(now);
        Entry current = entries.get(key);
        if (current != null) {
            if (current.exchange != previous) {
                return false;
            }
            remove(key);
        }
        add(key, exchange, now);
        return true;
    }

    @Override
    public synchronized Exchange find(KeyMID key) {
        Entry e = entries.get(key);
        return e == null || expired(e, ClockUtil.nanoRealtime()) ? null : e.exchange;
    }

    /**
     * Forgets {@code exchange}, if it is still the one stored for its request: a request that
     * was rejected without any state change is verified again if it comes again, and gets the
     * same error, so it needs no entry.
     */
    public synchronized void forget(Exchange exchange) {
        if (exchange.isOfLocalOrigin() || exchange.getRequest() == null) {
            return;
        }
        KeyMID key = new KeyMID(exchange.getRequest().getMID(), exchange.getPeersIdentity());
        Entry e = entries.get(key);
        if (e != null && e.exchange == exchange) {
            remove(key);
        }
    }

    private void add(KeyMID key, Exchange exchange, long now) {
        entries.put(key, new Entry(exchange, now));
        if (perPeer != null) {
            ArrayDeque<KeyMID> keys = perPeer.computeIfAbsent(key.getPeer(), p -> new ArrayDeque<>(4));
            keys.addLast(key);
            if (keys.size() > maxPerPeer) {
                evicted++;
                remove(keys.peekFirst());
            }
        }
        if (entries.size() > maxEntries) {
            evicted++;
            remove(entries.keySet().iterator().next());
        }
    }

    private void remove(KeyMID key) {
        if (entries.remove(key) == null || perPeer == null) {
            return;
        }
        ArrayDeque<KeyMID> keys = perPeer.get(key.getPeer());
        if (keys != null) {
            // the oldest (expiry, eviction) or the newest (a rejected request) almost always
            if (key.equals(keys.peekFirst())) {
                keys.pollFirst();
            } else if (key.equals(keys.peekLast())) {
                keys.pollLast();
            } else {
                keys.remove(key);
            }
            if (keys.isEmpty()) {
                perPeer.remove(key.getPeer());
            }
        }
    }

    private boolean expired(Entry e, long now) {
        return now - e.nanos >= lifetimeNanos;
    }

    private void expire(long now) {
        Iterator<Map.Entry<KeyMID, Entry>> it = entries.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<KeyMID, Entry> head = it.next();
            if (!expired(head.getValue(), now)) {
                return;
            }
            KeyMID key = head.getKey();
            it.remove();
            if (perPeer != null) {
                ArrayDeque<KeyMID> keys = perPeer.get(key.getPeer());
                if (keys != null) {
                    keys.remove(key);
                    if (keys.isEmpty()) {
                        perPeer.remove(key.getPeer());
                    }
                }
            }
        }
    }

    private synchronized void sweep() {
        expire(ClockUtil.nanoRealtime());
    }

    /** Entries dropped before their lifetime because a limit was reached (for tests and metrics). */
    public synchronized long evicted() {
        return evicted;
    }

    public int maxEntries() {
        return maxEntries;
    }

    @Override
    public synchronized void start() {
        if (job == null && executor != null) {
            job = executor.scheduleAtFixedRate(this::sweep, sweepIntervalMs, sweepIntervalMs, TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public synchronized void stop() {
        if (job != null) {
            job.cancel(false);
            job = null;
        }
        clear();
    }

    @Override
    public synchronized void setExecutor(ScheduledExecutorService executor) {
        if (job != null) {
            throw new IllegalStateException("executor service can not be set on a running Deduplicator");
        }
        this.executor = executor;
    }

    @Override
    public synchronized void clear() {
        entries.clear();
        if (perPeer != null) {
            perPeer.clear();
        }
    }

    @Override
    public synchronized boolean isEmpty() {
        return entries.isEmpty();
    }

    @Override
    public synchronized int size() {
        return entries.size();
    }
}
