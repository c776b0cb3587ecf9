package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Exchange;
import org.junit.jupiter.api.Test;

/**
 * An observer that arrives while the first notification is being handed out (RFC 7641 5, MNP-05):
 * it must never be queued after the waiting list was taken, or no one answers it. The race showed
 * as a group-observation proxy test where one of twenty observers got nothing.
 */
class ObserveRelayQueueTest {

    private static Exchange observer() {
        Request r = Request.newGet();
        r.getOptions().setObserve(0);
        return new Exchange(r, null, Exchange.Origin.REMOTE, null);
    }

    @Test
    void MNP_05_observerQueuedOnlyWhileNoNotificationIsHeld_laterOneIsAttachedInstead() {
        ObserveRelay relay = new ObserveRelay(null, null, r -> { }, new ProxyMetrics(), () -> { }, null);
        Exchange early = observer();
        // control: before the first notification an observer waits for it
        assertEquals(ObserveRelay.First.WAITING, relay.awaitFirst(early));
        assertEquals(1, relay.waitingCount());

        Response first = new Response(ResponseCode.CONTENT);
        first.getOptions().setObserve(1);
        List<Exchange> handedOut = relay.notification(first);
        assertEquals(List.of(early), handedOut, "the waiting observer gets the first notification");

        // the observer that looked before the notification and queues after it: not queued, told to attach
        Exchange late = observer();
        assertEquals(ObserveRelay.First.LATEST, relay.awaitFirst(late));
        assertEquals(0, relay.waitingCount(), "nobody would ever answer an observer queued now");

        relay.end();
        assertEquals(ObserveRelay.First.OVER, relay.awaitFirst(observer()));
        assertEquals(0, relay.waitingCount());
        assertTrue(relay.isClosed());
    }
}
