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

@Command(name = "server", description = "Serve /hello, /observe, /echo, /large, /light, /temperature and /whoami over "
        + "OSCORE or Group OSCORE only; unprotected requests get 4.01. /hello, /observe, /large, /temperature and /whoami "
        + "accept deterministic requests.")
final class ServerCommand implements Callable<Integer> {
    @Option(names = "--context", arity = "1..*", description = "OSCORE security-context file(s)")
    List<Path> contexts;

    @Option(names = "--bundle", description = "a Group OSCORE member bundle (instead of --context)")
    Path bundle;

    @Option(names = "--join", description = "multicast group to join (with --bundle), e.g. 224.0.1.187 or ff02::fd")
    List<String> join = new ArrayList<>();

    @Option(names = "--interface", description = "network interface for the multicast groups (needed for IPv6 link-local)")
    String iface;

    @Option(names = "--group-port", defaultValue = "5683", description = "port group requests are sent to (${DEFAULT-VALUE})")
    int groupPort;

    @Option(names = "--pairwise-responses", description = "answer group-mode requests in pairwise mode")
    boolean pairwiseResponses;

    @Option(names = "--passphrase-env", description = "environment variable holding the private key's passphrase")
    String passphraseEnv;

    @Option(names = "--leisure", description = "ms to wait at random before answering a group request "
            + "(default: 20000 with group mode, 13000 pairwise only: groupcomm-bis DEFAULT_LEISURE)")
    Long leisure;

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

    @picocli.CommandLine.Mixin
    Endpoints.Limits limits = new Endpoints.Limits();

    @Override
    public Integer call() throws Exception {
        if ((contexts == null) == (bundle == null)) {
            throw new IllegalArgumentException("give either --context (OSCORE) or --bundle (Group OSCORE)");
        }
        if (bundle != null) {
            return serveGroup();
        }
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
                .configuration(limits.apply(Endpoints.configuration())).extensions(options.registry()).serverContexts(db).innerObserve(innerObserve);
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        CoapServer server = new CoapServer(limits.apply(Endpoints.configuration()));
        server.addEndpoint(eb.build());
        ScheduledExecutorService ticker = DemoResources.install(server, observePeriod);
        server.start();
        System.out.println("coterie server listening on " + server.getEndpoints().get(0).getAddress()
                + " with " + loaded.size() + " context(s)");
        awaitShutdown(server, ticker, () -> {
            for (OscoreContext c : loaded) {
                try {
                    c.close();
                } catch (StateUnavailableException e) {
                    System.err.println("coterie server: could not persist state of " + c.name() + ": " + e.getMessage());
                }
            }
        });
        return 0;
    }

    private int serveGroup() throws Exception {
        char[] pass = passphraseEnv == null ? null : GroupCommand.requireEnv(passphraseEnv).toCharArray();
        dev.coterie.grouposcore.GroupContext ctx;
        try {
            ctx = dev.coterie.app.group.MemberBundle.load(bundle, CryptoProviders.byName(provider), pass);
        } catch (StateUnavailableException e) {
            System.err.println("coterie server: " + bundle + ": " + e.getMessage());
            return 3;
        }
        org.eclipse.californium.elements.config.Configuration cfg = limits.apply(dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration());
        cfg.set(org.eclipse.californium.core.config.CoapConfig.LEISURE,
                leisure != null ? leisure : dev.coterie.grouposcore.GroupEndpointBuilder.leisureFor(ctx.algorithms()),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        dev.coterie.grouposcore.GroupEndpointBuilder eb = new dev.coterie.grouposcore.GroupEndpointBuilder()
                .bind(Endpoints.parse(bind)).configuration(cfg).extensions(options.registry())
                .serverGroups(new dev.coterie.grouposcore.GroupContextDb().add(ctx).responseMode(pairwiseResponses
                        ? dev.coterie.grouposcore.GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE
                        : dev.coterie.grouposcore.GroupContextDb.ResponseMode.SAME_AS_REQUEST)).groupPort(groupPort);
        if (iface != null) {
            java.net.NetworkInterface ni = java.net.NetworkInterface.getByName(iface);
            if (ni == null) {
                throw new IllegalArgumentException("no network interface " + iface);
            }
            eb.multicastInterface(ni);
        }
        for (String g : join) {
            eb.join(java.net.InetAddress.getByName(g));
        }
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        CoapServer server = new CoapServer(cfg);
        eb.deterministicRequests(request -> DemoResources.acceptsDeterministic(server, request));
        server.addEndpoint(eb.build());
        ScheduledExecutorService ticker = DemoResources.install(server, observePeriod);
        server.start();
        System.out.println("coterie server listening on " + server.getEndpoints().get(0).getAddress() + " as member "
                + dev.coterie.keystore.Hex.encode(ctx.senderId()) + " of " + ctx.name() + (join.isEmpty() ? "" : ", joined " + join));
        awaitShutdown(server, ticker, () -> {
            try {
                ctx.close();
            } catch (StateUnavailableException e) {
                System.err.println("coterie server: could not persist group state: " + e.getMessage());
            }
        });
        return 0;
    }

    private static void awaitShutdown(CoapServer server, ScheduledExecutorService ticker, Runnable persist)
            throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ticker.shutdownNow();
            server.destroy();
            persist.run();
            stop.countDown();
        }, "coterie-shutdown"));
        stop.await();
    }
}
