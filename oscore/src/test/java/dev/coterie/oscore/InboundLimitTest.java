package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.serialization.DataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.RawDataChannel;
import org.junit.jupiter.api.Test;

/** The ceiling on received datagrams not yet processed (docs/configuration.md, "Limits under load"). */
class InboundLimitTest {
    private static final InetSocketAddress HERE = new InetSocketAddress("127.0.0.1", 5683);

    private static RawData datagram(int mid) {
        Request r = Request.newGet();
        r.setMID(mid);
        r.setToken(new byte[] {1});
        return RawData.inbound(new UdpDataSerializer().getByteArray(r),
                new AddressEndpointContext(new InetSocketAddress("127.0.0.1", 40_000)), false, 0, HERE);
    }

    @Test
    void pastTheCeilingDatagramsAreDroppedUntilTheParserBeginsOnTheQueuedOnes() {
        InboundLimit limit = new InboundLimit(3);
        List<RawData> queued = new ArrayList<>();
        RawDataChannel inbox = limit.wrap(queued::add);
        for (int i = 0; i < 10; i++) {
            inbox.receiveData(datagram(i));
        }
        assertEquals(3, queued.size());
        assertEquals(7, limit.dropped());
        assertEquals(3, limit.pending());
        DataParser parser = limit.parser(true, ExtensionOptionRegistry.defaults().californiumRegistry());
        assertEquals(0, parser.parseMessage(queued.get(0)).getMID());
        inbox.receiveData(datagram(10));
        assertEquals(4, queued.size(), "one slot freed");
        assertEquals(10, parser.parseMessage(queued.get(3)).getMID());
        limit.reset();
        assertEquals(0, limit.pending());
        parser.parseMessage(queued.get(1));
        assertEquals(0, limit.pending(), "never below zero");
    }

    @Test
    void aReceiverThatThrowsDoesNotHoldASlot() {
        InboundLimit limit = new InboundLimit(1);
        RawDataChannel inbox = limit.wrap(raw -> {
            throw new IllegalArgumentException("no source port");
        });
        assertThrows(IllegalArgumentException.class, () -> inbox.receiveData(datagram(1)));
        assertEquals(0, limit.pending());
        assertThrows(IllegalArgumentException.class, () -> new InboundLimit(0));
    }
}
