package dev.coterie.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.time.Duration;

/**
 * A token bucket per client: {@code perSecond} requests a second on average, {@code burst} at
 * once. Buckets are kept for at most {@code tracked} clients (the least recently seen go first),
 * so a flood of spoofed source addresses cannot grow the table.
 */
final class RateLimiter {
    private final double perNano;
    private final double burst;
    private final Cache<Object, Bucket> buckets;

    private static final class Bucket {
        double tokens;
        long last;
    }

    RateLimiter(int perSecond, int burst, int tracked) {
        this.perNano = perSecond / 1e9;
        this.burst = burst;
        this.buckets = Caffeine.newBuilder().maximumSize(tracked).expireAfterAccess(Duration.ofMinutes(10)).build();
    }

    /** Takes one token of {@code client}'s bucket; false when it is empty. */
    boolean tryAcquire(Object client) {
        long now = System.nanoTime();
        Bucket b = buckets.get(client, k -> {
            Bucket n = new Bucket();
            n.tokens = burst;
            n.last = now;
            return n;
        });
        synchronized (b) {
            b.tokens = Math.min(burst, b.tokens + (now - b.last) * perNano);
            b.last = now;
            if (b.tokens < 1) {
                return false;
            }
            b.tokens -= 1;
            return true;
        }
    }
}
