package dev.coterie.grouposcore;

import static dev.coterie.grouposcore.TestGroup.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SignatureAlgorithm;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscoreSendRefusedException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;

/** Every way the Group OSCORE client refuses to send, with what it says; nothing is sent. */
class GroupClientRefusalTest {
    private final dev.coterie.oscore.ProtectionPipeline p =
            new dev.coterie.oscore.ProtectionPipeline(dev.coterie.oscore.ExtensionOptionRegistry.defaults());

    private static String refusal(dev.coterie.oscore.ClientContextBinding binding, Request r) throws Exception {
        CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).clientBinding(binding).build();
        ep.start();
        try {
            CountDownLatch failed = new CountDownLatch(1);
            AtomicReference<Throwable> error = new AtomicReference<>();
            r.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onSendError(Throwable e) {
                    error.set(e);
                    failed.countDown();
                }
            });
            ep.sendRequest(r);
            assertTrue(failed.await(5, TimeUnit.SECONDS), "a send error is reported");
            assertInstanceOf(OscoreSendRefusedException.class, error.get());
            return error.get().getMessage();
        } finally {
            ep.destroy();
        }
    }

    private static Request to(InetSocketAddress dest, Type type) {
        Request r = new Request(Code.GET, type);
        r.setDestinationContext(new AddressEndpointContext(dest));
        r.getOptions().setUriPath("light");
        return r;
    }

    @Test
    void aRequestWithoutAGroupBindingIsNotSent() throws Exception {
        try (DatagramSocket listener = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            listener.setSoTimeout(500);
            String why = refusal(new dev.coterie.oscore.ClientContextBinding(),
                    to((InetSocketAddress) listener.getLocalSocketAddress(), Type.CON));
            assertTrue(why.contains("no security context bound"), why);
            assertThrows(java.net.SocketTimeoutException.class,
                    () -> listener.receive(new java.net.DatagramPacket(new byte[100], 100)), "nothing on the wire");
        }
    }

    @Test
    void GRP_28_aPairwiseRequestIsNotSentToAMulticastGroup() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        dev.coterie.oscore.ClientContextBinding b = new dev.coterie.oscore.ClientContextBinding();
        Request r = to(new InetSocketAddress(InetAddress.getByName("224.0.1.187"), 5683), Type.NON);
        b.bind(r, g.client.pairwise(g.ids.get(1)));
        assertEquals("a pairwise request is for one member, not for a multicast group", refusal(b, r));
    }

    @Test
    void GCB_10_aGroupRequestIsNotSentToPort5684() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request r = to(new InetSocketAddress(InetAddress.getByName("224.0.1.187"), 5684), Type.NON);
        assertEquals("port 5684 must not be used for group communication (GCB-10)",
                refusal(new dev.coterie.oscore.ClientContextBinding().endpointDefault(g.client.groupMode()), r));
    }

    @Test
    void aSilentMemberAndAPairwiseRequestWithoutTargetAreRefused() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContext silent = GroupContext.builder().algorithms(g.algs).gid(g.gid).masterSecret(g.secret)
                .member(g.ids.get(1), g.creds.get(1)).stateStore(SecurityStateStore.inMemory()).build();
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(get("x"), silent.groupMode()));
        assertThrows(IllegalArgumentException.class, () -> g.client.pairwise(null));
        assertThrows(IllegalArgumentException.class, () -> g.client.pairwise(Hex.decode("ee")), "not a known member");
        Request nested = get("x");
        nested.getOptions().setOscore(new byte[0]);
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(nested, g.client.groupMode()));
        // positive control: the member with a Sender Context protects the same request
        assertEquals(dev.coterie.oscore.ProtectionMode.GROUP,
                p.protectRequest(get("x"), g.client.groupMode()).identifiers().mode());
    }

    @Test
    void aKidLongerThanAnyNonceAllowsIs402() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        Request r = TestGroup.wire(p.protectRequest(get("x"), g.client.groupMode()).wire());
        OscoreOptionValue v = OscoreOptionValue.decode(r.getOptions().getOscore(), true);
        r.getOptions().setOscore(new OscoreOptionValue(v.partialIv(), v.kidContext(), new byte[8], true).encode());
        OscoreException e = assertThrows(OscoreException.DecodeFailure.class, () -> p.unprotectRequest(r, g.db(0)));
        assertEquals("Failed to decode COSE", e.diagnostic());
        assertNull(g.servers.get(0).recipient(new byte[8]));
    }

    @Test
    void groupEncryptionWithoutSignatureIsRefusedAtConstruction() {
        assertThrows(IllegalArgumentException.class, () -> new GroupAlgorithms(null, AeadAlgorithm.AES_CCM_16_64_128, null,
                KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256));
        assertThrows(IllegalArgumentException.class, () -> new GroupAlgorithms(null, null, SignatureAlgorithm.ES256, null,
                HkdfAlgorithm.HKDF_SHA_256));
    }
}
