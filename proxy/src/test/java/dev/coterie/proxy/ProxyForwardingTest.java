package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.Cri;
import dev.coterie.oscore.ExtensionOptionRegistry;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Forwarding through the proxy, with a plain origin: RFC 7252 Section 5.7 forward proxying
 * (Proxy-Uri, Proxy-Scheme), href's Proxy-Cri, reverse routes, Hop-Limit (RFC 8768), the error
 * rows of the proxy (5.05, 4.04, 4.01, 5.08, 5.04, 5.02, 5.03, 4.02), each with its positive
 * control, and a new Token and Message ID on the upstream hop.
 */
class ProxyForwardingTest {
    private static final int PROXY_CRI = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.PROXY_CRI).number();
    private static final int PROXY_SCHEME_NUMBER =
            ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.PROXY_SCHEME_NUMBER).number();
    private Origin origin;

    @BeforeEach
    void start() {
        origin = new Origin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    private String config(boolean forward, String extra) {
        return "listen: ['127.0.0.1:0']\n"
                + "forward_proxy: " + forward + "\n"
                + "limits: {upstream_timeout_ms: 2000}\n"
                + "access:\n"
                + "  - client: unauthenticated\n"
                + "    allow: [{origin: '127.0.0.1:" + origin.port() + "', path_prefix: /sensors}, "
                + "{origin: '127.0.0.1:" + origin.port() + "', path_prefix: /slow}]\n"
                + extra;
    }

    private Request proxyUriGet(String path) {
        Request r = Request.newGet();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + path);
        return r;
    }

    private static int hopLimitOf(Request r) {
        Option o = r.getOptions().getOtherOption(16);
        return o == null ? -1 : o.getValue()[0] & 0xff;
    }

    @Test
    void RFC7252_5_7_2_proxyUri_forwardedOnANewTokenAndMidWithHopLimit16() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Request r = proxyUriGet("/sensors/temp");
            r.setToken(new Token(new byte[] {1, 2, 3, 4}));
            Response resp = f.send(r);
            assertNotNull(resp);
            assertEquals(ResponseCode.CONTENT, resp.getCode());
            assertEquals("21.5", resp.getPayloadString());
            assertArrayEquals(new byte[] {1, 2, 3, 4}, resp.getToken().getBytes());
            Request up = origin.last();
            assertEquals(List.of("sensors", "temp"), up.getOptions().getUriPath());
            assertFalse(up.getOptions().hasProxyUri());
            assertFalse(up.getOptions().hasUriHost(), "an IP literal host is not sent as Uri-Host (RFC 7252 5.10.1)");
            assertFalse(java.util.Arrays.equals(new byte[] {1, 2, 3, 4}, up.getToken().getBytes()), "new Token upstream");
            assertEquals(16, hopLimitOf(up), "Hop-Limit inserted with the default 16 (RFC 8768)");
        }
    }

    @Test
    void RFC7252_5_7_2_proxySchemeWithUriHostAndUriPort() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Request r = Request.newGet();
            r.getOptions().setProxyScheme("coap").setUriHost("127.0.0.1").setUriPort(origin.port()).setUriPath("sensors/temp");
            Response resp = f.send(r);
            assertEquals(ResponseCode.CONTENT, resp.getCode());
            assertEquals(List.of("sensors", "temp"), origin.last().getOptions().getUriPath());
            assertFalse(origin.last().getOptions().hasProxyScheme());
        }
    }

    @Test
    void CRI_proxyCri_isForwardedLikeProxyUri() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Cri cri = new Cri(-1L, new Cri.Authority(null, new byte[] {127, 0, 0, 1}, null, List.of(), origin.port()),
                    List.of("sensors", "temp"), List.of(), null);
            Request r = Request.newGet();
            r.getOptions().addOption(new Option(PROXY_CRI, cri.encode()));
            Response resp = f.send(r);
            assertEquals(ResponseCode.CONTENT, resp.getCode());
            assertEquals(List.of("sensors", "temp"), origin.last().getOptions().getUriPath());
            assertFalse(origin.last().getOptions().hasOption(PROXY_CRI));
        }
    }

    @Test
    void CRI_proxyCriWithProxyUriIsABadOption_andProxySchemeWithSchemeNumberToo() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Cri cri = new Cri(-1L, new Cri.Authority(null, new byte[] {127, 0, 0, 1}, null, List.of(), origin.port()),
                    List.of("sensors", "temp"), List.of(), null);
            Request r = proxyUriGet("/sensors/temp");
            r.getOptions().addOption(new Option(PROXY_CRI, cri.encode()));
            assertEquals(ResponseCode.BAD_OPTION, f.send(r).getCode());
            Request s = Request.newGet();
            s.getOptions().setProxyScheme("coap").setUriHost("127.0.0.1").setUriPort(origin.port()).setUriPath("sensors/temp");
            s.getOptions().addOption(new Option(PROXY_SCHEME_NUMBER, new byte[0]));
            assertEquals(ResponseCode.BAD_OPTION, f.send(s).getCode());
            assertEquals(0, origin.received.size(), "nothing reached the origin");
        }
    }

    @Test
    void OCP_05_proxyOptionsAtANodeThatIsNotAForwardProxyGet505() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(false, ""))) {
            Response resp = f.send(proxyUriGet("/sensors/temp"));
            assertEquals(ResponseCode.PROXY_NOT_SUPPORTED, resp.getCode());
            assertEquals(0, origin.received.size());
        }
    }

    @Test
    void RFC7252_5_7_2_anUnsupportedSchemeGets505() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Request r = Request.newGet();
            r.getOptions().setProxyUri("http://127.0.0.1:" + origin.port() + "/sensors/temp");
            assertEquals(ResponseCode.PROXY_NOT_SUPPORTED, f.send(r).getCode());
        }
    }

    @Test
    void OCP_05_reverseRoute_andNoRouteIs404() throws Exception {
        String routes = "routes:\n  - {name: sensors, path_prefix: /sensors, origin: 'coap://127.0.0.1:" + origin.port() + "'}\n";
        try (ProxyFixture f = new ProxyFixture(config(false, routes))) {
            Request ok = Request.newGet();
            ok.getOptions().setUriPath("sensors/temp");
            Response resp = f.send(ok);
            assertEquals(ResponseCode.CONTENT, resp.getCode());
            assertEquals("21.5", resp.getPayloadString());
            Request none = Request.newGet();
            none.getOptions().setUriPath("lights/1");
            assertEquals(ResponseCode.NOT_FOUND, f.send(none).getCode());
            assertEquals(1, origin.received.size());
        }
    }

    @Test
    void OCP_05_forwardingNotAuthorisedGets401_anAllowedPrefixIsForwarded() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Request denied = Request.newPost();
            denied.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + "/echo");
            denied.setPayload("x");
            Response resp = f.send(denied);
            assertEquals(ResponseCode.UNAUTHORIZED, resp.getCode());
            assertEquals(0, origin.received.size());
            assertEquals(ResponseCode.CONTENT, f.send(proxyUriGet("/sensors/temp")).getCode());
            assertEquals(1.0, f.proxy.metrics().count(ProxyMetrics.Outcome.DENIED));
        }
    }

    @Test
    void RFC8768_hopLimitIsDecremented_oneLeftGets508_zeroIsABadOption() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Request two = proxyUriGet("/sensors/temp");
            two.getOptions().addOption(ExtensionOptionRegistry.HOP_LIMIT.create(2));
            assertEquals(ResponseCode.CONTENT, f.send(two).getCode());
            assertEquals(1, hopLimitOf(origin.last()));
            Request one = proxyUriGet("/sensors/temp");
            one.getOptions().addOption(ExtensionOptionRegistry.HOP_LIMIT.create(1));
            one.setMID(0x1234);
            one.setToken(new Token(new byte[] {9}));
            // on the wire: Californium's own parser maps the unknown 5.08 to 5.00, so read the datagram
            byte[] wire = new org.eclipse.californium.core.network.serialization.UdpDataSerializer().getByteArray(one);
            try (DatagramSocket raw = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                raw.setSoTimeout(5000);
                raw.send(new DatagramPacket(wire, wire.length, f.proxyAddress));
                byte[] buf = new byte[1500];
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                raw.receive(p);
                assertEquals(0xA8, buf[1] & 0xff, "code 5.08 Hop Limit Reached");
                String payload = new String(buf, p.getLength() - 9, 9, java.nio.charset.StandardCharsets.UTF_8);
                assertEquals("127.0.0.1", payload, "the diagnostic names the proxy");
            }
            // 0 is outside the option's range 1-255 (and not a canonical uint): the parser's 4.02
            Request zero = proxyUriGet("/sensors/temp");
            zero.getOptions().addOption(new Option(16, new byte[] {0}));
            assertEquals(ResponseCode.BAD_OPTION, f.send(zero).getCode());
            assertEquals(1, origin.received.size());
        }
    }

    @Test
    void PROXY_originSilentGets504() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            Response r = f.send(proxyUriGet("/slow"));
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, r.getCode());
            assertEquals(0, f.proxy.metrics().inFlight().get());
        }
    }

    @Test
    void PROXY_originResetGets502() throws Exception {
        try (DatagramSocket rst = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[1500];
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    rst.receive(p);
                    byte[] reset = {0x70, 0, buf[2], buf[3]}; // RST, empty, same MID
                    rst.send(new DatagramPacket(reset, 4, p.getSocketAddress()));
                } catch (java.io.IOException ignored) {
                    // closed
                }
            });
            t.start();
            String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 3000}\n"
                    + "access: [{client: unauthenticated, allow: [{origin: '*'}]}]\n";
            try (ProxyFixture f = new ProxyFixture(cfg)) {
                Request r = Request.newGet();
                r.setType(Type.CON);
                r.getOptions().setProxyUri("coap://127.0.0.1:" + rst.getLocalPort() + "/x");
                assertEquals(ResponseCode.BAD_GATEWAY, f.send(r).getCode());
            }
            t.join(2000);
        }
    }

    @Test
    void LIMITS_perClientRateLimitGets503WithMaxAge_withinTheBurstIsForwarded() throws Exception {
        String cfg = config(true, "").replace("limits: {upstream_timeout_ms: 2000}",
                "limits: {upstream_timeout_ms: 400, requests_per_second: 1, burst: 2, retry_after_s: 7}");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            assertEquals(ResponseCode.CONTENT, f.send(proxyUriGet("/sensors/temp")).getCode());
            assertEquals(ResponseCode.CONTENT, f.send(proxyUriGet("/sensors/temp")).getCode());
            Response third = f.send(proxyUriGet("/sensors/temp"));
            assertEquals(ResponseCode.SERVICE_UNAVAILABLE, third.getCode());
            assertEquals(7L, third.getOptions().getMaxAge());
        }
    }

    @Test
    void LIMITS_exchangesInFlightLimitGets503() throws Exception {
        String cfg = config(true, "").replace("limits: {upstream_timeout_ms: 2000}",
                "limits: {upstream_timeout_ms: 1500, exchanges: 1}");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            Request slow = proxyUriGet("/slow");
            slow.setDestinationContext(new org.eclipse.californium.elements.AddressEndpointContext(f.proxyAddress));
            f.client.sendRequest(slow);
            Thread.sleep(200);
            Response second = f.send(proxyUriGet("/sensors/temp"));
            assertEquals(ResponseCode.SERVICE_UNAVAILABLE, second.getCode());
            assertEquals(ResponseCode.GATEWAY_TIMEOUT, slow.waitForResponse(5000).getCode());
            assertEquals(ResponseCode.CONTENT, f.send(proxyUriGet("/sensors/temp")).getCode(), "room again");
        }
    }

    @Test
    void DET_10_cacheHit_secondReadIsServedFromTheCache() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            assertEquals("21.5", f.send(proxyUriGet("/sensors/temp")).getPayloadString());
            origin.temperature = "99";
            Response second = f.send(proxyUriGet("/sensors/temp"));
            assertEquals("21.5", second.getPayloadString());
            assertEquals(1, origin.temperatureReads.get());
            assertTrue(second.getOptions().getMaxAge() <= 60);
            assertEquals(1.0, f.proxy.metrics().cacheHits());
            assertEquals(1.0, f.proxy.metrics().cacheMisses());
        }
    }

    @Test
    void CACHE_expiredEntryIsFetchedAgain_andAnETagIsRevalidatedWith203() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config(true, ""))) {
            origin.maxAge = 1;
            assertEquals("21.5", f.send(proxyUriGet("/sensors/temp")).getPayloadString());
            Thread.sleep(1300);
            origin.temperature = "22.0";
            assertEquals("22.0", f.send(proxyUriGet("/sensors/temp")).getPayloadString(), "expired: fetched again");
            assertEquals(2, origin.temperatureReads.get());

            origin.etag = new byte[] {0x0e, 0x01};
            origin.temperature = "23.0";
            Thread.sleep(1300);
            assertEquals("23.0", f.send(proxyUriGet("/sensors/temp")).getPayloadString());
            Thread.sleep(1300);
            Response revalidated = f.send(proxyUriGet("/sensors/temp"));
            assertEquals(ResponseCode.CONTENT, revalidated.getCode());
            assertEquals("23.0", revalidated.getPayloadString());
            assertArrayEquals(new byte[] {0x0e, 0x01}, origin.last().getOptions().getETags().get(0),
                    "the proxy revalidated with the stored ETag");
            assertEquals(4, origin.temperatureReads.get());
            assertEquals(1.0, f.proxy.metrics().count(ProxyMetrics.Outcome.REVALIDATED));
        }
    }

    @Test
    void CACHE_aPostIsNeverAnsweredFromTheCache() throws Exception {
        String cfg = config(true, "").replace("path_prefix: /sensors}", "path_prefix: /}");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            for (int i = 0; i < 2; i++) {
                Request p = Request.newPost();
                p.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + "/echo");
                p.setPayload("n" + i);
                Response r = f.send(p);
                assertEquals(ResponseCode.CHANGED, r.getCode());
                assertEquals("n" + i, r.getPayloadString());
            }
            assertEquals(2, origin.received.size());
            assertNull(f.proxy.cache().lookup(null));
        }
    }
}
