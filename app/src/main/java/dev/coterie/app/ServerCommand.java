package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", description = "Serve /hello, /observe, /echo and /large over OSCORE only; "
        + "unprotected requests get 4.01.")
final class ServerCommand implements Callable<Integer> {
    @Option(names = "--context", required = true, arity = "1..*", description = "security-context file(s)")
    List<Path> contexts;

    @Option(names = "--bind", defaultValue = "127.0.0.1:5683", description = "ADDR:PORT (${DEFAULT-VALUE})")
    String bind;

    @Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc")
    String provider;

    @Option(names = "--trace", description = "print each exchange as a message-flow trace")
    boolean trace;

    @Option(names = "--inner-observe", defaultValue = "EMPTY", description = "inner Observe of notifications: "
            + "EMPTY (RFC 8613 4.1.3.5.2) or MIRROR (for clients that order by it, such as cf-oscore 3.13)")
    dev.coterie.oscore.InnerObserve innerObserve;

    @Option(names = "--observe-period", defaultValue = "1000", description = "ms between /observe changes (${DEFAULT-VALUE})")
    long observePeriod;

    @picocli.CommandLine.Mixin
    ExtensionOptionsMixin options = new ExtensionOptionsMixin();

    @Override
    public Integer call() throws Exception {
        InMemoryContextDb db = new InMemoryContextDb();
        List<OscoreContext> loaded = new ArrayList<>();
        for (Path p : contexts) {
            try {
                OscoreContext c = ContextFile.load(p, CryptoProviders.byName(provider));
                db.add(c);
                loaded.add(c);
            } catch (StateUnavailableException e) {
                System.err.println("coterie server: " + p + ": " + e.getMessage());
                return 3;
            }
        }
        OscoreEndpointBuilder eb = new OscoreEndpointBuilder().bind(Endpoints.parse(bind))
                .configuration(Endpoints.configuration()).extensions(options.registry()).serverContexts(db).innerObserve(innerObserve);
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        CoapServer server = new CoapServer(Endpoints.configuration());
        server.addEndpoint(eb.build());
        ScheduledExecutorService ticker = DemoResources.install(server, observePeriod);
        server.start();
        System.out.println("coterie server listening on " + server.getEndpoints().get(0).getAddress()
                + " with " + loaded.size() + " context(s)");
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ticker.shutdownNow();
            server.destroy();
            for (OscoreContext c : loaded) {
                try {
                    c.close();
                } catch (StateUnavailableException e) {
                    System.err.println("coterie server: could not persist state of " + c.name() + ": " + e.getMessage());
                }
            }
            stop.countDown();
        }, "coterie-shutdown"));
        stop.await();
        return 0;
    }
}
