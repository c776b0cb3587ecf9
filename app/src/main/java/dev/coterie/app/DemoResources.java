package dev.coterie.app;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;

/**
 * The resources of {@code coterie server}: /hello, /observe, /echo, /large, /light,
 * /temperature (a sensor) and /whoami (what the server saw of the request). The ones free of side
 * effects opt in to deterministic requests ({@link AcceptsDeterministicRequests}).
 */
public final class DemoResources {
    /**
     * Marks a resource that accepts deterministic requests (cacheable-oscore Section 3.4.3): its
     * GET and FETCH have no side effects, and its answer may be cached for everyone by a proxy.
     */
    public interface AcceptsDeterministicRequests {
    }

    /**
     * Whether {@code request} targets a resource of {@code server} that accepts deterministic
     * requests: the policy {@code coterie server} gives its endpoints.
     */
    public static boolean acceptsDeterministic(CoapServer server, org.eclipse.californium.core.coap.Request request) {
        org.eclipse.californium.core.server.resources.Resource r = server.getRoot();
        for (String segment : request.getOptions().getUriPath()) {
            r = r == null ? null : r.getChild(segment);
        }
        return r instanceof AcceptsDeterministicRequests;
    }

    /** 2 KiB of text, so that it needs block-wise transfer at the default block size. */
    public static final byte[] LARGE = large();

    private DemoResources() {
    }

    /** Adds the resources; returns the executor that drives /observe (shut it down with the server). */
    public static ScheduledExecutorService install(CoapServer server, long observePeriodMillis) {
        server.add(new HelloResource());
        ObserveResource observe = new ObserveResource();
        server.add(observe);
        server.add(new EchoResource());
        server.add(new LargeResource());
        server.add(new LightResource());
        TemperatureResource temperature = new TemperatureResource();
        server.add(temperature);
        server.add(new WhoAmIResource());
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "observe-ticker");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(() -> {
            observe.tick();
            temperature.tick();
        }, observePeriodMillis, observePeriodMillis, TimeUnit.MILLISECONDS);
        return timer;
    }

    /** GET: "Hello World!" (the payload of RFC 8613 Appendix C.7). */
    public static final class HelloResource extends CoapResource implements AcceptsDeterministicRequests {
        public HelloResource() {
            super("hello");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, "Hello World!", MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /** GET with Observe: a counter that changes every period. */
    public static final class ObserveResource extends CoapResource implements AcceptsDeterministicRequests {
        private final AtomicInteger counter = new AtomicInteger();

        public ObserveResource() {
            super("observe");
            setObservable(true);
            getAttributes().setObservable();
        }

        void tick() {
            counter.incrementAndGet();
            changed();
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, String.valueOf(counter.get()), MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /** POST/PUT echo the payload; GET reads what was last PUT; DELETE clears it. */
    public static final class EchoResource extends CoapResource {
        private volatile byte[] stored = new byte[0];

        public EchoResource() {
            super("echo");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, stored);
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            exchange.respond(ResponseCode.CHANGED, exchange.getRequestPayload());
        }

        @Override
        public void handlePUT(CoapExchange exchange) {
            stored = exchange.getRequestPayload();
            exchange.respond(ResponseCode.CHANGED, stored);
        }

        @Override
        public void handleDELETE(CoapExchange exchange) {
            stored = new byte[0];
            exchange.respond(ResponseCode.DELETED);
        }

        @Override
        public void handleFETCH(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, exchange.getRequestPayload());
        }
    }

    /** A lamp: GET reads "on" or "off", PUT sets it (the lighting group of the demo). */
    public static final class LightResource extends CoapResource {
        private volatile String state = "off";

        public LightResource() {
            super("light");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, state, MediaTypeRegistry.TEXT_PLAIN);
        }

        @Override
        public void handlePUT(CoapExchange exchange) {
            String v = exchange.getRequestText().trim();
            if (!v.equals("on") && !v.equals("off")) {
                exchange.respond(ResponseCode.BAD_REQUEST, "on or off");
                return;
            }
            state = v;
            exchange.respond(ResponseCode.CHANGED, state, MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /**
     * A temperature sensor: GET (or observe) reads it, with Max-Age 30, so that a proxy may cache
     * the answer to a deterministic request for everyone who asks. The value moves a little with
     * every tick.
     */
    public static final class TemperatureResource extends CoapResource implements AcceptsDeterministicRequests {
        private final AtomicInteger tenths = new AtomicInteger(215);

        public TemperatureResource() {
            super("temperature");
            setObservable(true);
            getAttributes().setObservable();
            getAttributes().addResourceType("temperature-c");
        }

        void tick() {
            int t = tenths.get();
            tenths.set(t >= 230 ? 210 : t + 1);
            changed();
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            int t = tenths.get();
            exchange.setMaxAge(30);
            exchange.respond(ResponseCode.CONTENT, (t / 10) + "." + (t % 10), MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /**
     * GET: what the server saw of the request: the mode, the context that verified it, and the
     * kid and kid context it carried (a tester's view of the server's side, without traces).
     */
    public static final class WhoAmIResource extends CoapResource implements AcceptsDeterministicRequests {
        public WhoAmIResource() {
            super("whoami");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            dev.coterie.oscore.OscorePeer peer = dev.coterie.oscore.OscorePeer.of(exchange.advanced().getRequest());
            if (peer == null) {
                exchange.respond(ResponseCode.CONTENT, "mode: unprotected\n", MediaTypeRegistry.TEXT_PLAIN);
                return;
            }
            byte[] kid = peer.kid();
            byte[] kidContext = peer.kidContext();
            String text = "mode: " + peer.mode().label() + "\n"
                    + "context: " + peer.context() + "\n"
                    + "kid: " + (kid == null ? "-" : kid.length == 0 ? "''" : dev.coterie.keystore.Hex.encode(kid)) + "\n"
                    + "kid context: " + (kidContext == null ? "-" : dev.coterie.keystore.Hex.encode(kidContext)) + "\n";
            exchange.respond(ResponseCode.CONTENT, text, MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    /** GET: 2 KiB, sent block-wise. */
    public static final class LargeResource extends CoapResource implements AcceptsDeterministicRequests {
        public LargeResource() {
            super("large");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            exchange.respond(ResponseCode.CONTENT, LARGE, MediaTypeRegistry.TEXT_PLAIN);
        }
    }

    private static byte[] large() {
        StringBuilder sb = new StringBuilder();
        int line = 0;
        while (sb.length() < 2048) {
            sb.append(String.format("%04d coterie large resource line%n", line++));
        }
        return sb.substring(0, 2048).getBytes(StandardCharsets.US_ASCII);
    }
}
