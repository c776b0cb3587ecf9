package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * libcoap 4.3.1's coap-client as an independent client of the Coterie proxy's coap+tcp and
 * coaps+tcp listeners (RFC 8323), through a reverse route to a Californium origin on UDP. The
 * proxy runs in this JVM; its key store password comes from the environment variable that
 * tests/pom.xml sets for surefire. Fails, never skips, when libcoap cannot be installed.
 */
@Timeout(180)
class LibcoapTcpThroughProxyTest {
    static final String PASS_ENV = "COTERIE_PROXY_TEST_STORE_PASS";
    static Libcoap libcoap;

    @TempDir
    Path dir;
    private LibcoapThroughProxyTest.RecordingOrigin origin;

    @BeforeAll
    static void libcoapIsThere() {
        libcoap = Libcoap.ensure();
        assertEquals(TcpInteropTest.STORE_PASS, System.getenv(PASS_ENV), "tests/pom.xml sets " + PASS_ENV + " for surefire");
    }

    @BeforeEach
    void start() {
        origin = new LibcoapThroughProxyTest.RecordingOrigin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    private String routed(String extra) {
        int p = origin.endpoint.getAddress().getPort();
        return "listen: ['127.0.0.1:0']\nlimits: {upstream_timeout_ms: 5000}\n"
                + "routes: [{path_prefix: /r, origin: '127.0.0.1:" + p + "', strip_prefix: true}]\n" + extra;
    }

    private TcpInteropTest.Credential credential(String name, String san) throws Exception {
        TcpInteropTest certs = new TcpInteropTest();
        certs.dir = dir;
        return certs.credential(name, san);
    }

    @Test
    void TCP_PX_libcoapClientOverCoapTcpThroughAReverseRouteToAUdpOrigin() throws Exception {
        String yaml = routed("listen_tcp: ['127.0.0.1:0']\naccess: [{client: unauthenticated, allow: [{origin: '*'}]}]\n");
        try (ProxyUnderTest px = new ProxyUnderTest(yaml)) {
            int port = px.proxy.tcpAddresses().get(0).getPort();
            Libcoap.Run r = libcoap.client(dir, 5, List.of("-m", "get"), "coap+tcp://127.0.0.1:" + port + "/r/hello");
            assertEquals(0, r.exit(), r.log());
            assertEquals("hello from Californium", new String(r.body(), StandardCharsets.UTF_8), r.log());
            assertEquals(1, origin.wire.size(), "one request reached the origin");
            Request up = origin.wire.get(0);
            assertEquals(List.of("hello"), up.getOptions().getUriPath());
            assertTrue(up.getMID() != Message.NONE && up.getType() != null, "over UDP, with a type and a Message ID");
        }
    }

    @Test
    void TCP_PX_libcoapClientOverCoapsTcpWithAClientCertificate_withoutOneRefused() throws Exception {
        TcpInteropTest.Credential server = credential("proxy", "ip:127.0.0.1");
        TcpInteropTest.Credential device = credential("libcoap", "dns:libcoap");
        String yaml = routed("listen_tls: {listen: ['127.0.0.1:0'], keystore: '" + server.p12() + "', keystore_pass_env: "
                + PASS_ENV + ", client_trust: '" + device.certPem() + "'}\n"
                + "access: [{client: {tls_subject: 'CN=libcoap'}, allow: [{origin: '*'}]}]\n");
        Libcoap tls = libcoap.tls();
        try (ProxyUnderTest px = new ProxyUnderTest(yaml)) {
            String uri = "coaps+tcp://127.0.0.1:" + px.proxy.tlsAddresses().get(0).getPort() + "/r/hello";
            Libcoap.Run ok = tls.client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString(), "-c",
                    device.certPem().toString(), "-j", device.keyPem().toString()), uri);
            assertEquals("hello from Californium", new String(ok.body(), StandardCharsets.UTF_8), ok.log());
            assertEquals(1, origin.wire.size());

            Libcoap.Run none = tls.client(dir, 5, List.of("-m", "get", "-R", server.certPem().toString()), uri);
            assertFalse(new String(none.body(), StandardCharsets.UTF_8).contains("hello"), "no client certificate: "
                    + none.log());
            assertEquals(1, origin.wire.size(), "nothing more reached the origin");
            assertFalse(none.log().contains(TcpInteropTest.STORE_PASS));
        }
    }
}
