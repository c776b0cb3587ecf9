package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import dev.coterie.oscore.tcp.TlsFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's client-facing coap+tcp and coaps+tcp listeners (RFC 8323): forwarding to UDP
 * origins, TLS server and client certificates, access control by certificate, the OSCORE hop and
 * end-to-end OSCORE over TCP, the connection limits, and Observe relayed to a TCP client. Loopback
 * only; every wait is bounded.
 */
@Timeout(120)
class ProxyTcpTest {
    /** The password of the tests' key stores: surefire sets this variable (proxy/pom.xml). */
    static final String PASS_ENV = "COTERIE_PROXY_TEST_STORE_PASS";
    static final TcpLimits CLIENT_LIMITS = TcpLimits.DEFAULTS;

    @TempDir
    Path tmp;
    private Origin origin;

    @BeforeEach
    void start() {
        origin = new Origin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    private String reverseAndForward(String extra) {
        int p = origin.port();
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 3000}\n"
                + "routes: [{path_prefix: /r, origin: '127.0.0.1:" + p + "', strip_prefix: true}]\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + p + "'}]}]\n" + extra;
    }

    private static ProxyServer proxy(String yaml) throws Exception {
        return new ProxyServer(ProxyFixture.config(yaml), List.of(), Map.of()).start();
    }

    static CoapEndpoint endpoint(Connector connector, Configuration cfg) throws IOException {
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(connector)
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        ep.start();
        return ep;
    }

    static CoapEndpoint tcpClient() throws IOException {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        return endpoint(TcpConnectors.client(cfg, CLIENT_LIMITS), cfg);
    }

    /** A coaps+tcp client trusting {@code trustPem}, with the client certificate of {@code p12} when not null. */
    static CoapEndpoint tlsClient(Path trustPem, Path p12) throws IOException {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        String pass = System.getenv(PASS_ENV);
        return endpoint(TcpConnectors.tlsClient(TlsFiles.client(trustPem, p12, p12 == null ? null : pass.toCharArray()),
                "127.0.0.1", cfg, CLIENT_LIMITS), cfg);
    }

