package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.SecurityTrace;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", description = "Run an OSCORE client and server over loopback and print the exchanges "
        + "as message-flow traces (RFC 8613 style).")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc")
    String provider;

    @Option(names = "--no-group", description = "skip the lighting group (it needs unshare to create a private network namespace)")
    boolean noGroup;

    private final PrintStream out = System.out;

    /**
     * Multicast never leaves a private network namespace: the lighting group runs in one that
     * this process creates (unshare --user --map-root-user --net), with IPv4 multicast on its lo.
     */
    private int runGroupPartInPrivateNamespace() throws Exception {
        out.println("Part 3: Group OSCORE lighting group (in a private network namespace)\n");
        out.flush();
        int failures = inPrivateNamespace("demo-group");
        out.println("\nPart 4: the building: two groups behind the border proxy (in a private network namespace)\n");
        out.flush();
        failures += inPrivateNamespace("demo-building");
        out.println("\nPart 5: the fire alarm, a group observation reached through the proxy (in a private network namespace)\n");
        out.flush();
        return failures + inPrivateNamespace("demo-alarm");
    }

    private int inPrivateNamespace(String command) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec '"
                + javaBin + "' -cp '" + System.getProperty("java.class.path") + "' " + Coterie.class.getName() + " " + command;
        Process p;
        try {
            p = new ProcessBuilder("unshare", "--user", "--map-root-user", "--net", "sh", "-c", cmd)
                    .redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            out.println("cannot create a private network namespace (" + e.getMessage() + "); run with --no-group");
            return 1;
        }
        try (java.io.InputStream in = p.getInputStream()) {
            in.transferTo(out);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return 1;
        }
        return p.exitValue() == 0 ? 0 : 1;
    }

    @Override
    public Integer call() throws Exception {
        Path state = Files.createTempDirectory("coterie-demo");
        // the contexts of RFC 8613 Appendix C.1, so the first request can be compared with C.4
        SecretBytes secret = SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10");
        byte[] salt = Hex.decode("9e7ca92223786340");
        OscoreContext clientCtx = OscoreContext.builder().provider(CryptoProviders.byName(provider)).name("client")
                .masterSecret(secret).masterSalt(salt).senderId(new byte[0]).recipientId(new byte[] {1})
                .stateStore(SecurityStateStore.open(state.resolve("client"), 100)).build();
        OscoreContext serverCtx = OscoreContext.builder().provider(CryptoProviders.byName(provider)).name("server")
                .masterSecret(secret).masterSalt(salt).senderId(new byte[] {1}).recipientId(new byte[0])
                .stateStore(SecurityStateStore.open(state.resolve("server"), 100)).build();

        AtomicInteger rejected = new AtomicInteger();
        AtomicReference<byte[]> firstRequest = new AtomicReference<>();
        FlowTrace flow = new FlowTrace(out, "Client", "Server");
        SecurityTrace clientTrace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REQUEST_PROTECTED && firstRequest.get() == null) {
                firstRequest.set(new UdpDataSerializer().getByteArray(wire));
            }
            flow.onMessage(event, plain, wire, info);
        };
        SecurityTrace serverTrace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REJECTED) {
                rejected.incrementAndGet();
                out.println("            server rejected a request: " + info.note());
            }
        };
        CoapServer server = new CoapServer(Endpoints.configuration());
        CoapEndpoint serverEndpoint = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .configuration(Endpoints.configuration()).serverContexts(new InMemoryContextDb().add(serverCtx))
                .trace(serverTrace).build();
        server.addEndpoint(serverEndpoint);
        ScheduledExecutorService ticker = DemoResources.install(server, 300);
        server.start();
        CoapEndpoint clientEndpoint = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .configuration(Endpoints.configuration())
                .clientBinding(new ClientContextBinding().endpointDefault(clientCtx)).trace(clientTrace).build();
        InetSocketAddress sa = serverEndpoint.getAddress();
        String base = "coap://127.0.0.1:" + sa.getPort();
        int failures = 0;
        int requests = 0;
        out.println("Coterie OSCORE demo: client and server on loopback, contexts of RFC 8613 Appendix C.1");
        out.println("(client Sender ID '' and server Sender ID 01; state in " + state + ")\n");
        try {
            failures += step("1. GET /hello", clientEndpoint, base + "/hello", Code.GET, null);
            failures += step("2. POST /echo", clientEndpoint, base + "/echo", Code.POST, "ping");
            failures += step("3. PUT /echo", clientEndpoint, base + "/echo", Code.PUT, "lamp=on");
            failures += step("4. GET /echo", clientEndpoint, base + "/echo", Code.GET, null);
            failures += step("5. DELETE /echo", clientEndpoint, base + "/echo", Code.DELETE, null);
            failures += step("6. FETCH /echo", clientEndpoint, base + "/echo", Code.FETCH, "which lamps are on?");
            failures += step("7. GET /large (2 KiB, inner block-wise: every block is protected on its own)",
                    clientEndpoint, base + "/large", Code.GET, null);
            requests += 7;
            failures += observe(clientEndpoint, base + "/observe");
            requests++;

            out.println("== 9. An attacker replays the first protected request (same bytes, same Partial IV)");
            Response replayAnswer = sendRaw(sa, firstRequest.get());
            out.println("            answer: " + (replayAnswer == null ? "none" : replayAnswer.getCode() + " "
                    + replayAnswer.getPayloadString() + ", Max-Age " + replayAnswer.getOptions().getMaxAge()));
            if (replayAnswer == null || !"Replay detected".equals(replayAnswer.getPayloadString())) {
                failures++;
            }
            out.println();
            out.println("== 10. A plaintext request to the OSCORE-only server");
            Request plain = Request.newGet();
            plain.setMID(4242);
            plain.setToken(new byte[] {0x42});
            plain.getOptions().addUriPath("hello");
            Response plainAnswer = sendRaw(sa, new UdpDataSerializer().getByteArray(plain));
            out.println("            answer: " + (plainAnswer == null ? "none" : plainAnswer.getCode() + " "
                    + plainAnswer.getPayloadString()));
            if (plainAnswer == null || plainAnswer.getCode().value != 0x81) {
                failures++;
            }
        } finally {
            clientEndpoint.destroy();
            ticker.shutdownNow();
            server.destroy();
            clientCtx.close();
            serverCtx.close();
        }
        out.println();
        out.println("Summary: " + requests + " protected exchanges, client sender sequence now "
                + clientCtx.senderSequence().peek() + ", server rejected " + rejected.get()
                + " request(s), " + failures + " unexpected result(s)");
        out.println();
        failures += new DemoProxyScene(out, CryptoProviders.byName(provider), state).run();
        if (!noGroup) {
            failures += runGroupPartInPrivateNamespace();
        }
        return failures == 0 ? 0 : 1;
    }

    private int step(String title, CoapEndpoint endpoint, String uri, Code code, String payload) {
        out.println("== " + title);
        CoapClient client = new CoapClient(uri).setEndpoint(endpoint).setTimeout(5000L);
        try {
            Request r = new Request(code);
            if (payload != null) {
                r.setPayload(payload);
            }
            CoapResponse resp = client.advanced(r);
            if (resp == null) {
                out.println("            no response");
                return 1;
            }
            out.println("            => " + resp.getCode() + " " + resp.getCode().name()
                    + (resp.getPayloadSize() > 0 && resp.getPayloadSize() <= 64 ? " \"" + resp.getResponseText() + "\""
                    : resp.getPayloadSize() > 64 ? " (" + resp.getPayloadSize() + " bytes)" : ""));
            out.println();
            return resp.isSuccess() ? 0 : 1;
        } catch (Exception e) {
            out.println("            failed: " + e.getMessage());
            return 1;
        } finally {
            client.shutdown();
        }
    }

    private int observe(CoapEndpoint endpoint, String uri) throws InterruptedException {
        out.println("== 8. Observe /observe: every notification gets a fresh Partial IV; inner Observe is empty");
        CoapClient client = new CoapClient(uri).setEndpoint(endpoint).setTimeout(5000L);
        CountDownLatch three = new CountDownLatch(3);
        CoapObserveRelation rel = client.observe(new CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                three.countDown();
            }

            @Override
            public void onError() {
            }
        });
        boolean ok = three.await(10, TimeUnit.SECONDS);
        rel.proactiveCancel();
        Thread.sleep(300);
        client.shutdown();
        out.println("            => " + (ok ? "3 notifications verified, observation cancelled" : "notifications missing"));
        out.println();
        return ok ? 0 : 1;
    }

    private static Response sendRaw(InetSocketAddress to, byte[] bytes) throws Exception {
        try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            s.setSoTimeout(3000);
            s.send(new DatagramPacket(bytes, bytes.length, to));
            byte[] buf = new byte[2048];
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                s.receive(p);
            } catch (java.net.SocketTimeoutException e) {
                return null;
            }
            byte[] got = java.util.Arrays.copyOf(buf, p.getLength());
            Message m = new UdpDataParser().parseMessage(got);
            return m instanceof Response r ? r : null;
        }
    }
}
