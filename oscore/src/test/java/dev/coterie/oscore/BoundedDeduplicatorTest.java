package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.KeyMID;
import org.eclipse.californium.core.network.deduplication.NoDeduplicator;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.Test;

/** The deduplication ceiling of Coterie's endpoints (docs/configuration.md, "Limits under load"). */
class BoundedDeduplicatorTest {
    private static InetSocketAddress peer(int n) {
        return new InetSocketAddress("127.0.0.1", 10_000 + n);
    }

    private static Exchange exchange(int mid, Object peer) {
        Request r = new Request(Code.POST, Type.CON);
        r.setMID(mid);
        return new Exchange(r, peer, Exchange.Origin.REMOTE, Runnable::run);
    }

    private static Exchange add(BoundedDeduplicator d, int mid, Object peer) {
        Exchange e = exchange(mid, peer);
        assertNull(d.findPrevious(new KeyMID(mid, peer), e), "a new message");
        return e;
    }

    @Test
    void theTotalNeverExceedsTheCeilingAndTheOldestGoFirst() {
        BoundedDeduplicator d = new BoundedDeduplicator(OscoreEndpointBuilder.defaultConfiguration(), 100, 0);
        for (int i = 0; i < 10_000; i++) {
            add(d, i & 0xffff, peer(i % 1000)); // a flood from 1000 source ports
            assertTrue(d.size() <= 100);
        }
        assertEquals(100, d.size());
        assertEquals(9_900, d.evicted());
        assertNull(d.find(new KeyMID(0, peer(0))), "the oldest went");
        assertNotNull(d.find(new KeyMID(9_999, peer(999))), "the newest stays");
    }

    @Test
    void aDuplicateFindsTheFirstExchange() {
        BoundedDeduplicator d = new BoundedDeduplicator(OscoreEndpointBuilder.defaultConfiguration(), 10, 0);
        Exchange first = add(d, 7, peer(1));
        assertSame(first, d.findPrevious(new KeyMID(7, peer(1)), exchange(7, peer(1))));
        assertNull(d.findPrevious(new KeyMID(7, peer(2)), exchange(7, peer(2))), "another peer, another message");
        assertEquals(2, d.size());
    }

    @Test
    void thePerPeerLimitKeepsOnePeerFromEvictingTheOthers() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        BoundedDeduplicator d = new BoundedDeduplicator(c, 1000, 4);
        Exchange other = add(d, 1, peer(2));
        for (int mid = 0; mid < 500; mid++) {
            add(d, mid, peer(1));
        }
        assertEquals(5, d.size());
        assertSame(other, d.find(new KeyMID(1, peer(2))));
        assertNull(d.find(new KeyMID(495, peer(1))));
        assertNotNull(d.find(new KeyMID(496, peer(1))));
    }

    @Test
    void aRejectedRequestIsForgottenOnlyIfItIsStillTheStoredOne() {
        BoundedDeduplicator d = new BoundedDeduplicator(OscoreEndpointBuilder.defaultConfiguration(), 10, 4);
        Exchange stored = add(d, 3, peer(1));
        d.forget(exchange(3, peer(1)));
        assertSame(stored, d.find(new KeyMID(3, peer(1))), "another exchange with the same key is not forgotten");
        d.forget(stored);
        assertNull(d.find(new KeyMID(3, peer(1))));
        assertTrue(d.isEmpty());
        add(d, 3, peer(1)); // the per-peer bookkeeping followed
        assertEquals(1, d.size());
    }

    @Test
    void replacingFollowsCalifornium() {
        BoundedDeduplicator d = new BoundedDeduplicator(OscoreEndpointBuilder.defaultConfiguration(), 10, 0);
        KeyMID key = new KeyMID(5, peer(1));
        Exchange first = add(d, 5, peer(1));
        Exchange second = exchange(5, peer(1));
        assertFalse(d.replacePrevious(key, exchange(5, peer(1)), second), "not the stored one");
        assertTrue(d.replacePrevious(key, first, second));
        assertSame(second, d.find(key));
        assertTrue(d.replacePrevious(new KeyMID(6, peer(1)), first, exchange(6, peer(1))), "absent: added");
    }

    @Test
    void entriesExpireAfterTheExchangeLifetime() throws Exception {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        c.set(CoapConfig.EXCHANGE_LIFETIME, 50L, TimeUnit.MILLISECONDS);
        BoundedDeduplicator d = new BoundedDeduplicator(c, 10, 0);
        add(d, 1, peer(1));
        add(d, 2, peer(1));
        Thread.sleep(200);
        assertNull(d.find(new KeyMID(1, peer(1))), "expired");
        add(d, 3, peer(1));
        assertEquals(1, d.size(), "an insertion drops what expired");
        assertEquals(0, d.evicted(), "expiry is no eviction");
    }

    @Test
    void theEndpointBuilderBoundsEveryDeduplicatorItUses() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        assertEquals(10_000, c.get(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES));
        assertEquals(10_000, ((BoundedDeduplicator) OscoreEndpointBuilder.deduplicator(c)).maxEntries());
        c.set(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES, 123);
        c.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
        assertEquals(123, ((BoundedDeduplicator) OscoreEndpointBuilder.deduplicator(c)).maxEntries());
        c.set(CoapConfig.DEDUPLICATOR, CoapConfig.NO_DEDUPLICATOR);
        assertTrue(OscoreEndpointBuilder.deduplicator(c) instanceof NoDeduplicator);
        c.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_CROP_ROTATION);
        assertThrows(IllegalArgumentException.class, () -> OscoreEndpointBuilder.deduplicator(c));
        assertThrows(IllegalArgumentException.class, () -> c.set(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES, 0));
    }
}
