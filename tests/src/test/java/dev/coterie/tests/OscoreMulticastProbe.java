package dev.coterie.tests;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectionPipeline;
import java.net.InetAddress;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * Protects one plain-OSCORE request to 224.0.1.187 with the protection pipeline, sending nothing,
 * and prints {@code PROTECTED} or {@code REFUSED reason} (see {@link OscoreMulticastGuardTest}).
 */
public final class OscoreMulticastProbe {
    private OscoreMulticastProbe() {
    }

    public static void main(String[] args) throws Exception {
        OscoreContext c = OscoreContext.builder().name("probe").masterSecret(SecretBytes.copyOf(Rfc8613Contexts.MASTER_SECRET))
                .masterSalt(Rfc8613Contexts.MASTER_SALT).senderId(Rfc8613Contexts.CLIENT_ID).recipientId(Rfc8613Contexts.SERVER_ID)
                .stateStore(SecurityStateStore.inMemory()).build();
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(1);
        r.setToken(new byte[] {1});
        r.setDestinationContext(new AddressEndpointContext(InetAddress.getByName("224.0.1.187"), 5683));
        r.getOptions().setUriPath("temperature");
        try {
            new ProtectionPipeline(ExtensionOptionRegistry.defaults()).protectRequest(r, c.protector());
            System.out.println("PROTECTED");
        } catch (OscoreException.ProtectionRefused e) {
            System.out.println("REFUSED " + e.getMessage());
        }
    }
}
