package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InnerObserve;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestProtector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OCP-09 (oscore-capable-proxies Section 2.4, step 3): a client hop context is usable only from
 * the sources its {@code sources} lists. The proxy resolves a request among the contexts of its
 * source's list only, so a context not listed for that source is never tried: the request gets the
 * unknown-kid answer (4.01 "Security context not found", unprotected; RFC 8613 8.2, digest table
 * 1.6), nothing is decrypted, and the context's state is as it was. Every rejection is followed by
 * the same request from a listed source, which verifies, is forwarded and is answered. All traffic
 * is on loopback (127.0.0.1, 127.0.0.2 and ::1).
 */
class SourceAddressContextsTest {
    private static final byte[] HOP_SECRET = Hex.decode("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] OTHER_SECRET = Hex.decode("b0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    private static final byte[] SALT = Hex.decode("9e7ca92223786340");
    private static final byte[] CLIENT = {0x0c};
    private static final byte[] SECOND = {0x0d};
    private static final byte[] UNKNOWN = {0x0e};
    private static final byte[] PROXY = {0x0b};
    private static final String NOT_FOUND = "Security context not found";

    @TempDir
    Path state;
    private Origin origin;
    private final List<CoapEndpoint> endpoints = new ArrayList<>();
    private final ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults(), InnerObserve.EMPTY, true);

    /** The proxy's and the client's side of the hop context the tests list or do not list. */
    private OscoreContext proxySide;
    private OscoreContext clientSide;

    @BeforeEach
    void start() throws Exception {
        origin = new Origin();
        proxySide = context("proxy-hop", HOP_SECRET, PROXY, CLIENT);
        clientSide = context("client-hop", HOP_SECRET, CLIENT, PROXY);
    }

    @AfterEach
    void stop() {
        endpoints.forEach(CoapEndpoint::destroy);
        origin.close();
    }

    private OscoreContext context(String name, byte[] secret, byte[] sender, byte[] recipient) throws Exception {
        return HopContexts.open(state, name, secret, SALT, sender, recipient);
    }

    /** A context file for the configuration (the proxy is given the opened context itself). */
    private String contextFile(String name) throws Exception {
        return Files.writeString(state.resolve(name + ".json"), "{}").toAbsolutePath().toString();
    }

    /** A client_contexts entry: the context file {@code name}, usable from {@code prefix} only. */
    private String listed(String name, String prefix) throws Exception {
        return "  - {context: '" + contextFile(name) + "', sources: ['" + prefix + "']}\n";
    }

    private String config(String listen, String clientContexts) {
        return "listen: " + listen + "\nforward_proxy: true\nlimits: {upstream_timeout_ms: 2000}\n"
                + "cache: {enabled: false}\n" // every answer below comes from the origin
                + "client_contexts:\n" + clientContexts + "access:\n"
                + "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}\n"
                + "  - {client: {kid: '" + Hex.encode(SECOND) + "'}, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}\n";
    }

    /** A plain client endpoint bound to {@code host} (127.0.0.2 is loopback too on Linux). */
    private CoapEndpoint from(String host) throws Exception {
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(OscoreEndpointBuilder.defaultConfiguration())
                .setInetSocketAddress(new InetSocketAddress(host, 0))
                .setOptionRegistry(ExtensionOptionRegistry.defaults().californiumRegistry()).build();
        ep.start();
        endpoints.add(ep);
        return ep;
    }

    /** A hop-protected GET of the origin's /sensors/temp, as it goes on the wire. */
    private ProtectionPipeline.ProtectedRequest hopRequest(OscoreContext clientSide) throws Exception {
        Request plain = Request.newGet();
        plain.getOptions().setProxyUri("coap://127.0.0.1:" + origin.port() + "/sensors/temp");
        return pipeline.protectRequest(plain, RequestProtector.forProxy(clientSide.protector()));
    }

    /** A fresh message with the same code, options and payload (the same OSCORE option and ciphertext). */
    private static Request copy(Request wire) {
        Request r = new Request(wire.getCode(), wire.getType());
        r.setOptions(new OptionSet(wire.getOptions()));
        r.setPayload(wire.getPayload().clone());
        return r;
    }

    private static Response send(CoapEndpoint ep, Request r, InetSocketAddress to) throws Exception {
        r.setDestinationContext(new AddressEndpointContext(to));
        ep.sendRequest(r);
        Response resp = r.waitForResponse(5000);
        assertNotNull(resp, "no response from the proxy");
        return resp;
    }

