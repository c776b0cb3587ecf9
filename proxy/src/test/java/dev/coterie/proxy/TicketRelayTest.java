package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.TicketRequest;
import dev.coterie.oscore.TransportIndependent;
import java.net.URI;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.junit.jupiter.api.Test;

/**
 * TicketRelay's own rules, byte for byte (multicast-notifications-proxy Section 4.2, MNP-02,
 * MNP-04): the phantom the last proxy rebuilds from a ticket request, and the order check of
 * notifications before fan-out.
 */
class TicketRelayTest {
    private static final ExtensionOptionRegistry EXT = ExtensionOptionRegistry.defaults();
    private static final OptionRegistry REGISTRY = EXT.californiumRegistry();
    /** tpi_server 127.0.0.1:5810, tpi_client 224.0.1.189 (default port), tpi_token A98D7EA4E7B28DD7. */
    private static final byte[] TP_INFO = Hex.decode("83822082447F0000011916B282208144E00001BD48A98D7EA4E7B28DD7");
    private static final ForwardTarget TARGET = new ForwardTarget(new ProxyConfig.Origin("127.0.0.1", 5810), false,
            List.of("alarm"), List.of(), null);

    private static TicketRelay relay() {
        return new TicketRelay(ForwardTarget.Numbers.of(EXT), new ProxyMetrics(), null, null, REGISTRY, null, null, null, null);
    }

    private static Request ticket(byte[] phReq, String original) {
        Request t = TicketRequest.build(phReq, TP_INFO, URI.create(original), Token.fromProvider(Hex.decode("0102030405060708")),
                47, REGISTRY);
        t.getOptions().addOption(new Option(ExtensionOptionRegistry.HOP_LIMIT.getNumber(), new byte[] {7}));
        return t;
    }

    @Test
    void MNP_02_phantomRebuiltWithProxyOptionsListenToMulticastResponsesAndHopLimitStripped_unprotected() throws Exception {
        // the unprotected phantom: Uri-Path, Uri-Query, Accept, an ETag, Observe 0; the ticket adds Proxy-Scheme and Uri-Host
        Request ph = Request.newGet();
        ph.getOptions().setObserve(0).addUriPath("alarm").addUriQuery("floor=2").setAccept(0).addETag(new byte[] {0x11, 0x22});
        byte[] phReq = TransportIndependent.encode(ph);
        Request t = ticket(phReq, "coap://127.0.0.1:5810/alarm?floor=2");
        byte[] wire = TransportIndependent.encode(t);
        assertTrue(t.getOptions().hasProxyScheme() && t.getOptions().hasUriHost() && wire.length > phReq.length,
                "control: the ticket request carries the proxy options, the option and Hop-Limit: " + Hex.encode(wire));
        TicketRelay.Ticket k = relay().parse(t, TARGET);
        assertEquals(Hex.encode(phReq), Hex.encode(k.phantomBytes()));
        assertArrayEquals(phReq, TransportIndependent.encode(k.phantom()));
        assertArrayEquals(Hex.decode("A98D7EA4E7B28DD7"), k.phantom().getToken().getBytes()); // tpi_token
    }

    @Test
    void MNP_02_phantomRebuiltWithProxyUriStripped_protectedPhantomUntouched() throws Exception {
        // a Group OSCORE phantom as the proxy sees it: outer FETCH, OSCORE option, ciphertext; the ticket adds Proxy-Uri
        Request ph = new Request(CoAP.Code.FETCH);
        ph.getOptions().setObserve(0).setOscore(new OscoreOptionValue(new byte[] {0x05}, new byte[] {0x37},
                new byte[] {0x52}, true).encode());
        ph.setPayload(Hex.decode("a1b2c3d4e5f60718293a4b5c6d7e8f90"));
        byte[] phReq = TransportIndependent.encode(ph);
        Request t = ticket(phReq, "coap://127.0.0.1:5810/alarm");
        assertTrue(t.getOptions().hasProxyUri(), "control: this ticket addresses the proxy with Proxy-Uri");
        TicketRelay.Ticket k = relay().parse(t, TARGET);
        assertEquals(Hex.encode(phReq), Hex.encode(k.phantomBytes()));
    }

    @Test
    void MNP_05_ticketDeregistrationNamesTheSameGroupObservation() throws Exception {
        Request ph = Request.newGet();
        ph.getOptions().setObserve(0).addUriPath("alarm");
        byte[] phReq = TransportIndependent.encode(ph);
        Request reg = ticket(phReq, "coap://127.0.0.1:5810/alarm");
        Request dereg = ticket(phReq, "coap://127.0.0.1:5810/alarm");
        dereg.getOptions().setObserve(1);
        TicketRelay r = relay();
        TicketRelay.Ticket a = r.parse(reg, TARGET);
        TicketRelay.Ticket b = r.parse(dereg, TARGET);
        assertEquals(a.key(), b.key());
        assertArrayEquals(phReq, b.phantomBytes()); // the phantom's Observe is 0 whatever the ticket's
        Request other = ticket(TransportIndependent.encode(withQuery()), "coap://127.0.0.1:5810/alarm?x");
        assertFalse(a.key().equals(r.parse(other, TARGET).key()), "control: another phantom is another group observation");
    }

