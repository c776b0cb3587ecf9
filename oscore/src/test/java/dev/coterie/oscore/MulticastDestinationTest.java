package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every view's request to a multicast address passes the multicast guard and the GCB-10 port
 * rule in {@link ProtectionPipeline#protectRequest}, plain OSCORE among them (review B, finding 1).
 * This JVM runs in the machine's own namespace; the positive control inside a private namespace
 * is {@code tests/OscoreMulticastGuardTest}.
 */
class MulticastDestinationTest {
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    @AfterEach
    void clearOptIn() {
        System.clearProperty(MulticastGuard.OPT_IN);
    }

    private static Request get(String host, int port) throws Exception {
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(1);
        r.setToken(new byte[] {1, 2});
        r.setDestinationContext(new AddressEndpointContext(InetAddress.getByName(host), port));
        r.getOptions().setUriPath("temperature");
        return r;
    }

    @Test
    void anOscoreRequestToAMulticastGroupIsRefusedWhereTheGuardSeesExternalLinks() throws Exception {
        assertNull(System.getenv(MulticastGuard.OPT_IN), "unset " + MulticastGuard.OPT_IN + " to run this test");
        assertTrue(!MulticastGuard.externalInterfaces().isEmpty(), "expected this host to have a real network link");
        OscoreContext c = TestContexts.client();
        long before = c.senderSequence().peek();
        OscoreException.ProtectionRefused e = assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectRequest(get("224.0.1.187", 5683), c.protector()));
        assertTrue(e.getMessage().contains("refusing to send multicast to 224.0.1.187"), e.getMessage());
        assertEquals(before, c.senderSequence().peek(), "refused before a Partial IV was drawn");
        // the positive control on the same path: the same request to a unicast address is protected
        assertNotNull(p.protectRequest(get("127.0.0.1", 5683), c.protector()).wire().getOptions().getOscore());
    }

    @Test
    void port5684IsRefusedForMulticastEvenWhereMulticastIsAllowed() throws Exception {
        System.setProperty(MulticastGuard.OPT_IN, "allow");
        OscoreContext c = TestContexts.client();
        OscoreException.ProtectionRefused e = assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectRequest(get("224.0.1.187", 5684), c.protector()));
        assertTrue(e.getMessage().contains("GCB-10"), e.getMessage());
        // with the opt-in, the default port is allowed: the refusal above is the port's
        assertNotNull(p.protectRequest(get("224.0.1.187", 5683), c.protector()).wire().getOptions().getOscore());
        // a unicast request to 5684 is not group communication
        assertNotNull(p.protectRequest(get("127.0.0.1", 5684), c.protector()).wire().getOptions().getOscore());
    }
}
