package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.core.observe.NotificationOrder;
import org.junit.jupiter.api.Test;

/**
 * OSC-17 and RFC 8613 Section 8.4 (review A, finding H1): the client treats the highest Partial
 * IV as the freshest notification, whenever the others arrive. An older notification that an
 * attacker held back must not reach the application as the current state: with the current
 * Observe number, Californium's orderer takes it as new once 128 s have passed (RFC 7641
 * Section 3.4), so it is dropped.
 */
class NotificationOrderRegressionTest {
    private static final long T0 = 0;
    private static final long AFTER_129_S = TimeUnit.SECONDS.toNanos(129);
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static Request observe(String path) {
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(3);
        r.setToken(new byte[] {3});
        r.getOptions().setUriPath(path);
        r.setObserve();
        return r;
    }

    private static <M extends Message> M onWire(M m) {
        @SuppressWarnings("unchecked")
        M parsed = (M) new UdpDataParser().parseMessage(new UdpDataSerializer().getByteArray(m));
        return parsed;
    }

    private Response notification(RequestIdentifiers served, int observe, String text) throws Exception {
        Response r = new Response(ResponseCode.CONTENT);
        r.setType(Type.NON);
        r.setMID(10 + observe);
        r.setToken(new byte[] {3});
        r.getOptions().setObserve(observe);
        r.setPayload(text);
        return onWire(p.protectResponse(r, served));
    }

    @Test
    void OSC_17_aHeldBackOlderNotificationIsNotDeliveredAsCurrent() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(observe("alarm"), client.protector());
        RequestIdentifiers served = p.unprotectRequest(onWire(pr.wire()), new InMemoryContextDb().add(server)).identifiers();
        Response n1 = notification(served, 1, "alarm ON");
        Response n2 = notification(served, 2, "alarm OFF (old)");
        Response n3 = notification(served, 3, "alarm ON");
        Response n4 = notification(served, 4, "alarm ON, later");

        int o1 = p.unprotectResponse(n1, pr.identifiers()).plain().getOptions().getObserve();
        int o3 = p.unprotectResponse(n3, pr.identifiers()).plain().getOptions().getObserve();
        assertTrue(NotificationOrder.isNew(T0, o1, T0, o3), "positive control: the newest is new to Californium");
        // why no Observe number can make the held-back one safe: even the current one is new after 128 s
        assertTrue(NotificationOrder.isNew(T0, o3, T0 + AFTER_129_S, o3));
        assertFalse(NotificationOrder.isNew(T0, o3, T0 + TimeUnit.SECONDS.toNanos(1), o3));

        // the attacker releases n2 now
        OscoreException.Replay dropped = assertThrows(OscoreException.Replay.class,
                () -> p.unprotectResponse(n2, pr.identifiers()), "an older notification must not be delivered");
        assertTrue(dropped.getMessage().contains("older than the freshest"), dropped.getMessage());
        assertThrows(OscoreException.Replay.class, () -> p.unprotectResponse(n2, pr.identifiers()), "nor later");

        int o4 = p.unprotectResponse(n4, pr.identifiers()).plain().getOptions().getObserve();
        assertTrue(NotificationOrder.isNew(T0, o3, T0, o4), "the next fresh notification is delivered as new: " + o4);
    }

    @Test
    void OSC_17_anOlderFinalResponseIsStillDelivered() throws Exception {
        OscoreContext client = TestContexts.client();
        OscoreContext server = TestContexts.server();
        ProtectionPipeline.ProtectedRequest pr = p.protectRequest(observe("alarm"), client.protector());
        RequestIdentifiers served = p.unprotectRequest(onWire(pr.wire()), new InMemoryContextDb().add(server)).identifiers();
        Response end = new Response(ResponseCode.NOT_FOUND); // ends the observation: no inner Observe
        end.setType(Type.NON);
        end.setMID(30);
        end.setToken(new byte[] {3});
        Response finalResponse = onWire(p.protectResponse(end, served)); // the request nonce: the oldest response
        Response n1 = notification(served, 1, "alarm ON");
        p.unprotectResponse(n1, pr.identifiers());
        Response delivered = p.unprotectResponse(finalResponse, pr.identifiers()).plain();
        assertEquals(ResponseCode.NOT_FOUND, delivered.getCode());
        assertFalse(delivered.getOptions().hasObserve(), "a final response is not presented as a notification");
    }
}