    /** Sends {@code r} to {@code uri} and waits for its response, or its send error, at most 10 s. */
    static Response send(CoapEndpoint ep, Request r, String uri) throws InterruptedException {
        r.setURI(uri);
        ep.sendRequest(r);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (r.getResponse() == null && r.getSendError() == null && !r.isRejected() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return r.getResponse();
    }

    private static Request forwardGet(String target) {
        Request r = Request.newGet();
        r.getOptions().setProxyUri(target);
        return r;
    }

    @Test
    void TCP_PX_01_coapTcpClientThroughListenTcpToAUdpOrigin_forwardAndReverse() throws Exception {
        try (ProxyServer px = proxy(reverseAndForward("listen_tcp: ['127.0.0.1:0']\n"))) {
            int tcp = px.tcpAddresses().get(0).getPort();
            assertTrue(px.tcpListeners().get(0).startsWith("coap+tcp://127.0.0.1:"), px.tcpListeners().toString());
            CoapEndpoint c = tcpClient();
            try {
                Request fwd = forwardGet("coap://127.0.0.1:" + origin.port() + "/sensors/temp");
                fwd.setToken(Hex.decode("a1a2a3a4"));
                Response r = send(c, fwd, "coap+tcp://127.0.0.1:" + tcp);
                assertNotNull(r, "an answer on the TCP connection");
                assertEquals(ResponseCode.CONTENT, r.getCode());
                assertEquals("21.5", r.getPayloadString());
                assertArrayEquals(Hex.decode("a1a2a3a4"), r.getTokenBytes(), "the client's Token on its connection");
                Request up = origin.last();
                assertEquals(List.of("sensors", "temp"), up.getOptions().getUriPath());
                assertFalse(up.getOptions().hasProxyUri());
                assertNotEquals(Message.NONE, up.getMID(), "the origin got a UDP message (with a Message ID)");
                assertNotNull(up.getType(), "and a type");
                assertFalse(java.util.Arrays.equals(Hex.decode("a1a2a3a4"), up.getTokenBytes()), "a Token of the proxy's own");

                Request rev = Request.newPost();
                rev.setPayload("over tcp");
                Response e = send(c, rev, "coap+tcp://127.0.0.1:" + tcp + "/r/echo");
                assertNotNull(e);
                assertEquals(ResponseCode.CHANGED, e.getCode());
                assertEquals("over tcp", e.getPayloadString());
                assertEquals(List.of("echo"), origin.last().getOptions().getUriPath(), "the route's prefix stripped");
                assertEquals(0, px.fastPathRequests(), "the UDP fast path never sees TCP");
            } finally {
                c.destroy();
            }
        }
    }

    // ---- TLS --------------------------------------------------------------------------------

    /** A self-signed EC certificate made with keytool: {PKCS#12 (password from PASS_ENV), PEM certificate}, owner-only. */
    static Path[] certificate(Path tmp, String name, String dn, String san) throws Exception {
        Path p12 = tmp.resolve(name + ".p12");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", name, "-dname", dn, "-validity", "2",
                "-keystore", p12.toString(), "-storetype", "PKCS12", "-storepass:env", PASS_ENV));
        if (san != null) {
            cmd.addAll(List.of("-ext", "SAN=" + san));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, System.getenv(PASS_ENV).toCharArray());
        }
        Path pem = tmp.resolve(name + ".pem");
        Files.writeString(pem, "-----BEGIN CERTIFICATE-----\n" + java.util.Base64.getMimeEncoder(64, new byte[] {'\n'})
                .encodeToString(ks.getCertificate(name).getEncoded()) + "\n-----END CERTIFICATE-----\n");
        for (Path f : List.of(p12, pem)) {
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        }
        return new Path[] {p12, pem};
    }

    static String spkiSha256(Path p12, String alias) throws Exception {
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(p12)) {
            ks.load(in, System.getenv(PASS_ENV).toCharArray());
        }
        return Hex.encode(java.security.MessageDigest.getInstance("SHA-256").digest(ks.getCertificate(alias).getPublicKey()
                .getEncoded()));
    }

    static String tlsSection(Path p12, Path clientTrust) {
        return "listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + p12 + "', keystore_pass_env: " + PASS_ENV
                + (clientTrust == null ? "" : ", client_trust: '" + clientTrust + "'") + "}\n";
    }

    @Test
    void TCP_PX_02_coapsTcpThroughListenTls_wrongServerCertificateRefused() throws Exception {
        Path[] server = certificate(tmp, "proxy", "CN=proxy", "IP:127.0.0.1");
        Path[] stranger = certificate(tmp, "stranger", "CN=stranger", "IP:127.0.0.1");
        try (ProxyServer px = proxy(reverseAndForward(tlsSection(server[0], null)))) {
            String uri = "coaps+tcp://127.0.0.1:" + px.tlsAddresses().get(0).getPort() + "/r/sensors/temp";
            CoapEndpoint good = tlsClient(server[1], null);
            try {
                Response r = send(good, Request.newGet(), uri);
                assertNotNull(r, "a client trusting the proxy's certificate gets the origin's answer");
                assertEquals(ResponseCode.CONTENT, r.getCode());
                assertEquals("21.5", r.getPayloadString());
            } finally {
                good.destroy();
            }
            CoapEndpoint wrong = tlsClient(stranger[1], null);
            try {
                Request get = Request.newGet();
                assertNull(send(wrong, get, uri), "a client that does not trust the proxy's certificate gets nothing");
                assertNotNull(get.getSendError(), "its handshake failed");
            } finally {
                wrong.destroy();
            }
            assertEquals(1, origin.temperatureReads.get(), "only the trusting client's request reached the origin");
        }
    }

    @Test
    void TCP_PX_02_clientTrustRequiresAClientCertificate() throws Exception {
        Path[] server = certificate(tmp, "proxy", "CN=proxy", "IP:127.0.0.1");
        Path[] device = certificate(tmp, "device", "CN=device-1,O=Coterie Test", null);
        // a client with a certificate is that certificate, never "unauthenticated": its rule names it
        String yaml = reverseAndForward(tlsSection(server[0], device[1])).replace("access: [", "access: [{client: {tls_subject: "
                + "'CN=device-1,O=Coterie Test'}, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}, ");
        try (ProxyServer px = proxy(yaml)) {
            String uri = "coaps+tcp://127.0.0.1:" + px.tlsAddresses().get(0).getPort() + "/r/sensors/temp";
            CoapEndpoint without = tlsClient(server[1], null);
            try {
                Request get = Request.newGet();
                assertNull(send(without, get, uri), "no client certificate: no answer");
            } finally {
                without.destroy();
            }
            assertEquals(0, origin.temperatureReads.get());
            CoapEndpoint with = tlsClient(server[1], device[0]);
            try {
                Response r = send(with, Request.newGet(), uri);
                assertNotNull(r, "with a certificate the trust store names: the origin's answer");
                assertEquals(ResponseCode.CONTENT, r.getCode());
            } finally {
                with.destroy();
            }
            assertEquals(1, origin.temperatureReads.get());
        }
    }

    @Test
    void TCP_PX_03_accessByTlsSubjectAndSpki() throws Exception {
        Path[] server = certificate(tmp, "proxy", "CN=proxy", "IP:127.0.0.1");
        Path[] byName = certificate(tmp, "alice", "CN=alice,O=Coterie Test", null);
        Path[] byKey = certificate(tmp, "bob", "CN=bob", null);
        Path[] other = certificate(tmp, "carol", "CN=carol", null);
        // the client trust store: all three client certificates
        Path trust = tmp.resolve("clients.pem");
        Files.writeString(trust, Files.readString(byName[1]) + Files.readString(byKey[1]) + Files.readString(other[1]));
        Files.setPosixFilePermissions(trust, PosixFilePermissions.fromString("rw-------"));
        int p = origin.port();
        origin.maxAge = 0; // every request to the origin, none from the cache
        String yaml = "listen: ['127.0.0.1:0']\nlimits: {upstream_timeout_ms: 3000}\n"
                + "routes: [{path_prefix: /r, origin: '127.0.0.1:" + p + "', strip_prefix: true}]\n"
                + tlsSection(server[0], trust)
                + "access:\n"
                // written unlike the certificate's "CN=alice, O=Coterie Test": names are compared in canonical form
                + "  - {client: {tls_subject: 'cn=alice,  o=coterie test'}, allow: [{origin: '127.0.0.1:" + p + "'}]}\n"
                + "  - {client: {tls_spki_sha256: '" + spkiSha256(byKey[0], "bob") + "'}, allow: [{origin: '127.0.0.1:" + p
                + "', path_prefix: /sensors}]}\n";
        try (ProxyServer px = proxy(yaml)) {
            String base = "coaps+tcp://127.0.0.1:" + px.tlsAddresses().get(0).getPort() + "/r/";
            for (Path[] allowed : List.of(byName, byKey)) {
                CoapEndpoint c = tlsClient(server[1], allowed[0]);
                try {
                    Response r = send(c, Request.newGet(), base + "sensors/temp");
                    assertNotNull(r);
                    assertEquals(ResponseCode.CONTENT, r.getCode(), allowed[0].toString());
                    assertEquals("21.5", r.getPayloadString());
                } finally {
                    c.destroy();
                }
            }
            CoapEndpoint bob = tlsClient(server[1], byKey[0]);
            try {
                Request post = Request.newPost();
                post.setPayload("x");
                Response r = send(bob, post, base + "echo");
                assertEquals(ResponseCode.UNAUTHORIZED, r.getCode(), "bob's rule covers /sensors only");
            } finally {
                bob.destroy();
            }
            CoapEndpoint carol = tlsClient(server[1], other[0]);
            try {
                Response r = send(carol, Request.newGet(), base + "sensors/temp");
                assertNotNull(r, "a trusted certificate that no rule names is answered");
                assertEquals(ResponseCode.UNAUTHORIZED, r.getCode(), "with the ACL's refusal");
            } finally {
                carol.destroy();
            }
            assertEquals(2, origin.temperatureReads.get(), "alice and bob reached the origin, carol did not");
        }
    }

    // ---- OSCORE over the TCP listener ------------------------------------------------------

    private static final byte[] HOP_SECRET = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] E2E_SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SERVER = {0x05};
    private static final byte[] PROXY = {0x0b};

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(tmp, name, secret, SALT, sender, recipient);
    }

    private static CoapEndpoint oscoreTcpClient(RequestProtector view, List<Request> sent) throws IOException {
        Configuration cfg = OscoreEndpointBuilder.defaultConfiguration();
        CoapEndpoint ep = new OscoreEndpointBuilder().configuration(cfg).connector(TcpConnectors.client(cfg, CLIENT_LIMITS))
                .clientBinding(new ClientContextBinding().endpointDefault(view)).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void sendRequest(Request request) {
                sent.add(request);
            }
        });
        ep.start();
        return ep;
    }

    @Test
    void TCP_PX_04_oscoreHopOverTcpToAUdpOrigin() throws Exception {
        int p = origin.port();
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlisten_tcp: ['127.0.0.1:0']\n"
                + "limits: {upstream_timeout_ms: 3000}\naccess:\n  - {client: {kid: '" + Hex.encode(CLIENT)
                + "'}, allow: [{origin: '127.0.0.1:" + p + "', path_prefix: /sensors}]}\n";
        OscoreContext proxySide = context("proxy-hop", HOP_SECRET, PROXY, CLIENT);
        try (ProxyServer px = new ProxyServer(ProxyFixture.config(yaml), List.of(proxySide), Map.of()).start()) {
            String uri = "coap+tcp://127.0.0.1:" + px.tcpAddresses().get(0).getPort();
            List<Request> sent = new CopyOnWriteArrayList<>();
            CoapEndpoint c = oscoreTcpClient(RequestProtector.forProxy(context("client-hop", HOP_SECRET, CLIENT, PROXY)
                    .protector()), sent);
            try {
                Response r = send(c, forwardGet("coap://127.0.0.1:" + p + "/sensors/temp"), uri);
                assertNotNull(r);
                assertEquals(ResponseCode.CONTENT, r.getCode());
                assertEquals("21.5", r.getPayloadString());
                assertNotNull(dev.coterie.oscore.OscorePeer.of(r), "the answer came back under the hop layer, verified");
                Request wire = sent.get(0);
                assertTrue(wire.getOptions().hasOscore());
                assertFalse(wire.getOptions().hasProxyUri(), "Proxy-Uri encrypted for the proxy (OCP-03)");
                assertEquals(1.0, px.metrics().layersRemoved());
                assertEquals(List.of("sensors", "temp"), origin.last().getOptions().getUriPath());

                Request post = Request.newPost();
                post.getOptions().setProxyUri("coap://127.0.0.1:" + p + "/echo");
                Response d = send(c, post, uri);
                assertEquals(ResponseCode.UNAUTHORIZED, d.getCode(), "outside the hop context's rule");
                assertNotNull(dev.coterie.oscore.OscorePeer.of(d), "the refusal protected on the hop");
            } finally {
                c.destroy();
            }
            CoapEndpoint plain = tcpClient();
            try {
                Response u = send(plain, forwardGet("coap://127.0.0.1:" + p + "/sensors/temp"), uri);
                assertEquals(ResponseCode.UNAUTHORIZED, u.getCode(), "unauthenticated over TCP: no rule");
            } finally {
                plain.destroy();
            }
            assertEquals(1, origin.temperatureReads.get());
        }
    }

    @Test
    void OSC_21_TCP_endToEndOscoreFromATcpClientPassesUntouchedToAUdpServer() throws Exception {
        InMemoryContextDb db = new InMemoryContextDb().add(context("server-e2e", E2E_SECRET, SERVER, CLIENT));
        List<Request> atServer = new CopyOnWriteArrayList<>();
        CoapEndpoint sep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).serverContexts(db).build();
        sep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atServer.add(request);
            }
        });
        CoapServer s = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        s.addEndpoint(sep);
        s.add(new CoapResource("secret") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "hello");
            }
        });
        s.start();
        int sp = sep.getAddress().getPort();
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlisten_tcp: ['127.0.0.1:0']\n"
                + "limits: {upstream_timeout_ms: 3000}\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + sp + "'}]}]\n";
        try (ProxyServer px = proxy(yaml)) {
            List<Request> sent = new CopyOnWriteArrayList<>();
            CoapEndpoint c = oscoreTcpClient(context("client-e2e", E2E_SECRET, CLIENT, SERVER).protector(), sent);
            try {
                Response r = send(c, forwardGet("coap://127.0.0.1:" + sp + "/secret"),
                        "coap+tcp://127.0.0.1:" + px.tcpAddresses().get(0).getPort());
                assertNotNull(r);
                assertEquals(ResponseCode.CONTENT, r.getCode());
                assertEquals("hello", r.getPayloadString());
                Request wire = sent.get(0);
                Request there = atServer.get(0);
                assertArrayEquals(wire.getOptions().getOscore(), there.getOptions().getOscore(), "OSCORE option untouched");
                assertArrayEquals(wire.getPayload(), there.getPayload(), "ciphertext untouched");
                assertNotEquals(Message.NONE, there.getMID(), "it went on over UDP");
                assertEquals(0.0, px.metrics().layersRemoved(), "the proxy removed no layer");
            } finally {
                c.destroy();
            }
        } finally {
            s.destroy();
        }
    }

    // ---- limits -----------------------------------------------------------------------------

    /** An RFC 8323 frame: Len|TKL (with extended length), code, token, then options and payload. */
    static byte[] frame(int code, byte[] token, byte[] rest) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = rest.length;
        if (n < 13) {
            out.write(n << 4 | token.length);
        } else if (n < 269) {
            out.write(13 << 4 | token.length);
            out.write(n - 13);
        } else {
            out.write(14 << 4 | token.length);
            out.write((n - 269) >>> 8);
            out.write((n - 269) & 0xFF);
        }
        out.write(code);
        out.writeBytes(token);
        out.writeBytes(rest);
        return out.toByteArray();
    }

    /** CSM with Max-Message-Size 1152 (RFC 8323 Section 5.3.1). */
    static final byte[] CSM = frame(0xE1, new byte[0], Hex.decode("220480"));

    /** POST /r/echo with {@code payload}: Uri-Path "r", "echo". */
    static byte[] postEcho(byte[] token, int payload) {
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        rest.writeBytes(Hex.decode("b172")); // Uri-Path "r"
        rest.writeBytes(Hex.decode("046563686f")); // Uri-Path "echo"
        rest.write(0xFF);
        byte[] p = new byte[payload];
        java.util.Arrays.fill(p, (byte) 'x');
        rest.writeBytes(p);
        return frame(0x02, token, rest.toByteArray());
    }

    /** The code of each frame {@code s} reads until it closes or {@code ms} pass; "closed" last when it closed. */
    static List<String> read(Socket s, int ms) throws IOException {
        s.setSoTimeout(ms);
        List<String> out = new ArrayList<>();
        InputStream in = s.getInputStream();
        try {
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    out.add("closed");
                    return out;
                }
                int len = b0 >>> 4;
                int tkl = b0 & 0x0F;
                if (len == 13) {
                    len = in.read() + 13;
                } else if (len == 14) {
                    len = (in.read() << 8 | in.read()) + 269;
                } else if (len == 15) {
                    throw new IOException("unexpected 4-byte length");
                }
                int code = in.read();
                in.readNBytes(tkl + len);
                out.add((code >>> 5) + "." + String.format("%02d", code & 0x1F));
                if (out.contains("2.04") || out.contains("4.13")) {
                    return out;
                }
            }
        } catch (java.net.SocketTimeoutException e) {
            return out;
        } catch (java.net.SocketException e) {
            out.add("closed"); // reset
            return out;
        }
    }

    @Test
    void TCP_PX_05_limits_connectionsFrameTimeoutAndMessageSize() throws Exception {
        String tcp = "listen_tcp: ['127.0.0.1:0']\ntcp: {max_connections: 2, idle_timeout_s: 30, frame_timeout_ms: 800, "
                + "max_message_size: 256}\n";
        try (ProxyServer px = proxy(reverseAndForward(tcp))) {
            int port = px.tcpAddresses().get(0).getPort();
            try (Socket a = new Socket("127.0.0.1", port); Socket b = new Socket("127.0.0.1", port)) {
                a.getOutputStream().write(CSM);
                b.getOutputStream().write(CSM);
                // positive control: within the size limit, answered
                a.getOutputStream().write(postEcho(new byte[] {1}, 100));
                List<String> got = read(a, 5000);
                assertTrue(got.contains("7.01"), "the proxy's CSM: " + got);
                assertTrue(got.contains("2.04"), "a 100-byte POST is forwarded and answered: " + got);
                try (Socket c = new Socket("127.0.0.1", port)) {
                    c.getOutputStream().write(CSM);
                    List<String> third = read(c, 5000);
                    assertEquals("closed", third.get(third.size() - 1), "a third connection is closed: " + third);
                }
                assertEquals(1, px.metrics().tcpConnectionsRefused(false), "counted as refused");
                assertEquals(0, px.metrics().tcpConnectionsRefused(true));
                assertTrue(px.metrics().scrape().contains("coterie_proxy_tcp_connections_refused_total{transport=\"tcp\"} 1.0"),
                        "in the admin endpoint's metrics");
                // over max_message_size: Abort, closed, never forwarded
                for (int i = 0; i < 100 && px.metrics().tcpConnections(false) != 2; i++) {
                    Thread.sleep(20);
                }
                assertEquals(2, px.metrics().tcpConnections(false), "two open: the refused one is gone");
                int before = origin.received.size();
                b.getOutputStream().write(postEcho(new byte[] {2}, 300));
                List<String> big = read(b, 5000);
                assertTrue(big.contains("7.05"), "Abort for a frame over Max-Message-Size: " + big);
                assertEquals("closed", big.get(big.size() - 1), big.toString());
                assertEquals(before, origin.received.size(), "the large request never reached the origin");
            }
            // slowloris: a frame's first bytes and then nothing; positive control above (whole frames answered)
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.getOutputStream().write(CSM);
                byte[] post = postEcho(new byte[] {3}, 20);
                s.getOutputStream().write(java.util.Arrays.copyOf(post, 4));
                List<String> got = read(s, 10_000);
                assertEquals("closed", got.get(got.size() - 1), "closed after frame_timeout_ms: " + got);
                assertFalse(got.contains("2.04"));
            }
        }
    }

    // ---- Observe ----------------------------------------------------------------------------

    @Test
    void TCP_PX_OBS_notificationsReachTheTcpClient_closingTheConnectionCancelsUpstream() throws Exception {
        AtomicInteger state = new AtomicInteger();
        CoapServer o = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        CoapEndpoint oep = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        o.addEndpoint(oep);
        CoapResource alarm = new CoapResource("alarm") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "state " + state.get());
            }
        };
        alarm.setObservable(true);
        o.add(alarm);
        o.start();
        int op = oep.getAddress().getPort();
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlisten_tcp: ['127.0.0.1:0']\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + op + "'}]}]\n";
        try (ProxyServer px = proxy(yaml)) {
            CoapEndpoint c = tcpClient();
            BlockingQueue<Response> got = new LinkedBlockingQueue<>();
            try {
                Request obs = forwardGet("coap://127.0.0.1:" + op + "/alarm");
                obs.setObserve();
                obs.addMessageObserver(new MessageObserverAdapter() {
                    @Override
                    public void onResponse(Response response) {
                        got.add(response);
                    }
                });
                c.addNotificationListener((req, resp) -> got.add(resp)); // notifications come here, not to obs
                obs.setURI("coap+tcp://127.0.0.1:" + px.tcpAddresses().get(0).getPort());
                c.sendRequest(obs);
                Response first = got.poll(10, TimeUnit.SECONDS);
                assertNotNull(first);
                assertEquals("state 0", first.getPayloadString());
                assertTrue(first.getOptions().hasObserve(), "registered through the proxy");
                assertEquals(1, alarm.getObserverCount(), "the proxy observes upstream");
                assertEquals(1, px.metrics().observers().get());
                state.set(1);
                alarm.changed();
                Response second = got.poll(10, TimeUnit.SECONDS);
                assertNotNull(second, "a notification on the TCP connection");
                assertEquals("state 1", second.getPayloadString());
                assertTrue(second.getOptions().getObserve() > first.getOptions().getObserve(), "a later Observe number");
            } finally {
                c.destroy(); // closes the connection without a deregistration
            }
            for (int i = 0; i < 200 && alarm.getObserverCount() > 0; i++) {
                Thread.sleep(50);
            }
            assertEquals(0, alarm.getObserverCount(), "the connection closed: the upstream observation was cancelled");
            assertEquals(0, px.metrics().observers().get());
        } finally {
            o.destroy();
        }
    }

    @Test
    void TCP_PX_OBS_aConnectionClosedBeforeTheFirstNotificationLeavesNoObserver() throws Exception {
        java.util.concurrent.CountDownLatch registered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        CoapServer o = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        CoapEndpoint oep = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        o.addEndpoint(oep);
        CoapResource slow = new CoapResource("slow-alarm") {
            @Override
            public void handleGET(CoapExchange exchange) {
                registered.countDown();
                new Thread(() -> {
                    try {
                        closed.await(10, TimeUnit.SECONDS); // answered only once the client's connection is gone
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    exchange.respond(ResponseCode.CONTENT, "first");
                }).start();
            }
        };
        slow.setObservable(true);
        o.add(slow);
        o.start();
        int op = oep.getAddress().getPort();
        String yaml = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlisten_tcp: ['127.0.0.1:0']\n"
                + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:" + op + "'}]}]\n";
        try (ProxyServer px = proxy(yaml)) {
            CoapEndpoint c = tcpClient();
            try {
                Request obs = forwardGet("coap://127.0.0.1:" + op + "/slow-alarm");
                obs.setObserve();
                obs.setURI("coap+tcp://127.0.0.1:" + px.tcpAddresses().get(0).getPort());
                c.sendRequest(obs);
                assertTrue(registered.await(10, TimeUnit.SECONDS), "the registration reached the origin");
            } finally {
                c.destroy(); // before the first notification
            }
            for (int i = 0; i < 100 && px.metrics().tcpConnections(false) > 0; i++) {
                Thread.sleep(20);
            }
            assertEquals(0, px.metrics().tcpConnections(false), "the proxy saw the close");
            closed.countDown();
            for (int i = 0; i < 200 && !(slow.getObserverCount() == 0 && px.metrics().observers().get() == 0
                    && px.metrics().inFlight().get() == 0); i++) {
                Thread.sleep(50);
            }
            assertEquals(0, px.metrics().observers().get(), "no observer left at the proxy");
            assertEquals(0, slow.getObserverCount(), "nor upstream: the proxy cancelled its registration");
        } finally {
            o.destroy();
        }
    }
}
