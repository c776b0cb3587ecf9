package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/** The cache on a clock of its own: keys (RFC 7252 5.4.2, DET-10), freshness, revalidation, the two bounds. */
class ResponseCacheTest {
    private static final ExtensionOptionRegistry X = ExtensionOptionRegistry.defaults();
    private static final int REQUEST_HASH = X.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final ProxyMetrics metrics = new ProxyMetrics();

    private ResponseCache cache(int entries, long bytes) {
        return new ResponseCache(new ProxyConfig.CacheLimits(true, entries, bytes), metrics, REQUEST_HASH,
                ForwardTarget.Numbers.of(X), now::get);
    }

    private static ForwardTarget target(String... path) {
        return new ForwardTarget(new ProxyConfig.Origin("127.0.0.1", 5690), false, List.of(path), List.of(), null);
    }

    private static Response content(String payload, long maxAge) {
        Response r = new Response(ResponseCode.CONTENT);
        r.getOptions().setMaxAge(maxAge);
        r.setPayload(payload);
        return r;
    }

    /** A deterministic request as the proxy sees it: FETCH, OSCORE option, Request-Hash, ciphertext. */
    private static Request deterministic(byte[] hash, byte[] ciphertext) {
        Request r = new Request(Code.FETCH);
        r.getOptions().setOscore(new byte[] {0x09, 0x00, 0x42});
        r.getOptions().addOption(new Option(REQUEST_HASH, hash));
        r.setPayload(ciphertext);
        return r;
    }

    @Test
    void DET_10_twoDeterministicRequestsNeverShareAnEntry_theSameOneHits() {
        ResponseCache c = cache(100, 1 << 20);
        Request a = deterministic(new byte[] {1, 1, 1}, new byte[] {9, 9});
        Request b = deterministic(new byte[] {1, 1, 2}, new byte[] {9, 9});
        ResponseCache.Key ka = c.keyOf(a, target());
        ResponseCache.Key kb = c.keyOf(b, target());
        assertNotEquals(ka, kb, "a different Request-Hash is a different key");
        Response protectedContent = content("ciphertext", 60);
        protectedContent.getOptions().setOscore(new byte[0]);
        assertTrue(c.storable(a, protectedContent), "an OSCORE response to a deterministic request is cacheable");
        c.store(ka, protectedContent);
        assertNull(c.lookup(kb));
        assertNotNull(c.lookup(c.keyOf(deterministic(new byte[] {1, 1, 1}, new byte[] {9, 9}), target())),
                "another client's identical deterministic request finds it");
        Request plainFetch = new Request(Code.FETCH);
        plainFetch.getOptions().setOscore(new byte[] {0x09, 0x00, 0x42});
        plainFetch.setPayload(new byte[] {9, 9});
        assertFalse(c.storable(plainFetch, protectedContent), "no Request-Hash: an ordinary OSCORE response is never stored");
    }

    @Test
    void CACHE_keyIgnoresNoCacheKeyOptionsETagAndHopLimit_butNotAccept() {
        ResponseCache c = cache(100, 1 << 20);
        Request a = Request.newGet();
        Request b = Request.newGet();
        b.getOptions().setSize1(10); // 60: NoCacheKey
        b.getOptions().addETag(new byte[] {1});
        b.getOptions().addOption(ExtensionOptionRegistry.HOP_LIMIT.create(3));
        assertEquals(c.keyOf(a, target("t")), c.keyOf(b, target("t")));
        Request d = Request.newGet();
        d.getOptions().setAccept(50);
        assertNotEquals(c.keyOf(a, target("t")), c.keyOf(d, target("t")));
        assertNotEquals(c.keyOf(a, target("t")), c.keyOf(a, target("u")));
        assertNull(c.keyOf(Request.newPost(), target("t")), "POST is not cacheable");
        Request obs = Request.newGet();
        obs.getOptions().setObserve(0);
        assertNull(c.keyOf(obs, target("t")), "observations are relayed, not cached");
    }

    @Test
    void CACHE_freshForMaxAge_thenStale_andAnETagEntryStaysForRevalidation() {
        ResponseCache c = cache(100, 1 << 20);
        ResponseCache.Key k = c.keyOf(Request.newGet(), target("t"));
        ResponseCache.Entry e = c.store(k, content("a", 10));
        assertTrue(e.fresh(now.get()));
        assertEquals(10L, c.serve(e).getOptions().getMaxAge());
        now.addAndGet(TimeUnit.SECONDS.toNanos(4));
        assertEquals(6L, c.serve(c.lookup(k)).getOptions().getMaxAge(), "Max-Age counts down");
        now.addAndGet(TimeUnit.SECONDS.toNanos(7));
        assertNull(c.lookup(k), "no ETag: gone when stale");

        Response tagged = content("b", 10);
        tagged.getOptions().addETag(new byte[] {7});
        ResponseCache.Entry t = c.store(k, tagged);
        now.addAndGet(TimeUnit.SECONDS.toNanos(11));
        ResponseCache.Entry stale = c.lookup(k);
        assertNotNull(stale, "kept for revalidation");
        assertFalse(stale.fresh(now.get()));
        Response valid = new Response(ResponseCode.VALID);
        valid.getOptions().setMaxAge(30);
        c.refresh(k, t, valid);
        assertTrue(c.lookup(k).fresh(now.get()));
        assertEquals(30L, c.serve(c.lookup(k)).getOptions().getMaxAge());
    }

    @Test
    void CACHE_evictionAtTheByteLimit_andAtTheEntryLimit() {
        ResponseCache bytes = cache(1000, 4096);
        for (int i = 0; i < 20; i++) {
            bytes.store(bytes.keyOf(Request.newGet(), target("t" + i)), content("x".repeat(400), 60));
        }
        assertTrue(bytes.weight() <= 4096, "bytes bound: " + bytes.weight());
        assertTrue(bytes.size() < 20);
        assertTrue(metrics.cacheEvictions() > 0);

        ResponseCache entries = cache(5, 1 << 20);
        for (int i = 0; i < 20; i++) {
            entries.store(entries.keyOf(Request.newGet(), target("t" + i)), content("y", 60));
        }
        assertTrue(entries.size() <= 5, "entries bound: " + entries.size());
    }

    @Test
    void CACHE_maxAgeZeroAndErrorsAreNotStored_aContentIs() {
        ResponseCache c = cache(100, 1 << 20);
        Request get = Request.newGet();
        assertFalse(c.storable(get, content("a", 0)));
        assertFalse(c.storable(get, new Response(ResponseCode.NOT_FOUND)));
        assertFalse(c.storable(get, new Response(ResponseCode.CHANGED)));
        assertTrue(c.storable(get, content("a", 5)));
    }
}
