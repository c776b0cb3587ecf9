package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreSendRefusedException;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.junit.jupiter.api.Test;

/** Fail closed: nothing goes out in plaintext because a context is missing. */
class FailClosedTest {

    @Test
    void aRequestWithoutABoundContextIsRefusedAndNothingReachesTheWire() throws Exception {
        ClientContextBinding binding = new ClientContextBinding(); // no default, nothing bound
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .configuration(TestConfig.standard()).clientBinding(binding).build();
        try (RawPeer listener = new RawPeer()) {
            ep.start();
            Request r = Request.newGet();
            r.setURI("coap://127.0.0.1:" + listener.port() + "/hello");
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
            assertTrue(failed.await(5, TimeUnit.SECONDS), "the request reports a send error");
            assertInstanceOf(OscoreSendRefusedException.class, error.get());
            assertNull(listener.receiveRaw(500), "not a single datagram was sent");
        } finally {
            ep.destroy();
        }
    }

    @Test
    void anExplicitlyBoundRequestOverridesTheEndpointDefault() throws Exception {
        OscoreContext wrong = OscoreContext.builder().masterSecret(SecretBytes.fromHex("00112233445566778899aabbccddeeff"))
                .senderId(new byte[0]).recipientId(new byte[] {1}).stateStore(SecurityStateStore.inMemory()).build();
        OscoreContext right = Rfc8613Contexts.C1.client(null);
        ClientContextBinding binding = new ClientContextBinding().endpointDefault(wrong);
        try (CoterieServer server = new CoterieServer(Rfc8613Contexts.C1.server(null), TestConfig.standard())) {
            CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .configuration(TestConfig.standard()).clientBinding(binding).build();
            CoapClient client = new CoapClient(server.uri("hello")).setEndpoint(ep).setTimeout(3000L);
            try {
                // the default context has the wrong keys: the server cannot decrypt, and says so unprotected
                CoapResponse withDefault = client.get();
                assertNotNull(withDefault);
                assertEquals(ResponseCode.BAD_REQUEST, withDefault.getCode());
                assertEquals("Decryption failed", withDefault.getResponseText());

                Request bound = binding.bind(Request.newGet(), right);
                bound.setURI(server.uri("hello"));
                CoapResponse withBinding = client.advanced(bound);
                assertEquals(ResponseCode.CONTENT, withBinding.getCode());
                assertEquals("Hello World!", withBinding.getResponseText());
            } finally {
                client.shutdown();
                ep.destroy();
            }
        }
    }

}
