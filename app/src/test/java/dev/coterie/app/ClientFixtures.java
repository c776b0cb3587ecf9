package dev.coterie.app;

import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.SecurityTrace;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;

/** Servers and command runs for the {@code coterie client} tests: loopback only, fresh state per test. */
final class ClientFixtures {
    private ClientFixtures() {
    }

    record Run(int status, String out, String err) {
        List<String> lines() {
            return out.lines().collect(Collectors.toList());
        }

        long count(String prefix) {
            return out.lines().filter(l -> l.startsWith(prefix)).count();
        }
    }

    /** {@code coterie ARGS} in this JVM, its output captured. */
    static synchronized Run run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int status = Coterie.execute(args);
            return new Run(status, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    static Path contextFile(Path dir, String name, String sender, String recipient, String extra) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"replay_window\": 32" + extra + "\n}\n");
        // owner-only, as a context file must be (else every run warns on stderr)
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /** What a test server saw: security events (mode, Request-Hash) in order. */
    static final class Seen {
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<String> deterministicHashes = new CopyOnWriteArrayList<>();

        SecurityTrace trace(ExtensionOptionRegistry registry) {
            int requestHash = registry.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
            return (event, plain, wire, info) -> {
                events.add(event + " " + info.mode());
                if (event == SecurityTrace.Event.REQUEST_VERIFIED && info.mode() == ProtectionMode.DETERMINISTIC) {
                    for (Option o : wire.getOptions().getOthers()) {
                        if (o.getNumber() == requestHash) {
                            deterministicHashes.add(Hex.encode(o.getValue()));
                        }
                    }
                }
            };
        }

        long count(String prefix) {
            return events.stream().filter(e -> e.startsWith(prefix)).count();
        }
    }

    /** A server with the demo resources and /inspect, on 127.0.0.1 and a port of its own. */
    static final class Server implements AutoCloseable {
        final CoapServer server;
        final CoapEndpoint endpoint;
        final Seen seen;
        private final ScheduledExecutorService ticker;
        private final AutoCloseable state;

        /** coap, or coap+tcp for the TCP servers */
        private String scheme = "coap";

        private Server(CoapServer server, CoapEndpoint ep, Seen seen, AutoCloseable state, CoapResource... extra) {
            this(server, ep, seen, state, null, extra);
        }

        /** @param observations the TCP servers': observations end with their connection, as in coterie server */
        private Server(CoapServer server, CoapEndpoint ep, Seen seen, AutoCloseable state,
                       dev.coterie.oscore.tcp.TcpObservations observations, CoapResource... extra) {
            this.endpoint = ep;
            this.seen = seen;
            this.state = state;
            this.server = server;
            server.addEndpoint(ep);
            if (observations != null) {
                scheme = "coap+tcp";
                server.setMessageDeliverer(observations.deliverer(server.getMessageDeliverer()));
            }
            ticker = DemoResources.install(server, 200);
            server.add(new Inspect());
            for (CoapResource r : extra) {
                server.add(r);
            }
            server.start();
        }

        /** An OSCORE server for the context of {@link #contextFile}(dir, "server", "01", "", ...). */
        static Server oscore(Path dir, CoapResource... extra) throws Exception {
            Path f = contextFile(dir, "server", "01", "", ",\n  \"state_dir\": \"server-state\"");
            OscoreContext ctx = ContextFile.load(f, CryptoProviders.defaultProvider());
            Seen seen = new Seen();
            CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .configuration(Endpoints.configuration()).serverContexts(new InMemoryContextDb().add(ctx))
                    .trace(seen.trace(ExtensionOptionRegistry.defaults())).build();
            return new Server(new CoapServer(Endpoints.configuration()), ep, seen, ctx::close, extra);
        }

