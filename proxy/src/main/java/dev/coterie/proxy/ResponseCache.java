package dev.coterie.proxy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;

/**
 * The proxy's response cache (RFC 7252 Section 5.6): fresh for Max-Age, then revalidated with
 * its ETag. Keys follow Section 5.4.2: the method, the origin and every option of the request
 * except the NoCacheKey ones, ETag, Observe and Hop-Limit, then the payload (FETCH, RFC 8132).
 * A deterministic request's key thus includes its Request-Hash and its OSCORE option and
 * ciphertext (DET-10): two different deterministic requests never share an entry. Ordinary
 * OSCORE responses are never stored (their outer code is 2.04, and a response with an OSCORE
 * option is stored only for a request with Request-Hash).
 *
 * <p>Bounded by bytes and by entries at once with one Caffeine weigher: an entry weighs its
 * bytes, but never less than {@code maxBytes / maxEntries}, so neither bound can be passed.
 * Eviction and variable expiry are Caffeine's.
 */
public final class ResponseCache {
    /** How long a stale entry with an ETag is kept for revalidation after its Max-Age ran out. */
    static final long REVALIDATION_KEEP_NANOS = TimeUnit.MINUTES.toNanos(5);

    private final Cache<Key, Entry> cache;
    private final LongSupplier clock;
    private final ProxyMetrics metrics;
    private final int requestHashNumber;
    private final ForwardTarget.Numbers numbers;

    /** The canonical bytes of a request's cache key. */
    public record Key(byte[] bytes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(bytes, k.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }
    }

    /** A stored response and when it stops being fresh. */
    public static final class Entry {
        final Response response;
        volatile long freshUntil;
        final byte[] etag;
        final int weight;
        final String uri;

        Entry(Response response, long freshUntil, int weight, String uri) {
            this.response = response;
            this.uri = uri;
            this.freshUntil = freshUntil;
            List<byte[]> etags = response.getOptions().getETags();
            this.etag = etags.isEmpty() ? null : etags.get(0);
            this.weight = weight;
        }

        /** The stored response (not a copy: not to be changed). */
        Response stored() {
            return response;
        }

        public boolean fresh(long now) {
            return now - freshUntil < 0;
        }

        /** Seconds of freshness left (the Max-Age of a response served from here). */
        long maxAgeLeft(long now) {
            return Math.max(0, TimeUnit.NANOSECONDS.toSeconds(freshUntil - now));
        }
    }

    public ResponseCache(ProxyConfig.CacheLimits limits, ProxyMetrics metrics, int requestHashNumber,
                         ForwardTarget.Numbers numbers, LongSupplier clock) {
        this.clock = clock;
        this.numbers = numbers;
        this.metrics = metrics;
        this.requestHashNumber = requestHashNumber;
        long floor = Math.max(1, limits.maxBytes() / limits.maxEntries());
        this.cache = Caffeine.newBuilder()
                .maximumWeight(limits.maxBytes())
                .weigher((Key k, Entry e) -> e.weight)
                .expireAfter(new Expiry<Key, Entry>() {
                    @Override
                    public long expireAfterCreate(Key k, Entry e, long now) {
                        return lifetime(e);
                    }

                    @Override
                    public long expireAfterUpdate(Key k, Entry e, long now, long current) {
                        return lifetime(e);
                    }

                    @Override
                    public long expireAfterRead(Key k, Entry e, long now, long current) {
                        return current;
                    }
                })
                .ticker(clock::getAsLong)
                .executor(Runnable::run)
                .removalListener((Key k, Entry e, RemovalCause cause) -> {
                    if (cause == RemovalCause.SIZE) {
                        metrics.cacheEviction();
                    }
                })
                .build();
        this.weightFloor = (int) Math.min(Integer.MAX_VALUE, floor);
    }

    private final int weightFloor;

    private long lifetime(Entry e) {
        long left = Math.max(0, e.freshUntil - clock.getAsLong());
        return e.etag != null ? left + REVALIDATION_KEEP_NANOS : left;
    }

    /** The cache key of {@code request} for {@code target}; null when the request is not cacheable. */
    public Key keyOf(Request request, ForwardTarget target) {
        Code code = request.getCode();
        if (code != Code.GET && code != Code.FETCH) {
            return null;
        }
        if (request.getOptions().hasObserve()) {
            return null; // observations are relayed, never answered from the cache
        }
        return key(request, target, numbers);
    }

