package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.RequestProtector;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy daemon ({@code coterie proxy}, a separate process) is killed with SIGKILL under load
 * and restarted from its state, three times. Its hop context towards the origin must never reuse
 * a sequence number (every Partial IV the origin receives from it is new: OSC-15), and its
 * client, whose hop context the proxy verifies, carries on after the Echo exchange (the proxy's
 * replay window for it is not trusted after the crash: RFC 8613 Appendix B.1.2). Bounded: three
 * runs of under a second of load each.
 */
class ProxySigkillTest {
    private static final String SECRET_CLIENT_HOP = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf";
    private static final String SECRET_ORIGIN_HOP = "b0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
    private static final String SALT = "9e7ca92223786340";

    @TempDir
    Path dir;

    private static OscoreContext context(String name, String secret, byte[] sender, byte[] recipient, Path state) throws Exception {
        return OscoreContext.builder().name(name).masterSecret(SecretBytes.fromHex(secret)).masterSalt(Hex.decode(SALT))
                .senderId(sender).recipientId(recipient).stateStore(SecurityStateStore.open(state, 8)).build();
    }

    private Path contextFile(String name, String secret, String sender, String recipient) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\"name\": \"" + name + "\", \"master_secret\": \"" + secret + "\", \"master_salt\": \"" + SALT
                + "\", \"sender_id\": \"" + sender + "\", \"recipient_id\": \"" + recipient + "\", \"replay_window\": 32, "
                + "\"state_dir\": \"state-" + name + "\", \"sequence_block\": 8}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private static int freePort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void OSC_15_B_1_2_aKilledProxyNeverReusesAHopSequenceNumber_andItsClientCarriesOnAfterEcho() throws Exception {
        // the origin: an OSCORE server for the proxy's origin hop, recording every Partial IV it receives
        List<Long> pivs = new CopyOnWriteArrayList<>();
        OscoreContext originSide = context("origin-hop", SECRET_ORIGIN_HOP, new byte[] {0x05}, new byte[] {0x0b},
                dir.resolve("origin-state"));
        CoapEndpoint originEp = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverContexts(new InMemoryContextDb().add(originSide)).build();
        originEp.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                try {
                    OscoreOptionValue v = OscoreOptionValue.decode(request.getOptions().getOscore(), false);
                    long piv = 0;
                    for (byte b : v.partialIv()) {
                        piv = (piv << 8) | (b & 0xff);
                    }
                    pivs.add(piv);
                } catch (Exception notOscore) {
                    // counted as nothing
                }
            }
        });
        CoapServer origin = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        origin.addEndpoint(originEp);
        origin.add(new CoapResource("hello") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "hello");
            }
        });
        origin.start();
        int originPort = originEp.getAddress().getPort();
        int proxyPort = freePort();
        contextFile("proxy-client", SECRET_CLIENT_HOP, "0b", "0c");
        contextFile("proxy-origin", SECRET_ORIGIN_HOP, "0b", "05");
        Path cfg = Files.writeString(dir.resolve("proxy.yaml"), "listen: ['127.0.0.1:" + proxyPort + "']\n"
                + "forward_proxy: true\ncache: {enabled: false}\nclient_contexts: [proxy-client.json]\n"
                + "origin_contexts: [{origin: '127.0.0.1:" + originPort + "', context: proxy-origin.json}]\n"
                + "access: [{client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + originPort + "'}]}]\n");
        OscoreContext clientSide = context("client-hop", SECRET_CLIENT_HOP, new byte[] {0x0c}, new byte[] {0x0b},
                dir.resolve("client-state"));
        CoapEndpoint client = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .clientBinding(new ClientContextBinding().endpointDefault(RequestProtector.forProxy(clientSide.protector())))
                .build();
        client.start();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        List<Integer> answeredPerRun = new ArrayList<>();
        try {
            for (int run = 0; run < 3; run++) {
                Process proxy = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", cp,
                        "dev.coterie.app.Coterie", "proxy", "--config", cfg.toString())
                        .directory(dir.toFile()).redirectErrorStream(true).start();
                try {
                    BufferedReader out = new BufferedReader(new InputStreamReader(proxy.getInputStream(), StandardCharsets.UTF_8));
                    String line;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while ((line = out.readLine()) != null && !line.startsWith("coterie proxy listening")) {
                        assertTrue(System.nanoTime() < deadline, "the proxy did not start");
                    }
                    assertTrue(line != null, "the proxy exited before listening");
                    Thread drain = new Thread(() -> {
                        try {
                            while (out.readLine() != null) {
                                // keep the pipe empty
                            }
                        } catch (Exception ignored) {
                            // killed
                        }
                    });
                    drain.setDaemon(true);
                    drain.start();
                    int answered = 0;
                    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(700);
                    while (System.nanoTime() < end) {
                        Request r = Request.newGet();
                        r.getOptions().setProxyUri("coap://127.0.0.1:" + originPort + "/hello");
                        r.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", proxyPort)));
                        client.sendRequest(r);
                        Response resp = r.waitForResponse(3000);
                        if (resp != null && resp.getCode() == ResponseCode.CONTENT && resp.getPayloadString().equals("hello")) {
                            answered++;
                        }
                    }
                    answeredPerRun.add(answered);
                } finally {
                    proxy.destroyForcibly(); // SIGKILL, in the middle of the load
                    assertTrue(proxy.waitFor(10, TimeUnit.SECONDS));
                }
            }
        } finally {
            client.destroy();
            origin.destroy();
        }
        for (int i = 0; i < answeredPerRun.size(); i++) {
            assertTrue(answeredPerRun.get(i) > 0, "run " + i + ": the client carried on (after the Echo exchange from "
                    + "the second run on): " + answeredPerRun);
        }
        Set<Long> unique = new HashSet<>(pivs);
        assertTrue(pivs.size() > 3, "the proxy protected requests to the origin: " + pivs.size());
        assertEquals(pivs.size(), unique.size(), "no Partial IV of the proxy's origin hop was used twice");
    }
}
