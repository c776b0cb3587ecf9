package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Observe through the proxy (RFC 7641 Section 5): two observers share one upstream
 * registration, each gets every notification on its own Token, and the last one to cancel
 * cancels upstream.
 */
class ObserveRelayTest {
    private CoapServer origin;
    private CoapResource alarm;
    private final AtomicInteger state = new AtomicInteger();
    private final List<Request> registrations = new CopyOnWriteArrayList<>();
    private int port;

    @BeforeEach
    void start() {
        origin = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                if (request.getOptions().hasObserve()) {
                    registrations.add(request);
                }
            }
        });
        origin.addEndpoint(ep);
        alarm = new CoapResource("alarm") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "state " + state.get());
            }
        };
        alarm.setObservable(true);
        alarm.setObserveType(Type.NON);
        origin.add(alarm);
        origin.start();
        port = ep.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        origin.destroy();
    }

    private CoapObserveRelation observe(CoapClient c, InetSocketAddress proxy, BlockingQueue<String> got) throws Exception {
        Request r = Request.newGet();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/alarm");
        r.setObserve();
        r.setDestinationContext(new AddressEndpointContext(proxy));
        return c.observeAndWait(r, new CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                got.add(response.getResponseText());
            }

            @Override
            public void onError() {
                got.add("error");
            }
        });
    }

    private static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
        for (int i = 0; i < 100 && !cond.getAsBoolean(); i++) {
            Thread.sleep(50);
        }
    }

    @Test
    void RFC7641_5_twoObserversShareOneUpstreamRegistration_theLastCancelEndsIt() throws Exception {
        String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + port + "'}]}]\n";
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            CoapClient a = new CoapClient("coap://127.0.0.1:" + f.proxyAddress.getPort()).setEndpoint(f.client).setTimeout(5000L);
            CoapEndpoint other = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                    .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
            other.start();
            CoapClient b = new CoapClient("coap://127.0.0.1:" + f.proxyAddress.getPort()).setEndpoint(other).setTimeout(5000L);
            try {
                BlockingQueue<String> gotA = new LinkedBlockingQueue<>();
                BlockingQueue<String> gotB = new LinkedBlockingQueue<>();
                CoapObserveRelation ra = observe(a, f.proxyAddress, gotA);
                assertEquals("state 0", gotA.poll(5, TimeUnit.SECONDS));
                CoapObserveRelation rb = observe(b, f.proxyAddress, gotB);
                assertEquals("state 0", gotB.poll(5, TimeUnit.SECONDS));
                assertNotNull(ra.getCurrent().advanced().getOptions().getObserve(), "a is registered");
                assertNotNull(rb.getCurrent().advanced().getOptions().getObserve(), "b is registered");
                assertEquals(1, registrations.size(), "one registration upstream for both observers");
                assertEquals(2, f.proxy.metrics().observers().get());

                state.set(1);
                alarm.changed();
                assertEquals("state 1", gotA.poll(5, TimeUnit.SECONDS));
                assertEquals("state 1", gotB.poll(5, TimeUnit.SECONDS));

                ra.proactiveCancel();
                waitFor(() -> f.proxy.metrics().observers().get() == 1);
                assertEquals(1, f.proxy.metrics().observers().get());
                state.set(2);
                alarm.changed();
                assertEquals("state 2", gotB.poll(5, TimeUnit.SECONDS), "b still observes");
                assertEquals(1, alarm.getObserverCount(), "the proxy still observes upstream");

                rb.proactiveCancel();
                waitFor(() -> alarm.getObserverCount() == 0);
                assertEquals(0, alarm.getObserverCount(), "the last observer gone: cancelled upstream");
                assertEquals(0, f.proxy.metrics().observers().get());
                assertTrue(registrations.stream().anyMatch(r -> r.getOptions().getObserve() == 1),
                        "a proactive cancellation (Observe 1) reached the origin");
            } finally {
                a.shutdown();
                b.shutdown();
                other.destroy();
            }
        }
    }

    @Test
    void LIMITS_pastTheObserverLimitA503_withinItARegistration() throws Exception {
        String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {observers: 1}\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + port + "'}]}]\n";
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            CoapClient a = new CoapClient("coap://127.0.0.1:" + f.proxyAddress.getPort()).setEndpoint(f.client).setTimeout(5000L);
            try {
                BlockingQueue<String> got = new LinkedBlockingQueue<>();
                CoapObserveRelation ra = observe(a, f.proxyAddress, got);
                assertEquals("state 0", got.poll(5, TimeUnit.SECONDS));
                Request second = Request.newGet();
                second.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/alarm");
                second.setObserve();
                org.eclipse.californium.core.coap.Response r = f.send(second);
                assertEquals(ResponseCode.SERVICE_UNAVAILABLE, r.getCode());
                ra.proactiveCancel();
            } finally {
                a.shutdown();
            }
        }
    }
}
