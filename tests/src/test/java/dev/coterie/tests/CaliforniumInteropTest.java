package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.DemoResources;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.util.Bytes;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Interop with Eclipse Californium cf-oscore 3.13.0 over loopback UDP, in both directions, with
 * the RFC 8613 C.1 and C.3 contexts: GET, POST, PUT, DELETE, Observe and a block-wise response.
 */
class CaliforniumInteropTest {

    /** The same request sequence, run by either client against either server. */
    interface Exchange {
        CoapResponse send(Request r) throws Exception;
    }

    private static void crudAndBlockwise(Exchange ex, String base) throws Exception {
        CoapResponse r = ex.send(req(Code.GET, base + "hello", null));
        assertEquals(ResponseCode.CONTENT, r.getCode());
        assertEquals("Hello World!", r.getResponseText());

        r = ex.send(req(Code.POST, base + "echo", "ping"));
        assertEquals(ResponseCode.CHANGED, r.getCode());
        assertEquals("ping", r.getResponseText());

        r = ex.send(req(Code.PUT, base + "echo", "lamp=on"));
        assertEquals(ResponseCode.CHANGED, r.getCode());

        r = ex.send(req(Code.GET, base + "echo", null));
        assertEquals("lamp=on", r.getResponseText());

        r = ex.send(req(Code.DELETE, base + "echo", null));
        assertEquals(ResponseCode.DELETED, r.getCode());

        r = ex.send(req(Code.GET, base + "echo", null));
        assertEquals(0, r.getPayload().length);

        r = ex.send(req(Code.GET, base + "large", null));
        assertEquals(ResponseCode.CONTENT, r.getCode());
        assertArrayEquals(DemoResources.LARGE, r.getPayload(), "2 KiB reassembled from protected blocks");

        // a 1500-byte body goes up in protected Block1 blocks and comes back in Block2 blocks
        String body = "x".repeat(1400) + "-end-of-a-large-request-body-".repeat(4);
        r = ex.send(req(Code.POST, base + "echo", body.substring(0, 1500)));
        assertEquals(ResponseCode.CHANGED, r.getCode());
        assertEquals(body.substring(0, 1500), r.getResponseText());
    }

    private static CoapResponse nonNull(CoapResponse response, Request r) {
        assertNotNull(response, "no response to " + r.getCode() + " " + r.getURI());
        return response;
    }

    private static Request req(Code code, String uri, String payload) {
        Request r = new Request(code);
        r.setURI(uri);
        if (payload != null) {
            r.setPayload(payload);
        }
        return r;
    }

    private static void observeThree(CoapClient client, Request registration) throws Exception {
        List<String> values = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch three = new CountDownLatch(3);
        CoapObserveRelation rel = client.observe(registration, new CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                if (response.getCode() == ResponseCode.CONTENT) {
                    values.add(response.getResponseText());
                    three.countDown();
                }
            }

            @Override
            public void onError() {
            }
        });
        assertTrue(three.await(10, TimeUnit.SECONDS), "3 notifications, got " + values);
        rel.proactiveCancel();
        synchronized (values) {
            for (int i = 1; i < values.size(); i++) {
                assertTrue(Integer.parseInt(values.get(i)) > Integer.parseInt(values.get(i - 1)), "in order: " + values);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void coterieClient_to_cfOscoreServer(Rfc8613Contexts c) throws Exception {
        try (CfOscorePeer.Server server = new CfOscorePeer.Server(c, TestConfig.standard())) {
            OscoreContext ctx = c.client(null);
            CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .configuration(TestConfig.standard()).clientBinding(new ClientContextBinding().endpointDefault(ctx)).build();
            CoapClient client = new CoapClient().setEndpoint(ep).setTimeout(5000L);
            try {
                crudAndBlockwise(r -> nonNull(client.advanced(r), r), server.uri(""));
                Request reg = Request.newGet();
                reg.setObserve();
                reg.setURI(server.uri("observe"));
                observeThree(client, reg);
                assertTrue(ctx.senderSequence().peek() >= 11, "each request consumed a sequence number");
            } finally {
                client.shutdown();
                ep.destroy();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Rfc8613Contexts.class)
    void cfOscoreClient_to_coterieServer(Rfc8613Contexts c) throws Exception {
        // cf-oscore 3.13's client orders notifications by the inner Observe value, so this server mirrors it
        try (CoterieServer server = new CoterieServer(c.server(null), TestConfig.standard(), 0, InnerObserve.MIRROR)) {
            String base = "coap://127.0.0.1:" + server.address().getPort();
            CoapClient client = CfOscorePeer.client(c, base, TestConfig.standard());
            client.setTimeout(5000L);
            try {
                crudAndBlockwise(r -> {
                    r.getOptions().setOscore(Bytes.EMPTY);
                    return nonNull(client.advanced(r), r);
                }, base + "/");
                Request reg = Request.newGet();
                reg.setObserve();
                reg.setURI(base + "/observe");
                reg.getOptions().setOscore(Bytes.EMPTY);
                observeThree(client, reg);
                assertTrue(server.events.stream().noneMatch(e -> e.startsWith("REJECTED")), server.events.toString());
            } finally {
                client.getEndpoint().destroy();
                client.shutdown();
            }
        }
    }
}
