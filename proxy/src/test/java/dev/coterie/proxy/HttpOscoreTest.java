package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.ProtectionPipeline;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OSCORE over HTTP (RFC 8613 Section 11) through the front end: an HTTP client holding the
 * end-to-end context protects its CoAP request, sends it as a POST with the OSCORE header field
 * and an application/oscore body (curl), and verifies the response it gets back; the Coterie
 * OSCORE server behind the proxy gets the OSCORE option and the ciphertext exactly as the client
 * made them (the proxy has no keys).
 */
class HttpOscoreTest {
    private static final byte[] SECRET = Hex.decode("0102030405060708090a0b0c0d0e0f10");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SERVER = {0x05};
    private static Curl curl;

    @TempDir
    Path state;
    private CoapServer server;
    private final List<Request> atOrigin = new CopyOnWriteArrayList<>();
    private int port;

    @BeforeAll
    static void curl() throws Exception {
        curl = Curl.ensure();
    }

    @BeforeEach
    void origin() throws Exception {
        InMemoryContextDb db = new InMemoryContextDb().add(HopContexts.open(state, "server", SECRET, SALT, SERVER, CLIENT));
        CoapEndpoint ep = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).serverContexts(db).build();
        ep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atOrigin.add(request); // as it came off the wire, before the OSCORE layer
            }
        });
        server = new CoapServer(OscoreEndpointBuilder.defaultConfiguration());
        server.addEndpoint(ep);
        server.add(new CoapResource("orders") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "Exterminate! Exterminate!",
                        org.eclipse.californium.core.coap.MediaTypeRegistry.TEXT_PLAIN);
            }
        });
        server.start();
        port = ep.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.destroy();
    }

    @Test
    void OSC_24_OSC_21_anEndToEndProtectedRequestCrossesTheHttpFrontEndUntouched() throws Exception {
        String access = "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + port + "'}]}\n";
        try (ProxyFixture f = new ProxyFixture(HttpFrontEndTest.config(access, ""))) {
            ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
            OscoreContext client = HopContexts.open(state, "client", SECRET, SALT, CLIENT, SERVER);
            Request plain = Request.newGet();
            plain.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/orders");
            ProtectionPipeline.ProtectedRequest p = pipeline.protectRequest(plain, client.protector());
            Request wire = p.wire();
            assertEquals("coap://127.0.0.1:" + port, wire.getOptions().getProxyUri(), "scheme and authority stay outer");
            String field = Base64.getUrlEncoder().withoutPadding().encodeToString(wire.getOptions().getOscore());
            Path body = Files.write(state.resolve("request.bin"), wire.getPayload());
            String url = "http://127.0.0.1:" + f.proxy.httpAddress().getPort() + "/hc/" + wire.getOptions().getProxyUri();
            Curl.Reply r = curl.run(state, List.of("-H", "OSCORE: " + field, "-H", "Content-Type: application/oscore",
                    "--data-binary", "@" + body), url);
            // RFC 8613 11.2: the OSCORE option of the 2.04 in the field (AA when empty), the body application/oscore
            assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.toString());
            assertEquals(List.of("oscore", "content-type", "cache-control", "content-length"), r.names(), r.toString());
            assertEquals("application/oscore", r.header("Content-Type"));
            assertEquals("no-cache", r.header("Cache-Control"));
            Request there = atOrigin.get(0);
            assertArrayEquals(wire.getOptions().getOscore(), there.getOptions().getOscore(), "OSCORE option untouched");
            assertArrayEquals(wire.getPayload(), there.getPayload(), "ciphertext untouched");
            assertEquals(org.eclipse.californium.core.coap.CoAP.Code.POST, there.getCode());
            assertFalse(there.getOptions().hasContentFormat(), "RFC 8613 11.3: no Content-Format on the CoAP side");
            // the client maps the HTTP response back (11.3) and verifies it end to end
            Response back = new Response(ResponseCode.CHANGED);
            String v = r.header("OSCORE");
            back.getOptions().setOscore(v.equals("AA") ? new byte[0] : Base64.getUrlDecoder().decode(v));
            back.setPayload(r.body());
            Response inner = pipeline.unprotectResponse(back, p.identifiers()).plain();
            assertEquals(ResponseCode.CONTENT, inner.getCode());
            assertEquals("Exterminate! Exterminate!", inner.getPayloadString());
            assertEquals(0.0, f.proxy.metrics().layersRemoved(), "the proxy removed no layer");

            // the same request again: a replay, which the server refuses with an unprotected 4.01 (403 here)
            Curl.Reply replay = curl.run(state, List.of("-H", "OSCORE: " + field, "-H", "Content-Type: application/oscore",
                    "--data-binary", "@" + body), url);
            assertEquals("HTTP/1.1 403 Forbidden", replay.statusLine(), replay.toString());
            assertEquals("Replay detected", replay.text(), "the server's diagnostic is the body");
            // a fresh request whose ciphertext changed on the way: the server's 4.00 (RFC 8613 8.2), so 400
            Request again = Request.newGet();
            again.getOptions().setProxyUri("coap://127.0.0.1:" + port + "/orders");
            Request wire2 = pipeline.protectRequest(again, client.protector()).wire();
            byte[] tampered = wire2.getPayload().clone();
            tampered[tampered.length - 1] ^= 1;
            Path bad = Files.write(state.resolve("tampered.bin"), tampered);
            Curl.Reply refused = curl.run(state, List.of("-H", "OSCORE: " + Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(wire2.getOptions().getOscore()), "-H", "Content-Type: application/oscore",
                    "--data-binary", "@" + bad), url);
            assertEquals(400, refused.status(), refused.toString());
            assertEquals("Decryption failed", refused.text());

            // the field in any other form or place is 400, and nothing reaches the server
            int seen = atOrigin.size();
            List<List<String>> wrong = List.of(
                    List.of("-H", "OSCORE: " + field, "-H", "Content-Type: application/oscore", "-X", "PUT", "--data-binary", "@" + body),
                    List.of("-H", "OSCORE: " + field + "=", "-H", "Content-Type: application/oscore", "--data-binary", "@" + body),
                    List.of("-H", "OSCORE: A", "-H", "Content-Type: application/oscore", "--data-binary", "@" + body),
                    List.of("-H", "OSCORE: " + field, "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + body),
                    List.of("-H", "Content-Type: application/oscore", "--data-binary", "@" + body));
            for (List<String> args : wrong) {
                Curl.Reply w = curl.run(state, args, url);
                assertEquals(400, w.status(), args + ": " + w);
            }
            assertEquals(seen, atOrigin.size());
        }
    }
}