    /** The key of {@code request} whatever its method and Observe (the relay of observations uses it too). */
    static Key key(Request request, ForwardTarget target, ForwardTarget.Numbers numbers) {
        Code code = request.getCode();
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(request.getRawCode());
        writeText(out, target.origin().toString());
        for (String seg : target.path()) {
            out.write(0x0b);
            writeText(out, seg);
        }
        for (String q : target.query()) {
            out.write(0x0f);
            writeText(out, q);
        }
        for (Option opt : request.getOptions().asSortedList()) {
            int n = opt.getNumber();
            if (isNoCacheKey(n) || n == OptionNumberRegistry.ETAG || n == OptionNumberRegistry.OBSERVE || n == 16
                    || n == OptionNumberRegistry.URI_HOST || n == OptionNumberRegistry.URI_PORT
                    || n == OptionNumberRegistry.URI_PATH || n == OptionNumberRegistry.URI_QUERY
                    || ForwardTarget.isForwardProxyOption(n, numbers)) {
                continue;
            }
            writeInt(out, n);
            writeBytes(out, opt.getValue());
        }
        out.write(0xff);
        byte[] p = request.getPayload();
        if (p != null) {
            out.writeBytes(p); // FETCH (RFC 8132); a GET's payload is forwarded, so it keys too
        }
        return new Key(out.toByteArray());
    }

    /** RFC 7252 Section 5.4.6: NoCacheKey when bits 1-4 of the number are 1110. */
    static boolean isNoCacheKey(int number) {
        return (number & 0x1e) == 0x1c;
    }

    /** The stored entry for {@code key}, fresh or stale (to revalidate), or null. */
    public Entry lookup(Key key) {
        return key == null ? null : cache.getIfPresent(key);
    }

    /** Whether the origin's {@code response} to {@code request} may be stored. */
    public boolean storable(Request request, Response response) {
        if (response.getCode() != ResponseCode.CONTENT) {
            return false;
        }
        if (response.getOptions().hasObserve()) {
            return false;
        }
        if (response.getOptions().hasOscore()) {
            // only a response to a deterministic request is cacheable OSCORE (cacheable-oscore, DET-10)
            return ForwardTarget.other(request.getOptions(), requestHashNumber) != null;
        }
        return maxAge(response) > 0;
    }

    static long maxAge(Response r) {
        return r.getOptions().hasMaxAge() ? r.getOptions().getMaxAge() : 60;
    }

    /** Stores the origin's response under {@code key}; returns the entry (null if not stored). */
    public Entry store(Key key, Response response) {
        return store(key, response, null);
    }

    /** Stores the origin's response to a request for {@code target} (null: unknown) under {@code key}. */
    public Entry store(Key key, Response response, ForwardTarget target) {
        return store(key, response, target, Long.MAX_VALUE);
    }

    /** As {@link #store(Key, Response, ForwardTarget)}, fresh for its Max-Age but at most {@code maxAgeCapSeconds}. */
    public Entry store(Key key, Response response, ForwardTarget target, long maxAgeCapSeconds) {
        long age = Math.min(maxAge(response), maxAgeCapSeconds);
        if (key == null || age <= 0) {
            return null;
        }
        Response copy = copyOf(response);
        int bytes = key.bytes().length + (copy.getPayload() == null ? 0 : copy.getPayload().length) + 64;
        for (Option o : copy.getOptions().asSortedList()) {
            bytes += 4 + o.getLength();
        }
        Entry e = new Entry(copy, clock.getAsLong() + TimeUnit.SECONDS.toNanos(age), Math.max(bytes, weightFloor),
                target == null ? null : target.uri());
        cache.put(key, e);
        return e;
    }

    /**
     * A 2.01, 2.02 or 2.04 to an unsafe request for {@code target} makes every stored response
     * for that URI stale (RFC 7252 Sections 5.9.1.1, 5.9.1.3, 5.9.1.4): they are dropped.
     */
    public void invalidate(ForwardTarget target) {
        String uri = target.uri();
        cache.asMap().values().removeIf(e -> uri.equals(e.uri));
    }

    /** A 2.03 from the origin for the stored entry: fresh again for the 2.03's Max-Age. */
    public void refresh(Key key, Entry e, Response valid) {
        e.freshUntil = clock.getAsLong() + TimeUnit.SECONDS.toNanos(maxAge(valid));
        cache.put(key, e); // re-computes the expiry
    }

    /** A response to send from {@code e}: the stored one with the Max-Age left. */
    public Response serve(Entry e) {
        Response r = copyOf(e.response);
        r.getOptions().setMaxAge(e.maxAgeLeft(clock.getAsLong()));
        return r;
    }

    public long size() {
        cache.cleanUp();
        return cache.estimatedSize();
    }

    public long weight() {
        return cache.policy().eviction().map(ev -> ev.weightedSize().orElse(0L)).orElse(0L);
    }

    static Response copyOf(Response r) {
        Response c = new Response(r.getCode());
        c.setOptions(new org.eclipse.californium.core.coap.OptionSet(r.getOptions()));
        byte[] p = r.getPayload();
        if (p != null && p.length > 0) {
            c.setPayload(p.clone());
        }
        return c;
    }

    private static void writeText(ByteArrayOutputStream out, String s) {
        writeBytes(out, s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    private static void writeBytes(ByteArrayOutputStream out, byte[] b) {
        writeInt(out, b.length);
        out.writeBytes(b);
    }

    private static void writeInt(ByteArrayOutputStream out, int v) {
        out.write(v >>> 24);
        out.write(v >>> 16);
        out.write(v >>> 8);
        out.write(v);
    }
}
