package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.Cri;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.RequestProtector;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile inputs at the proxy, each with the valid request on the same path as its control. */
class ProxyHardeningTest {
    private static final int PROXY_CRI = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.PROXY_CRI).number();
    private Origin origin;
    @TempDir
    Path state;

    @BeforeEach
    void start() {
        origin = new Origin();
    }

    @AfterEach
    void stop() {
        origin.close();
    }

    private String config(String allow, String extra) {
        return "listen: ['127.0.0.1:0']\nforward_proxy: true\nlimits: {upstream_timeout_ms: 1500, exchanges: 2}\n"
                + "access: [{client: unauthenticated, allow: [" + allow + "]}]\n" + extra;
    }

    private Request get(String path) {
        Request r = Request.newGet();
        r.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + path);
        return r;
    }

    @Test
    void LIMITS_anOverlongProxyCriSegmentIs402AndLeaksNoExchangeSlot() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config("{origin: '*'}", ""))) {
            for (int i = 0; i < 5; i++) {
                Cri cri = new Cri(-1L, new Cri.Authority(null, new byte[] {127, 0, 0, 1}, null, List.of(), origin.port()),
                        List.of("x".repeat(300)), List.of(), null);
                Request r = Request.newGet();
                r.getOptions().addOption(new Option(PROXY_CRI, cri.encode()));
                assertEquals(ResponseCode.BAD_OPTION, f.send(r).getCode());
            }
            assertEquals(0, f.proxy.metrics().inFlight().get(), "no slot leaked");
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode(), "the 2 slots are all free");
        }
    }

    @Test
    void ACL_dotSegmentsAreNotForwarded_soAPrefixRuleCannotBeEscaped() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config("{origin: '127.0.0.1:" + origin.port() + "', path_prefix: /sensors}", ""))) {
            assertEquals(ResponseCode.BAD_REQUEST, f.send(get("/sensors/../echo")).getCode());
            assertEquals(ResponseCode.BAD_REQUEST, f.send(get("/sensors/%2e%2e/echo")).getCode());
            assertEquals(ResponseCode.BAD_REQUEST, f.send(get("/sensors/./temp")).getCode());
            assertEquals(0, origin.received.size());
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());
        }
    }

    @Test
    void ACL_anIpLiteralHasOneForm_otherSpellingsOfTheOriginAreRefused() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config("{origin: '127.0.0.1:" + origin.port() + "'}", ""))) {
            Request shortForm = Request.newGet();
            shortForm.getOptions().setProxyUri("coap://127.1:" + origin.port() + "/sensors/temp");
            assertEquals(ResponseCode.BAD_OPTION, f.send(shortForm).getCode());
            Request decimal = Request.newGet();
            decimal.getOptions().setProxyUri("coap://2130706433:" + origin.port() + "/sensors/temp");
            assertEquals(ResponseCode.BAD_OPTION, f.send(decimal).getCode());
            assertEquals(0, origin.received.size());
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());
        }
    }

    @Test
    void MNP_02_aTicketRequestWithListenToMulticastResponsesIsNeverForwarded_402() throws Exception {
        int ltmr = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.LISTEN_TO_MULTICAST_RESPONSES).number();
        // a tp_info-shaped value: [1, h'e0000001', 5683] (UDP, the group's address and port)
        byte[] tpInfo = Hex.decode("8301" + "44e0000001" + "191633");
        try (ProxyFixture f = new ProxyFixture(config("{origin: '127.0.0.1:" + origin.port() + "'}", ""))) {
            for (boolean observe : new boolean[] {false, true}) {
                Request ticket = get("/sensors/temp");
                if (observe) {
                    ticket.setObserve(); // a ticket request registers (Observe 0)
                }
                ticket.getOptions().addOption(new Option(ltmr, tpInfo));
                Response r = f.send(ticket);
                assertEquals(ResponseCode.BAD_OPTION, r.getCode());
                assertEquals("Listen-To-Multicast-Responses is not supported", r.getPayloadString());
                assertEquals(0, r.getOptions().getContentFormat());
                assertEquals(0L, r.getOptions().getMaxAge());
            }
            assertEquals(0, origin.received.size(), "nothing reached the origin");
            assertEquals(0, f.proxy.metrics().inFlight().get());
            // control: the same request without the option is forwarded
            Response ok = f.send(get("/sensors/temp"));
            assertEquals(ResponseCode.CONTENT, ok.getCode());
            assertEquals("21.5", ok.getPayloadString());
            assertEquals(1, origin.received.size());
        }
    }

    @Test
    void MNP_02_aTicketRequestAtTheLastProxyIsCheckedAndNeverForwarded() throws Exception {
        int ltmr = ExtensionOptionRegistry.defaults().byName(ExtensionOptionRegistry.LISTEN_TO_MULTICAST_RESPONSES).number();
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", origin.port());
        InetSocketAddress group = new InetSocketAddress("224.0.1.187", 5683);
        byte[] token = {0x0a, 0x0b};
        String cfg = config("{origin: '127.0.0.1:" + origin.port() + "'}", "group_observations: {}\n");
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            Object[][] refused = {
                // a value outside 3..1024 bytes is an unrecognised critical option (RFC 7252 5.4.3): Californium's
                // parser refuses it before the proxy sees it, with its own diagnostic
                {Hex.decode("8301"), true, ResponseCode.BAD_OPTION, null},
                // not a tp_info array
                {Hex.decode("43010203"), true, ResponseCode.BAD_REQUEST, null},
                // tpi_client must be a group: the proxy listens there
                {dev.coterie.oscore.TpInfo.udp(server, new InetSocketAddress("127.0.0.2", 5683), token).encode(), true,
                    ResponseCode.BAD_REQUEST, "tpi_client is not a multicast address"},
                // tpi_server must be the target the access rules allowed: the proxy takes only its datagrams
                {dev.coterie.oscore.TpInfo.udp(new InetSocketAddress("127.0.0.1", origin.port() + 1), group, token).encode(),
                    true, ResponseCode.UNAUTHORIZED, "tpi_server is not the request's target: forwarding not authorised"},
                // a valid tp_info that passes every check above, in a request that does not register
                {dev.coterie.oscore.TpInfo.udp(server, group, token).encode(), false, ResponseCode.BAD_REQUEST,
                    "a ticket request is a GET or FETCH registration (Observe 0)"},
            };
            for (Object[] c : refused) {
                Request ticket = get("/alarm");
                if ((Boolean) c[1]) {
                    ticket.setObserve();
                }
                ticket.getOptions().addOption(new Option(ltmr, (byte[]) c[0]));
                Response r = f.send(ticket);
                assertEquals(c[2], r.getCode(), Hex.encode((byte[]) c[0]));
                if (c[3] != null) { // the proxy's own answers say why and are not to be cached
                    assertEquals(c[3], r.getPayloadString());
                    assertEquals(0L, r.getOptions().getMaxAge());
                }
            }
            assertEquals(0, origin.received.size(), "no ticket request reached the origin");
            assertEquals(0, f.proxy.metrics().inFlight().get());
            // control: the same request without the option is forwarded
            Response ok = f.send(get("/sensors/temp"));
            assertEquals(ResponseCode.CONTENT, ok.getCode());
            assertEquals(1, origin.received.size());
        }
    }

    @Test
    void GCB_07_aGroupTargetWithGroupForwardingOffIs501_nothingIsSent() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config("{origin: '*'}", ""))) {
            for (String group : new String[] {"coap://224.0.1.187/lights", "coap://[ff05::fd]/lights"}) {
                Request r = Request.newGet();
                r.getOptions().setProxyUri(group);
                Response refused = f.send(r);
                assertEquals(ResponseCode.NOT_IMPLEMENTED, refused.getCode(), group);
                assertEquals("forwarding to a group is not enabled", refused.getPayloadString());
                assertEquals(0L, refused.getOptions().getMaxAge());
            }
            assertEquals(0, origin.received.size(), "nothing was sent");
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());
        }
    }

    @Test
    void LOOP_aRequestForTheProxyItselfIsNotForwarded() throws Exception {
        try (ProxyFixture f = new ProxyFixture(config("{origin: '*'}", ""))) {
            Request r = Request.newGet();
            r.getOptions().setProxyUri("coap://127.0.0.1:" + f.proxyAddress.getPort() + "/x");
            assertEquals(ResponseCode.NOT_FOUND, f.send(r).getCode());
            Request any = Request.newGet();
            any.getOptions().setProxyUri("coap://0.0.0.0:" + origin.port() + "/sensors/temp");
            assertEquals(ResponseCode.NOT_FOUND, f.send(any).getCode(), "0.0.0.0 is this host");
            assertEquals(0, f.proxy.metrics().inFlight().get());
        }
    }

    @Test
    void RFC7252_5_9_1_aPutInvalidatesTheCachedGet() throws Exception {
        String cfg = config("{origin: '127.0.0.1:" + origin.port() + "'}", "");
        origin.server.add(new org.eclipse.californium.core.CoapResource("doc") {
            private volatile String body = "v1";

            @Override
            public void handleGET(org.eclipse.californium.core.server.resources.CoapExchange e) {
                e.respond(ResponseCode.CONTENT, body);
            }

            @Override
            public void handlePUT(org.eclipse.californium.core.server.resources.CoapExchange e) {
                body = e.getRequestText();
                e.respond(ResponseCode.CHANGED);
            }
        });
        try (ProxyFixture f = new ProxyFixture(cfg)) {
            assertEquals("v1", f.send(get("/doc")).getPayloadString());
            assertEquals("v1", f.send(get("/doc")).getPayloadString());
            assertEquals(1.0, f.proxy.metrics().cacheHits(), "control: cached");
            Request put = Request.newPut();
            put.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + "/doc");
            put.setPayload("v2");
            assertEquals(ResponseCode.CHANGED, f.send(put).getCode());
            assertEquals("v2", f.send(get("/doc")).getPayloadString(), "the 2.04 made the stored GET stale");
        }
    }

    @Test
    void RFC8768_a508FromTheNextHopReachesTheClientAs508_notAsTheClassDefault() throws Exception {
        try (DatagramSocket next = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[1500];
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    next.receive(p);
                    int tkl = buf[0] & 0x0f;
                    // piggybacked ACK (the request is CON) with code 5.08, same MID and Token
                    byte[] ack = new byte[4 + tkl];
                    ack[0] = (byte) (0x60 | tkl);
                    ack[1] = (byte) 0xA8;
                    ack[2] = buf[2];
                    ack[3] = buf[3];
                    System.arraycopy(buf, 4, ack, 4, tkl);
                    next.send(new DatagramPacket(ack, ack.length, p.getSocketAddress()));
                } catch (java.io.IOException ignored) {
                    // closed
                }
            });
            t.start();
            try (ProxyFixture f = new ProxyFixture(config("{origin: '*'}", ""))) {
                Request r = Request.newGet();
                r.getOptions().setProxyUri("coap://127.0.0.1:" + next.getLocalPort() + "/x");
                r.setMID(7);
                r.setToken(new Token(new byte[] {7}));
                byte[] wire = new UdpDataSerializer().getByteArray(r);
                try (DatagramSocket raw = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                    raw.setSoTimeout(5000);
                    raw.send(new DatagramPacket(wire, wire.length, f.proxyAddress));
                    byte[] buf = new byte[1500];
                    raw.receive(new DatagramPacket(buf, buf.length));
                    assertEquals(0xA8, buf[1] & 0xff, "5.08 relayed as it came");
                }
            }
            t.join(2000);
        }
    }

    @Test
    void CONFIG_aDuplicateKeyIsAMistake_aSingleOneIsNot() throws Exception {
        Path dup = java.nio.file.Files.writeString(state.resolve("dup.yaml"), "forward_proxy: true\nforward_proxy: false\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(dup));
        assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
        Path one = java.nio.file.Files.writeString(state.resolve("one.yaml"), "forward_proxy: true\n");
        assertTrue(ProxyConfig.load(one).forwardProxy());
    }

    @Test
    void RELOAD_accessControlChangesWithoutARestart() throws Exception {
        String denyAll = config("{origin: '127.0.0.1:1'}", "");
        try (ProxyFixture f = new ProxyFixture(denyAll)) {
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(get("/sensors/temp")).getCode());
            f.proxy.reload(ProxyFixture.config(config("{origin: '127.0.0.1:" + origin.port() + "'}", "")));
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());
            f.proxy.reload(ProxyFixture.config(denyAll));
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(get("/sensors/temp")).getCode());
        }
    }

    /** WARN lines of the proxy server's logger while {@code body} runs. */
    private static List<String> warnings(ThrowingRunnable body) throws Exception {
        ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(ProxyServer.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            body.run();
        } finally {
            log.detachAppender(seen);
        }
        return seen.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
                .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void RELOAD_L6_fieldsOnlyARestartAppliesAreNamedInAWarning_theAccessListStillChanges() throws Exception {
        String denyAll = config("{origin: '127.0.0.1:1'}", "");
        try (ProxyFixture f = new ProxyFixture(denyAll)) {
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(get("/sensors/temp")).getCode());
            // control: only the access list changes; nothing to warn about
            String allow = config("{origin: '127.0.0.1:" + origin.port() + "'}", "");
            List<String>[] later = new List[1];
            assertEquals(List.of(), warnings(() -> later[0] = f.proxy.reload(ProxyFixture.config(allow))));
            assertEquals(List.of(), later[0]);
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());

            // the access list again, and fields read at start only: listen, limits, cache, admin
            String more = "listen: ['127.0.0.1:0', '127.0.0.1:0']\nforward_proxy: true\n"
                    + "limits: {upstream_timeout_ms: 1500, exchanges: 5}\n"
                    + "access: [{client: unauthenticated, allow: [{origin: '127.0.0.1:1'}]}]\n"
                    + "cache: {enabled: false}\nadmin: {listen: '127.0.0.1:0'}\n";
            List<String> w = warnings(() -> later[0] = f.proxy.reload(ProxyFixture.config(more)));
            assertEquals(List.of("listen", "limits.exchanges", "cache.enabled", "admin.listen"), later[0]);
            assertEquals(List.of("listen, limits.exchanges, cache.enabled, admin.listen changed; takes effect after a restart"), w);
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(get("/sensors/temp")).getCode(), "the access list was applied");
            assertEquals(1, f.proxy.listenAddresses().size(), "the listen addresses were not");
            assertEquals(null, f.proxy.adminAddress(), "nor the admin endpoint");
        }
    }

    @Test
    void RELOAD_L6_nextProxyFastPathAndClientSourcesAreRestartOnlyFieldsToo() throws Exception {
        ProxyConfig running = ProxyFixture.config("forward_proxy: true\n");
        ProxyConfig next = ProxyFixture.config("forward_proxy: true\nfast_path: false\nnext_proxy: {address: '127.0.0.1:5784'}\n");
        assertEquals(List.of("next_proxy", "fast_path"), ProxyServer.restartOnly(running, next));
        assertEquals(List.of(), ProxyServer.restartOnly(running, ProxyFixture.config("forward_proxy: true\n")), "control");
    }

    @Test
    void RELOAD_L6_aFileWithAMistakeKeepsTheRunningPolicyAndLogsWhy() throws Exception {
        String allow = config("{origin: '127.0.0.1:" + origin.port() + "'}", "");
        // deny-all access, and a mistake further down: nothing of it may apply
        Path bad = java.nio.file.Files.writeString(state.resolve("bad.yaml"),
                config("{origin: '127.0.0.1:1'}", "cache: {max_entries: 0}\n"));
        Path good = java.nio.file.Files.writeString(state.resolve("good.yaml"), config("{origin: '127.0.0.1:1'}", ""));
        try (ProxyFixture f = new ProxyFixture(allow)) {
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode());
            boolean[] applied = new boolean[1];
            List<String> w = warnings(() -> applied[0] = f.proxy.reload(bad));
            assertEquals(false, applied[0]);
            assertEquals(List.of("reload refused, keeping the running configuration: " + bad
                    + ": field 'cache.max_entries': must be between 1 and 100000000, not 0"), w);
            assertEquals(ResponseCode.CONTENT, f.send(get("/sensors/temp")).getCode(), "the running policy stays");
            // control: the same file without the mistake applies
            assertEquals(List.of(), warnings(() -> applied[0] = f.proxy.reload(good)));
            assertEquals(true, applied[0]);
            assertEquals(ResponseCode.UNAUTHORIZED, f.send(get("/sensors/temp")).getCode());
        }
    }

    @Test
    void OCP_05_aCatchAllRouteDoesNotSwallowAHopLayerForTheProxy() throws Exception {
        byte[] secret = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        OscoreContext proxySide = OscoreContext.builder().name("proxy-hop").masterSecret(SecretBytes.copyOf(secret))
                .senderId(new byte[] {0x0b}).recipientId(new byte[] {0x0c})
                .stateStore(SecurityStateStore.open(state.resolve("p"), 20)).build();
        OscoreContext clientSide = OscoreContext.builder().name("client-hop").masterSecret(SecretBytes.copyOf(secret))
                .senderId(new byte[] {0x0c}).recipientId(new byte[] {0x0b})
                .stateStore(SecurityStateStore.open(state.resolve("c"), 20)).build();
        String cfg = "listen: ['127.0.0.1:0']\nforward_proxy: true\n"
                + "routes: [{path_prefix: /, origin: '127.0.0.1:" + origin.port() + "'}]\n"
                + "access: [{client: {kid: '0c'}, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}]\n";
        try (ProxyFixture f = new ProxyFixture(cfg, List.of(proxySide), Map.of())) {
            CoapEndpoint c = new OscoreEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                    .clientBinding(new ClientContextBinding().endpointDefault(RequestProtector.forProxy(clientSide.protector())))
                    .build();
            c.start();
            try {
                Request r = Request.newGet();
                r.getOptions().setUriPath("sensors/temp");
                r.setDestinationContext(new AddressEndpointContext(f.proxyAddress));
                c.sendRequest(r);
                Response resp = r.waitForResponse(5000);
                assertEquals(ResponseCode.CONTENT, resp.getCode());
                assertEquals("21.5", resp.getPayloadString());
                assertEquals(1.0, f.proxy.metrics().layersRemoved(), "the proxy removed its hop layer before routing");
            } finally {
                c.destroy();
            }
        }
    }
}
