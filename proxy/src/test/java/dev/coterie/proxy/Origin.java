package dev.coterie.proxy;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreEndpointBuilder;

/**
 * A plain CoAP origin on loopback for the proxy tests. It records every request it gets (as
 * parsed from the wire: Token, MID, options) and serves:
 * /sensors/temp (GET, "21.5", Max-Age {@link #maxAge}, ETag {@link #etag}, 2.03 when the ETag matches),
 * /echo (POST: the payload back), /slow (never answers).
 */
final class Origin implements AutoCloseable {
    final CoapServer server;
    final List<Request> received = new CopyOnWriteArrayList<>();
    final AtomicInteger temperatureReads = new AtomicInteger();
    volatile int maxAge = 60;
    volatile byte[] etag = null;
    volatile String temperature = "21.5";

    Origin() {
        server = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        // the test origin keeps no deduplication state, so that memory measurements see the proxy's
        org.eclipse.californium.elements.config.Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        cfg.set(org.eclipse.californium.core.config.CoapConfig.DEDUPLICATOR,
                org.eclipse.californium.core.config.CoapConfig.NO_DEDUPLICATOR);
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(cfg)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        server.addEndpoint(ep);
        CoapResource sensors = new CoapResource("sensors");
        sensors.add(new CoapResource("temp") {
            @Override
            public void handleGET(CoapExchange exchange) {
                received.add(exchange.advanced().getRequest());
                temperatureReads.incrementAndGet();
                byte[] e = etag;
                if (e != null) {
                    for (byte[] asked : exchange.getRequestOptions().getETags()) {
                        if (java.util.Arrays.equals(asked, e)) {
                            Response valid = new Response(ResponseCode.VALID);
                            valid.getOptions().addETag(e).setMaxAge(maxAge);
                            exchange.respond(valid);
                            return;
                        }
                    }
                }
                Response r = new Response(ResponseCode.CONTENT);
                r.getOptions().setMaxAge(maxAge).setContentFormat(0);
                if (e != null) {
                    r.getOptions().addETag(e);
                }
                r.setPayload(temperature);
                exchange.respond(r);
            }
        });
        server.add(sensors);
        server.add(new CoapResource("echo") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                received.add(exchange.advanced().getRequest());
                exchange.respond(ResponseCode.CHANGED, exchange.getRequestPayload());
            }
        });
        server.add(new CoapResource("slow") {
            @Override
            public void handleGET(CoapExchange exchange) {
                received.add(exchange.advanced().getRequest());
                // never answers
            }
        });
        server.start();
    }

    int port() {
        return server.getEndpoints().get(0).getAddress().getPort();
    }

    Request last() {
        return received.get(received.size() - 1);
    }

    @Override
    public void close() {
        server.destroy();
    }
}