        /** {@link #oscore} on coap+tcp (RFC 8323) instead of UDP. */
        static Server oscoreTcp(Path dir, CoapResource... extra) throws Exception {
            Path f = contextFile(dir, "server", "01", "", ",\n  \"state_dir\": \"server-state\"");
            OscoreContext ctx = ContextFile.load(f, CryptoProviders.defaultProvider());
            Seen seen = new Seen();
            dev.coterie.oscore.tcp.TcpObservations observations = new dev.coterie.oscore.tcp.TcpObservations();
            org.eclipse.californium.elements.config.Configuration cfg = Endpoints.configuration();
            CoapEndpoint ep = new OscoreEndpointBuilder().configuration(cfg)
                    .connector(TcpOptions.serverConnector(new InetSocketAddress("127.0.0.1", 0), null, false, cfg,
                            dev.coterie.oscore.tcp.TcpLimits.DEFAULTS, observations))
                    .serverContexts(new InMemoryContextDb().add(ctx))
                    .trace(seen.trace(ExtensionOptionRegistry.defaults())).build();
            return new Server(new CoapServer(Endpoints.configuration()), ep, seen, ctx::close, observations, extra);
        }

        /** A plain CoAP server without OSCORE (for --no-oscore). */
        static Server plain(CoapResource... extra) {
            CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(Endpoints.configuration())
                    .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
            return new Server(new CoapServer(Endpoints.configuration()), ep, new Seen(), () -> { }, extra);
        }

        /** A Group OSCORE member serving on a unicast address (no multicast: loopback only). */
        static Server member(Path bundle, CoapResource... extra) throws Exception {
            GroupContext ctx = dev.coterie.app.group.MemberBundle.load(bundle, CryptoProviders.defaultProvider(), null);
            Seen seen = new Seen();
            CoapServer server = new CoapServer(Endpoints.configuration());
            // the policy of coterie server: resources opt in to deterministic requests
            CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .serverGroups(new GroupContextDb().add(ctx)).trace(seen.trace(ExtensionOptionRegistry.defaults()))
                    .deterministicRequests(r -> DemoResources.acceptsDeterministic(server, r)).build();
            return new Server(server, ep, seen, ctx::close, extra);
        }

        int port() {
            return endpoint.getAddress().getPort();
        }

        String uri(String path) {
            return scheme + "://127.0.0.1:" + port() + "/" + path;
        }

        @Override
        public void close() throws Exception {
            ticker.shutdownNow();
            server.destroy();
            state.close();
        }
    }

    /** A group made with {@code coterie group}: client 01, servers 02 (and more), a Deterministic Client dc. */
    static Path group(Path dir, boolean deterministicClient, int servers) {
        Path groups = dir.resolve("groups");
        Run create = deterministicClient
                ? run("group", "create", "--name", "g", "--dir", groups.toString(), "--deterministic-sid", "dc")
                : run("group", "create", "--name", "g", "--dir", groups.toString());
        check(create);
        check(run("group", "add-member", "g", "--role", "client", "--dir", groups.toString()));
        for (int i = 0; i < servers; i++) {
            check(run("group", "add-member", "g", "--role", "server", "--dir", groups.toString()));
        }
        return groups.resolve("g").resolve("members");
    }

    private static void check(Run r) {
        if (r.status() != 0) {
            throw new AssertionError("coterie group failed: " + r.out() + r.err());
        }
    }

    /**
     * POST, PUT, GET, FETCH: answers with what arrived, one line per option ("NUMBER=HEX"), then
     * "payload=HEX" and "from=PORT"; the verified sender's mode if there is one. Free of side
     * effects, so it accepts deterministic requests.
     */
    static final class Inspect extends CoapResource implements DemoResources.AcceptsDeterministicRequests {
        Inspect() {
            super("inspect");
        }

        private void answer(CoapExchange ex) {
            StringBuilder sb = new StringBuilder();
            for (Option o : ex.advanced().getRequest().getOptions().asSortedList()) {
                sb.append(o.getNumber()).append('=').append(Hex.encode(o.getValue())).append('\n');
            }
            sb.append("payload=").append(Hex.encode(ex.getRequestPayload() == null ? new byte[0] : ex.getRequestPayload()))
                    .append('\n');
            sb.append("from=").append(ex.getSourcePort()).append('\n');
            OscorePeer p = OscorePeer.of(ex.advanced().getRequest());
            sb.append("mode=").append(p == null ? "none" : p.mode().name());
            ex.respond(ResponseCode.CONTENT, sb.toString());
        }

        @Override
        public void handleGET(CoapExchange ex) {
            answer(ex);
        }

        @Override
        public void handlePOST(CoapExchange ex) {
            answer(ex);
        }

        @Override
        public void handlePUT(CoapExchange ex) {
            answer(ex);
        }

        @Override
        public void handleFETCH(CoapExchange ex) {
            answer(ex);
        }
    }
}