    private static Request withQuery() {
        Request q = Request.newGet();
        q.getOptions().setObserve(0).addUriPath("alarm").addUriQuery("x");
        return q;
    }

    private static Response notification(int observe, byte[] piv, byte[] kidContext) {
        Response n = new Response(CoAP.ResponseCode.CONTENT);
        n.getOptions().setObserve(observe).setOscore(new OscoreOptionValue(piv, kidContext, null, true).encode());
        return n;
    }

    @Test
    void MNP_04_partialIvOrderPerKidContext_aRekeyIsNotARegression() {
        TicketRelay.Order o = new TicketRelay.Order();
        byte[] epoch1 = {0x01};
        byte[] epoch2 = {0x02};
        assertTrue(o.advances(notification(10, new byte[] {0x10}, epoch1)));
        assertFalse(o.advances(notification(11, new byte[] {0x10}, epoch1)), "control: the same Partial IV again is dropped");
        assertTrue(o.advances(notification(12, new byte[] {0x11}, epoch1)), "control: an advancing one is taken");
        // the group is rekeyed: a new kid context, the server's sequence numbers start again at 0
        assertTrue(o.advances(notification(13, new byte[] {0x00}, epoch2)), "a rekey (new kid context) restarts the Partial IV");
        assertTrue(o.advances(notification(14, new byte[] {0x01}, epoch2)));
        assertFalse(o.advances(notification(15, new byte[] {0x01}, epoch2)), "a replay under the new kid context is dropped");
        assertFalse(o.advances(notification(16, new byte[] {0x11}, epoch1)), "a replay under the old kid context is dropped");
    }

    private static Request nonTicket() {
        Request ph = Request.newGet();
        ph.getOptions().setObserve(0).addUriPath("alarm");
        Request t = ticket(TransportIndependent.encode(ph), "coap://127.0.0.1:5810/alarm");
        t.setType(CoAP.Type.NON);
        t.setSourceContext(new org.eclipse.californium.elements.AddressEndpointContext(
                new java.net.InetSocketAddress("127.0.0.1", 40001)));
        return t;
    }

    /**
     * A notification that arrives while a new ticket client is being attached (after the proxy
     * found no latest notification, before the client is on the waiting list) must reach it: it
     * is attached to the relay with that notification, not left waiting for the next one.
     */
    @Test
    void MNP_05_aNotificationWhileATicketClientIsAttachedIsNotLost() throws Exception {
        ProxyMetrics metrics = new ProxyMetrics();
        List<org.eclipse.californium.core.network.Exchange> attached = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<CoAP.ResponseCode> answered = new java.util.concurrent.CopyOnWriteArrayList<>();
        TicketRelay r = new TicketRelay(ForwardTarget.Numbers.of(EXT), metrics, ProxyConfig.DEFAULT_LIMITS, null, REGISTRY,
                new java.util.concurrent.atomic.AtomicInteger(), null, (e, relay) -> attached.add(e),
                (e, code, diagnostic, outcome) -> answered.add(code));
        ProxyConfig.GroupObservations g = new ProxyConfig.GroupObservations("lo", 65000, 1000, 64, 5000);
        Request first = nonTicket();
        ObserveRelay relay = new ObserveRelay(null, null, x -> { }, metrics, () -> { }, (a, b) -> null);
        r.put(r.parse(first, TARGET).key(), relay);

        // control: with no notification at all the NON ticket client waits for the first (no answer, no ACK)
        org.eclipse.californium.core.network.Exchange waiting = exchange(first);
        r.handle(waiting, first, TARGET, g);
        assertEquals(1, relay.waitingCount());
        assertTrue(attached.isEmpty() && answered.isEmpty());

        Response n = new Response(CoAP.ResponseCode.CONTENT);
        n.getOptions().setObserve(5);
        n.setPayload("state 1");
        Request second = nonTicket();
        org.eclipse.californium.core.network.Exchange late = exchange(second);
        r.beforeWait = () -> {
            // what the group listener does with a notification: the waiting ones are attached, the relations notified
            for (org.eclipse.californium.core.network.Exchange e : relay.notification(n)) {
                attached.add(e);
            }
            relay.changed();
        };
        r.handle(late, second, TARGET, g);
        assertEquals(List.of(waiting, late), attached, "the client attached during the notification gets it too");
        assertEquals(0, relay.waitingCount(), "nobody is left waiting for a notification that already came");
        assertTrue(answered.isEmpty());
    }

    private static org.eclipse.californium.core.network.Exchange exchange(Request r) {
        return new org.eclipse.californium.core.network.Exchange(r, r.getSourceContext().getPeerAddress(),
                org.eclipse.californium.core.network.Exchange.Origin.REMOTE, Runnable::run);
    }
}
