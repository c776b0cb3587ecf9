package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.GroupObservedResource;
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
        + "accept deterministic requests. --group-observe PATH adds a group-observed resource (multicast notifications).")
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

    @Option(names = "--tcp-bind", arity = "0..1", fallbackValue = "127.0.0.1:5683", paramLabel = "ADDR:PORT",
            description = "also listen on coap+tcp (RFC 8323); without a value 127.0.0.1:5683")
    String tcpBind;

    @Option(names = "--tls-bind", arity = "0..1", fallbackValue = "127.0.0.1:5684", paramLabel = "ADDR:PORT",
            description = "also listen on coaps+tcp (TLS 1.3/1.2, ALPN coap); without a value 127.0.0.1:5684")
    String tlsBind;

    @Option(names = "--tls-keystore", paramLabel = "FILE", description = "with --tls-bind: PKCS#12 key store with the "
            + "server's private key and certificate chain; must be owner-only (chmod 600)")
    Path tlsKeystore;

    @Option(names = "--tls-keystore-pass-env", paramLabel = "VAR", description = "environment variable holding the key store's password")
    String tlsKeystorePassEnv;

    @Option(names = "--tls-client-trust", paramLabel = "FILE", description = "with --tls-bind: require client certificates "
            + "issued by these PEM certificates (owner-only); without it none are asked for")
    Path tlsClientTrust;

    @picocli.CommandLine.Mixin
    TcpOptions.Limits tcpLimits = new TcpOptions.Limits();

    @picocli.CommandLine.Mixin
    ExtensionOptionsMixin options = new ExtensionOptionsMixin();

    @picocli.CommandLine.Mixin
    Endpoints.Limits limits = new Endpoints.Limits();

    @picocli.CommandLine.Mixin
    GroupObserveOptions groupObserve = new GroupObserveOptions();

    @Override
    public Integer call() throws Exception {
        if ((contexts == null) == (bundle == null)) {
            throw new IllegalArgumentException("give either --context (OSCORE) or --bundle (Group OSCORE)");
        }
        GroupObserveOptions.Plan plan = groupObserve.plan();
        if (plan != null && (tcpBind != null || tlsBind != null)) {
            throw new IllegalArgumentException("--group-observe notifies over UDP multicast: drop --tcp-bind and --tls-bind");
        }
        if (plan != null) {
            java.net.InetSocketAddress at = Endpoints.parse(bind);
            if (at.getAddress().isAnyLocalAddress()) {
                throw new IllegalArgumentException("--group-observe needs a concrete --bind address (it is tpi_server, where "
                        + "notifications come from), not " + bind);
            }
            // refuses before anything is opened when multicast would leave a private namespace (no opt-in)
            dev.coterie.oscore.MulticastGuard.check(plan.group().getAddress());
        }
        if (tlsBind == null && (tlsKeystore != null || tlsClientTrust != null)) {
            throw new IllegalArgumentException("--tls-keystore and --tls-client-trust need --tls-bind");
        }
        if (bundle != null) {
            return serveGroup(plan);
        }
        // TLS files first: a mistake in them exits before a context is opened
        javax.net.ssl.SSLContext tls = tlsBind == null ? null : TcpOptions.serverTls(tlsKeystore, tlsKeystorePassEnv, tlsClientTrust);
        tcpLimits.limits();
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
        CoapServer server = new CoapServer(limits.apply(Endpoints.configuration()));
        OscoreEndpointBuilder udp = oscoreEndpoint(db, null).bind(Endpoints.parse(bind));
        if (plan != null) {
            // the unprotected variant: requests without OSCORE reach /PATH only (as they came, answered unprotected);
            // every other resource still answers them 4.01 "OSCORE required"
            udp.forwardUntouched(r -> !r.getOptions().hasOscore() && r.getOptions().getUriPath().equals(List.of(plan.path())));
        }
        org.eclipse.californium.core.network.CoapEndpoint udpEndpoint = udp.build();
        server.addEndpoint(udpEndpoint);
        // the same contexts (one replay window each) behind every listener
        List<String> schemes = new ArrayList<>(List.of("coap"));
        // observations over TCP/TLS end with their connection (RFC 8323 Section 7.2)
        dev.coterie.oscore.tcp.TcpObservations observations = new dev.coterie.oscore.tcp.TcpObservations();
        server.setMessageDeliverer(observations.deliverer(server.getMessageDeliverer()));
        for (String[] l : new String[][] {{tcpBind, "coap+tcp"}, {tlsBind, "coaps+tcp"}}) {
            if (l[0] != null) {
                org.eclipse.californium.elements.config.Configuration cfg = limits.apply(Endpoints.configuration());
                server.addEndpoint(oscoreEndpoint(db, TcpOptions.serverConnector(Endpoints.parse(l[0]), l[1].startsWith("coaps") ? tls : null,
                        tlsClientTrust != null, cfg, tcpLimits.limits(), observations)).configuration(cfg).build());
                schemes.add(l[1]);
            }
        }
        ScheduledExecutorService ticker = DemoResources.install(server, observePeriod);
        GroupObserveOptions.StateResource observed = plan == null ? null : new GroupObserveOptions.StateResource(plan);
        if (observed != null) {
            server.add(observed);
        }
        server.start();
        System.out.println("coterie server listening on " + server.getEndpoints().get(0).getAddress()
                + " with " + loaded.size() + " context(s)");
        for (int i = 1; i < server.getEndpoints().size(); i++) {
            java.net.InetSocketAddress a = server.getEndpoints().get(i).getAddress();
            System.out.println("coterie server listening on " + schemes.get(i) + "://" + a.getHostString() + ":" + a.getPort());
        }
        if (observed != null) {
            offer(observed, plan, udpEndpoint, ticker, "unprotected: requests to /" + plan.path() + " without OSCORE are "
                    + "served there, and notifications go out in plaintext");
        }
        awaitShutdown(server, ticker, observed, () -> {
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

    /** An OSCORE server endpoint over UDP ({@code connector} null) or the given TCP/TLS connector. */
    private OscoreEndpointBuilder oscoreEndpoint(InMemoryContextDb db, org.eclipse.californium.elements.Connector connector) {
        OscoreEndpointBuilder eb = new OscoreEndpointBuilder().configuration(limits.apply(Endpoints.configuration()))
                .extensions(options.registry()).serverContexts(db).innerObserve(innerObserve);
        if (connector != null) {
            eb.connector(connector);
        }
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        return eb;
    }

    private int serveGroup(GroupObserveOptions.Plan plan) throws Exception {
        // TLS files first: a mistake in them exits before the bundle is opened
        javax.net.ssl.SSLContext tls = tlsBind == null ? null : TcpOptions.serverTls(tlsKeystore, tlsKeystorePassEnv, tlsClientTrust);
        tcpLimits.limits();
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
        // one database (one replay window per member) behind every listener
        dev.coterie.grouposcore.GroupContextDb db = new dev.coterie.grouposcore.GroupContextDb().add(ctx).responseMode(pairwiseResponses
                ? dev.coterie.grouposcore.GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE
                : dev.coterie.grouposcore.GroupContextDb.ResponseMode.SAME_AS_REQUEST);
        dev.coterie.grouposcore.GroupEndpointBuilder eb = new dev.coterie.grouposcore.GroupEndpointBuilder()
                .bind(Endpoints.parse(bind)).configuration(cfg).extensions(options.registry())
                .serverGroups(db).groupPort(groupPort);
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
        org.eclipse.californium.core.network.CoapEndpoint endpoint = eb.build();
        server.addEndpoint(endpoint);
        // unicast Group OSCORE (pairwise mode, or group mode to this member) over coap+tcp / coaps+tcp; groups stay on UDP
        List<String> schemes = new ArrayList<>(List.of("coap"));
        dev.coterie.oscore.tcp.TcpObservations observations = new dev.coterie.oscore.tcp.TcpObservations();
        server.setMessageDeliverer(observations.deliverer(server.getMessageDeliverer()));
        for (String[] l : new String[][] {{tcpBind, "coap+tcp"}, {tlsBind, "coaps+tcp"}}) {
            if (l[0] != null) {
                org.eclipse.californium.elements.config.Configuration tcfg = limits.apply(
                        dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration());
                dev.coterie.grouposcore.GroupEndpointBuilder teb = new dev.coterie.grouposcore.GroupEndpointBuilder()
                        .configuration(tcfg).extensions(options.registry()).serverGroups(db)
                        .tcpConnector(TcpOptions.serverConnector(Endpoints.parse(l[0]), l[1].startsWith("coaps") ? tls : null,
                                tlsClientTrust != null, tcfg, tcpLimits.limits(), observations))
                        .deterministicRequests(request -> DemoResources.acceptsDeterministic(server, request));
                if (trace) {
                    teb.trace(new FlowTrace(System.out, "C", "S"));
                }
                server.addEndpoint(teb.build());
                schemes.add(l[1]);
            }
        }
        ScheduledExecutorService ticker = DemoResources.install(server, observePeriod);
        GroupObserveOptions.StateResource observed = plan == null ? null : new GroupObserveOptions.StateResource(plan);
        if (observed != null) {
            // the Group OSCORE variant (OMN-10, OMN-11): the phantom in group mode under this member's own Sender ID
            observed.protectedBy(new dev.coterie.grouposcore.GroupObservationProtection(ctx, db,
                    new dev.coterie.oscore.ProtectionPipeline(options.registry())));
            server.add(observed);
        }
        server.start();
        System.out.println("coterie server listening on " + server.getEndpoints().get(0).getAddress() + " as member "
                + dev.coterie.keystore.Hex.encode(ctx.senderId()) + " of " + ctx.name() + (join.isEmpty() ? "" : ", joined " + join));
        for (int i = 1; i < server.getEndpoints().size(); i++) {
            java.net.InetSocketAddress a = server.getEndpoints().get(i).getAddress();
            System.out.println("coterie server listening on " + schemes.get(i) + "://" + a.getHostString() + ":" + a.getPort());
        }
        if (observed != null) {
            offer(observed, plan, endpoint, ticker, "protected with Group OSCORE: phantom and notifications in group mode "
                    + "under Sender ID " + dev.coterie.keystore.Hex.encode(ctx.senderId()) + ", registrations must be protected");
        }
        awaitShutdown(server, ticker, observed, () -> {
            try {
                ctx.close();
            } catch (StateUnavailableException e) {
                System.err.println("coterie server: could not persist group state: " + e.getMessage());
            }
        });
        return 0;
    }

    /**
     * Binds the group-observed resource to the socket it notifies from (its address is tpi_server),
     * starts its changes and says what it offers.
     */
    private static void offer(GroupObserveOptions.StateResource observed, GroupObserveOptions.Plan plan,
                              org.eclipse.californium.core.network.CoapEndpoint endpoint, ScheduledExecutorService ticker,
                              String variant) {
        observed.sendFrom(endpoint.getConnector(), endpoint.getAddress());
        ticker.scheduleAtFixedRate(observed::tick, plan.periodMs(), plan.periodMs(), java.util.concurrent.TimeUnit.MILLISECONDS);
        System.out.println("coterie server offers /" + plan.path() + " as a group observation (gp-obs): notifications from "
                + endpoint.getAddress() + " to " + plan.group() + " every " + plan.periodMs() + " ms, informative responses "
                + "with Content-Format " + plan.contentFormat() + "; " + variant);
    }

    private static void awaitShutdown(CoapServer server, ScheduledExecutorService ticker, GroupObservedResource observed,
                                      Runnable persist) throws InterruptedException {
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            ticker.shutdownNow();
            if (observed != null) {
                observed.close(); // the multicast cancellation (OMN-06) while the socket is still open
            }
            server.destroy();
            persist.run();
            stop.countDown();
        }, "coterie-shutdown"));
        stop.await();
    }
}
