package dev.coterie.tests;

import dev.coterie.app.DemoResources;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.SecurityTrace;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;

/** Coterie's OSCORE server with the demo resources on a loopback port; records what its layer rejects. */
final class CoterieServer implements AutoCloseable {
    final CoapServer server;
    final CoapEndpoint endpoint;
    final OscoreContext context;
    final List<String> events = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService ticker;

    CoterieServer(OscoreContext context, Configuration config) {
        this(context, config, 0);
    }

    CoterieServer(OscoreContext context, Configuration config, int port) {
        this(context, config, port, InnerObserve.EMPTY);
    }

    CoterieServer(OscoreContext context, Configuration config, int port, InnerObserve innerObserve) {
        this.context = context;
        SecurityTrace trace = (event, plain, wire, info) -> events.add(event + (info.note() == null ? "" : ": " + info.note()));
        endpoint = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", port)).configuration(config)
                .serverContexts(new InMemoryContextDb().add(context)).trace(trace).innerObserve(innerObserve).build();
        server = new CoapServer(config);
        server.addEndpoint(endpoint);
        ticker = DemoResources.install(server, 150);
        server.start();
    }

    InetSocketAddress address() {
        return endpoint.getAddress();
    }

    String uri(String path) {
        return "coap://127.0.0.1:" + address().getPort() + "/" + path;
    }

    /** Stops without persisting anything (as if the process died), releasing the context as death would. */
    void crash() {
        stop();
        context.state().abandon();
    }

    private void stop() {
        ticker.shutdownNow();
        server.destroy();
    }

    @Override
    public void close() throws Exception {
        stop();
        context.close();
    }
}