    /** The origin's answer to {@code p}, under the hop layer: the request was verified, forwarded and answered. */
    private void assertAnswered(Response r, ProtectionPipeline.ProtectedRequest p) throws Exception {
        assertTrue(r.getOptions().hasOscore(), "answered under the hop layer: " + r);
        ProtectionPipeline.Unprotected<Response> u = pipeline.unprotectResponse(r, p.identifiers());
        assertEquals(ResponseCode.CONTENT, u.plain().getCode());
        assertEquals("21.5", u.plain().getPayloadString());
    }

    private static void assertContextNotFound(Response r) {
        assertEquals(ResponseCode.UNAUTHORIZED, r.getCode());
        assertFalse(r.getOptions().hasOscore(), "the 4.01 is unprotected: no context was used for it");
        assertEquals(NOT_FOUND, r.getPayloadString());
        assertEquals(0L, r.getOptions().getMaxAge());
    }

    private String failures(ProxyServer p, String reason) {
        for (String line : p.metrics().scrape().split("\n")) {
            if (line.startsWith("coterie_proxy_oscore_verification_failures_total{reason=\"" + reason + "\"")) {
                return line.substring(line.lastIndexOf(' ') + 1);
            }
        }
        return "0";
    }

    @Test
    void OCP_09_aContextNotListedForTheSourceIsNeverTried_4_01ContextNotFound() throws Exception {
        String yaml = config("['127.0.0.1:0']", listed("proxy-hop", "127.0.0.1/32"));
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide), Map.of())) {
            ProtectionPipeline.ProtectedRequest p = hopRequest(clientSide);
            String windowBefore = proxySide.replayWindow().snapshot();
            long sequenceBefore = proxySide.senderSequence().peek();

            Response denied = send(from("127.0.0.2"), copy(p.wire()), f.proxyAddress);
            assertContextNotFound(denied);
            assertEquals(windowBefore, proxySide.replayWindow().snapshot(), "the replay window did not move");
            assertEquals(sequenceBefore, proxySide.senderSequence().peek(), "nothing was protected with the context");
            assertEquals(0, origin.received.size(), "nothing was forwarded");
            assertEquals("1.0", failures(f.proxy, "context_not_found"));
            assertEquals("0", failures(f.proxy, "decryption_failed"));
            assertEquals(0.0, f.proxy.metrics().layersRemoved());

            // positive control: the very same request (same Partial IV, same ciphertext) from the listed
            // source verifies (so the rejection consumed nothing), is forwarded and is answered
            assertAnswered(send(from("127.0.0.1"), copy(p.wire()), f.proxyAddress), p);
            assertEquals(1, origin.received.size());
            assertEquals(1.0, f.proxy.metrics().layersRemoved());
            assertNotEquals(windowBefore, proxySide.replayWindow().snapshot(), "the accepted request moved the window");

            // and once accepted, the same request from the listed source is a replay: the window is in use
            Response replay = send(from("127.0.0.1"), copy(p.wire()), f.proxyAddress);
            assertEquals(ResponseCode.UNAUTHORIZED, replay.getCode());
            assertEquals("Replay detected", replay.getPayloadString());
        }
    }

    @Test
    void OCP_09_aTamperedRequestFromAnUnlistedSourceIsNotDecrypted_4_01Not4_00() throws Exception {
        String yaml = config("['127.0.0.1:0']", listed("proxy-hop", "127.0.0.1/32"));
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide), Map.of())) {
            ProtectionPipeline.ProtectedRequest p = hopRequest(clientSide);
            Request tampered = copy(p.wire());
            byte[] c = tampered.getPayload();
            c[c.length - 1] ^= 0x01; // the tag no longer verifies: only a decryption attempt can tell
            tampered.setPayload(c);
            String windowBefore = proxySide.replayWindow().snapshot();

            // from the unlisted source: not tried, so the answer is "not found", not "Decryption failed"
            assertContextNotFound(send(from("127.0.0.2"), copy(tampered), f.proxyAddress));
            assertEquals("0", failures(f.proxy, "decryption_failed"), "no decryption was attempted");
            assertEquals(windowBefore, proxySide.replayWindow().snapshot());

            // control: from the listed source the context is tried, and the tag check fails
            Response failed = send(from("127.0.0.1"), copy(tampered), f.proxyAddress);
            assertEquals(ResponseCode.BAD_REQUEST, failed.getCode());
            assertEquals("Decryption failed", failed.getPayloadString());
            assertEquals("1.0", failures(f.proxy, "decryption_failed"));

            // positive control: the untampered request from the listed source is forwarded and answered
            assertAnswered(send(from("127.0.0.1"), copy(p.wire()), f.proxyAddress), p);
            assertEquals(1, origin.received.size());
        }
    }

    @Test
    void OCP_09_anUnlistedSourceGetsExactlyTheAnswerOfAnUnknownKid() throws Exception {
        OscoreContext stranger = context("stranger", OTHER_SECRET, UNKNOWN, PROXY); // a kid the proxy has no context for
        String yaml = config("['127.0.0.1:0']", listed("proxy-hop", "127.0.0.1/32"));
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide), Map.of())) {
            CoapEndpoint unlisted = from("127.0.0.2");
            ProtectionPipeline.ProtectedRequest known = hopRequest(clientSide);
            Response ineligible = send(unlisted, copy(known.wire()), f.proxyAddress);
            Response unknown = send(unlisted, copy(hopRequest(stranger).wire()), f.proxyAddress);
            assertContextNotFound(ineligible);
            assertContextNotFound(unknown);
            assertEquals(unknown.getCode(), ineligible.getCode());
            assertEquals(unknown.getType(), ineligible.getType());
            assertEquals(unknown.getOptions().toString(), ineligible.getOptions().toString());
            assertTrue(Arrays.equals(unknown.getPayload(), ineligible.getPayload()));
            assertEquals("2.0", failures(f.proxy, "context_not_found"));
            assertEquals(0, origin.received.size());

            // positive control
            assertAnswered(send(from("127.0.0.1"), copy(known.wire()), f.proxyAddress), known);
        }
    }

    @Test
    void OCP_09_onAReverseRouteAnUnlistedSourceIsForwardedAsItCameLikeAnUnknownKid() throws Exception {
        // a request in an OSCORE layer that is not for this proxy goes to its route untouched (steps
        // 1-3, end-to-end OSCORE for the origin); for an unlisted source a listed context is not for this proxy
        OscoreContext stranger = context("stranger", OTHER_SECRET, UNKNOWN, PROXY);
        String yaml = "listen: ['127.0.0.1:0']\nlimits: {upstream_timeout_ms: 2000}\ncache: {enabled: false}\n"
                + "client_contexts:\n" + listed("proxy-hop", "127.0.0.1/32")
                + "routes: [{uri_host: sensors.example, path_prefix: /, origin: '127.0.0.1:" + origin.port() + "'}]\n"
                + "access:\n  - {client: unauthenticated, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}\n"
                + "  - {client: {kid: '" + Hex.encode(CLIENT) + "'}, allow: [{origin: '127.0.0.1:" + origin.port() + "'}]}\n";
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide), Map.of())) {
            java.util.function.Function<OscoreContext, ProtectionPipeline.ProtectedRequest> routed = c -> {
                Request plain = Request.newGet();
                plain.getOptions().setUriHost("sensors.example").setUriPath("sensors/temp"); // Uri-Host stays outer
                try {
                    return pipeline.protectRequest(plain, RequestProtector.forProxy(c.protector()));
                } catch (OscoreException e) {
                    throw new AssertionError(e);
                }
            };
            ProtectionPipeline.ProtectedRequest known = routed.apply(clientSide);
            assertEquals("sensors.example", known.wire().getOptions().getUriHost());
            String windowBefore = proxySide.replayWindow().snapshot();
            CoapEndpoint unlisted = from("127.0.0.2");
            Response ineligible = send(unlisted, copy(known.wire()), f.proxyAddress);
            Response unknown = send(unlisted, copy(routed.apply(stranger).wire()), f.proxyAddress);
            // forwarded as they came: the plain origin's root answers the outer POST of an OSCORE request 4.05
            assertEquals(ResponseCode.METHOD_NOT_ALLOWED, unknown.getCode());
            assertEquals(unknown.getCode(), ineligible.getCode());
            assertTrue(Arrays.equals(unknown.getPayload(), ineligible.getPayload()));
            assertEquals(unknown.getOptions().hasOscore(), ineligible.getOptions().hasOscore());
            assertEquals(windowBefore, proxySide.replayWindow().snapshot(), "the hop context was not tried");
            assertEquals(0.0, f.proxy.metrics().layersRemoved());
            assertEquals(0, origin.received.size(), "neither reached /sensors/temp: its path is encrypted");

            // positive control: from the listed source the hop layer is removed and the inner path routed
            assertAnswered(send(from("127.0.0.1"), copy(known.wire()), f.proxyAddress), known);
            assertEquals(1, origin.received.size());
            assertEquals(1.0, f.proxy.metrics().layersRemoved());
        }
    }

    @Test
    void OCP_09_prefixesMatchByFamilyAndLength_ipv6AndAWiderIpv4Prefix() throws Exception {
        OscoreContext proxySecond = context("proxy-second", OTHER_SECRET, PROXY, SECOND);
        OscoreContext clientSecond = context("client-second", OTHER_SECRET, SECOND, PROXY);
        String yaml = config("['127.0.0.1:0', '[::1]:0']",
                listed("proxy-hop", "::1/128") + listed("proxy-second", "127.0.0.0/8"));
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide, proxySecond), Map.of())) {
            InetSocketAddress v4 = f.proxy.listenAddresses().get(0);
            InetSocketAddress v6 = f.proxy.listenAddresses().get(1);
            assertTrue(v6.getAddress() instanceof java.net.Inet6Address, "" + v6);

            // the first context is for ::1 only: not from 127.0.0.1 ...
            ProtectionPipeline.ProtectedRequest first = hopRequest(clientSide);
            assertContextNotFound(send(from("127.0.0.1"), copy(first.wire()), v4));
            // ... but from ::1 (positive control)
            assertAnswered(send(from("::1"), copy(first.wire()), v6), first);

            // the second is for 127.0.0.0/8: 127.0.0.2 is in it, ::1 is not (the other family)
            ProtectionPipeline.ProtectedRequest second = hopRequest(clientSecond);
            assertContextNotFound(send(from("::1"), copy(second.wire()), v6));
            assertAnswered(send(from("127.0.0.2"), copy(second.wire()), v4), second);
            assertEquals(2, origin.received.size());
        }
    }

    @Test
    void OCP_09_aContextWithoutSourcesIsUsableFromAnySource() throws Exception {
        String yaml = config("['127.0.0.1:0']", "  - '" + contextFile("proxy-hop") + "'\n");
        try (ProxyFixture f = new ProxyFixture(yaml, List.of(proxySide), Map.of())) {
            for (String host : List.of("127.0.0.2", "127.0.0.1")) {
                ProtectionPipeline.ProtectedRequest p = hopRequest(clientSide);
                assertAnswered(send(from(host), copy(p.wire()), f.proxyAddress), p);
            }
        }
    }

    /* ------------------------------------------------------------ the resolver on its own */

    private static Request receivedFrom(String host) throws Exception {
        Request r = Request.newGet();
        r.setSourceContext(new AddressEndpointContext(new InetSocketAddress(InetAddress.getByName(host), 40000)));
        return r;
    }

    @Test
    void OCP_09_theResolverLooksOnlyAmongTheSourcesList_beforeAnyCrypto() throws Exception {
        OscoreContext listed = context("listed", HOP_SECRET, PROXY, CLIENT);
        OscoreContext open = context("open", OTHER_SECRET, PROXY, SECOND);
        SourceScopedContexts db = new SourceScopedContexts(List.of(listed, open),
                Arrays.asList(List.of(SourcePrefix.parse("10.0.0.0/8"), SourcePrefix.parse("::1/128")), null));
        OscoreOptionValue forListed = new OscoreOptionValue(new byte[] {1}, null, CLIENT, false);
        OscoreOptionValue forOpen = new OscoreOptionValue(new byte[] {1}, null, SECOND, false);

        assertNotNull(db.resolve(forListed, receivedFrom("10.1.2.3"), null));
        assertNotNull(db.resolve(forListed, receivedFrom("::1"), null));
        for (String outside : List.of("11.0.0.1", "127.0.0.1", "::2")) {
            OscoreException e = assertThrows(OscoreException.ContextNotFound.class,
                    () -> db.resolve(forListed, receivedFrom(outside), null), outside);
            assertEquals(NOT_FOUND, e.diagnostic());
            assertEquals(ResponseCode.UNAUTHORIZED, e.responseCode());
        }
        Request noSource = Request.newGet();
        assertThrows(OscoreException.ContextNotFound.class, () -> db.resolve(forListed, noSource, null),
                "no source address: only contexts for any source");
        assertNotNull(db.resolve(forOpen, noSource, null));
        assertNotNull(db.resolve(forOpen, receivedFrom("11.0.0.1"), null), "no sources: any source");
        // the same message as a kid that names nothing
        OscoreException unknown = assertThrows(OscoreException.ContextNotFound.class,
                () -> db.resolve(new OscoreOptionValue(new byte[] {1}, null, UNKNOWN, false), receivedFrom("10.1.2.3"), null));
        OscoreException unlisted = assertThrows(OscoreException.ContextNotFound.class,
                () -> db.resolve(forListed, receivedFrom("11.0.0.1"), null));
        assertEquals(unknown.getMessage(), unlisted.getMessage());

        assertTrue(db.isHopLayerFor(null, CLIENT, InetAddress.getByName("10.9.9.9")));
        assertFalse(db.isHopLayerFor(null, CLIENT, InetAddress.getByName("11.9.9.9")), "not a hop layer for this source");
        assertTrue(db.isHopLayerFor(null, SECOND, InetAddress.getByName("11.9.9.9")));
        assertFalse(db.isHopLayerFor(null, CLIENT, null));
    }

    @Test
    void OCP_09_twoContextsWithTheSameIdentifiersAreRefusedWhateverTheirSources() throws Exception {
        OscoreContext a = context("a", HOP_SECRET, PROXY, CLIENT);
        OscoreContext b = context("b", OTHER_SECRET, PROXY, CLIENT);
        assertThrows(IllegalArgumentException.class, () -> new SourceScopedContexts(List.of(a, b),
                List.of(List.of(SourcePrefix.parse("10.0.0.0/8")), List.of(SourcePrefix.parse("192.168.0.0/16")))));
        assertThrows(IllegalArgumentException.class, () -> new SourceScopedContexts(List.of(a), List.of()),
                "one source list per context");
        SourceScopedContexts any = SourceScopedContexts.anySource(List.of(a));
        OscoreOptionValue v = new OscoreOptionValue(new byte[] {1}, null, CLIENT, false);
        assertNotNull(any.resolve(v, receivedFrom("192.0.2.1"), null));
        assertNotNull(any.resolve(v, receivedFrom("2001:db8::1"), null));
        assertNotNull(any.resolve(v, Request.newGet(), null), "no sources: even a request without a source address");
    }

    @Test
    void OCP_09_prefixMatchingAtTheBoundaries() {
        SourcePrefix ten = SourcePrefix.parse("10.0.0.0/8");
        assertTrue(matches(ten, "10.0.0.0"));
        assertTrue(matches(ten, "10.255.255.255"));
        assertFalse(matches(ten, "11.0.0.0"));
        assertFalse(matches(ten, "9.255.255.255"));
        assertTrue(matches(ten, "::ffff:a00:1"), "java.net reports an IPv4-mapped source as IPv4 (10.0.0.1)");
        SourcePrefix odd = SourcePrefix.parse("192.168.4.0/22");
        assertTrue(matches(odd, "192.168.7.255"));
        assertFalse(matches(odd, "192.168.8.0"));
        assertFalse(matches(odd, "192.168.3.255"));
        assertTrue(matches(SourcePrefix.parse("0.0.0.0/0"), "203.0.113.9"));
        assertFalse(matches(SourcePrefix.parse("0.0.0.0/0"), "::1"), "an IPv4 prefix never matches IPv6");
        assertTrue(matches(SourcePrefix.parse("::/0"), "2001:db8::1"));
        assertFalse(matches(SourcePrefix.parse("::/0"), "127.0.0.1"), "an IPv6 prefix never matches IPv4");
        SourcePrefix v6 = SourcePrefix.parse("2001:db8::/127");
        assertTrue(matches(v6, "2001:db8::1"));
        assertFalse(matches(v6, "2001:db8::2"));
        SourcePrefix one = SourcePrefix.parse("::1/128");
        assertTrue(matches(one, "0:0:0:0:0:0:0:1"));
        assertFalse(matches(one, "::"));
        assertFalse(one.matches(null));
    }

    private static boolean matches(SourcePrefix p, String literal) {
        try {
            return p.matches(InetAddress.getByName(literal)); // literals only: no lookup
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
