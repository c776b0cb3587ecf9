package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;

/**
 * A bounded load (2 x 20,000 requests, 64 outstanding, some seconds) of distinct cacheable reads
 * with 1 KiB answers through a proxy with a 256 KiB cache: the cache stays within its bytes and
 * entries, nothing stays in flight, and once the first 20,000 have filled every bounded table,
 * the next 20,000 leave the heap where it was (a table without a bound would hold another
 * 20 MiB of answers).
 */
class ProxyLoadMemoryTest {
    private static long usedAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
            best = Math.min(best, rt.totalMemory() - rt.freeMemory());
        }
        return best;
    }

    @Test
    void LIMITS_memoryStaysFlatAtTheConfiguredCacheAndExchangeLimits() throws Exception {
        try (Origin origin = new Origin()) {
            byte[] kib = new byte[1024];
            origin.server.add(new CoapResource("blob") {
                @Override
                public void handleGET(CoapExchange exchange) {
                    exchange.respond(ResponseCode.CONTENT, kib);
                }
            });
            String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                    + "limits: {exchanges: 64, requests_per_second: 1000000, burst: 1000000}\n"
                    + "cache: {max_entries: 100, max_bytes: 262144}\n"
                    + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}]\n";
            try (ProxyFixture f = new ProxyFixture(cfg)) {
                // the first 20,000 fill every bounded table (cache, deduplication, exchange stores) to its
                // limit; the next 20,000 must not need more memory than they did
                run(f, origin, 20_000);
                long before = usedAfterGc();
                AtomicInteger ok = run(f, origin, 20_000);
                long after = usedAfterGc();
                assertTrue(ok.get() > 19_000, "almost every request answered: " + ok.get());
                ResponseCache cache = f.proxy.cache();
                assertTrue(cache.size() <= 100, "entries bound: " + cache.size());
                assertTrue(cache.weight() <= 262_144, "bytes bound: " + cache.weight());
                assertTrue(f.proxy.metrics().cacheEvictions() > 10_000, "the bounds evicted");
                assertEquals(0, f.proxy.metrics().inFlight().get(), "nothing left in flight");
                long growth = after - before;
                assertTrue(growth < 8L << 20, "heap grew by " + (growth >> 10) + " KiB over 20,000 distinct 1 KiB answers");
            }
        }
    }

    private static AtomicInteger run(ProxyFixture f, Origin origin, int n) throws InterruptedException {
        Semaphore window = new Semaphore(64);
        AtomicInteger ok = new AtomicInteger();
        for (int i = 0; i < n; i++) {
            window.acquire();
            Request r = Request.newGet();
            r.setType(Type.CON); // retransmitted if a datagram is lost, so the window cannot stall
            r.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + "/blob?n=" + i);
            r.setDestinationContext(new AddressEndpointContext(f.proxyAddress));
            r.addMessageObserver(new MessageObserverAdapter() {
                private final java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();

                @Override
                public void onResponse(Response response) {
                    if (once.compareAndSet(false, true)) {
                        if (response.getCode() == ResponseCode.CONTENT) {
                            ok.incrementAndGet();
                        }
                        window.release();
                    }
                }

                @Override
                protected void failed() {
                    if (once.compareAndSet(false, true)) {
                        window.release();
                    }
                }
            });
            f.client.sendRequest(r);
        }
        assertTrue(window.tryAcquire(64, 30, TimeUnit.SECONDS), "the load finished within 30 s");
        return ok;
    }
}
