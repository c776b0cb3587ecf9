package dev.coterie.tests;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.grouposcore.GroupObservationProtection;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.DeterministicPhantoms;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.TransportIndependent;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): a group observation
 * whose phantom is a deterministic request (observe-multicast-notifications App. D, OMN-13;
 * multicast-notifications-proxy Appendix C, MNP-06). Server a1 starts the group observation of
 * /alarm at once and publishes the plain phantom; a client computes the deterministic request
 * from it, registers directly, gets the unprotected informative response and listens to the
 * group itself; two more clients send the same deterministic request through a Coterie proxy
 * next to the server, which forwards the first one, joins the group observation from the
 * unprotected informative response and fans every protected notification out; each client
 * verifies everything as group-mode responses to the deterministic request it sent.
 */
public final class DeterministicPhantomScenario {
    static final InetSocketAddress SERVER = GroupObservationScenario.SERVER;
    static final InetSocketAddress PROXY = new InetSocketAddress(GroupObservationScenario.SERVER.getAddress(), 5831);
    private static final ExtensionOptionRegistry EXT = ExtensionOptionRegistry.defaults();
    private static final int CF = InformativeResponse.DEFAULT_CONTENT_FORMAT;
    private static final ScenarioChecks CHECKS = new ScenarioChecks();

    private DeterministicPhantomScenario() {
    }

    public static void main(String[] args) {
        CHECKS.exit(DeterministicPhantomScenario::run);
    }

    static void check(boolean ok, String name, Object detail) {
        CHECKS.check(ok, name, detail);
    }

    /** A client of the proxy: its deterministic request, its own context and pipeline, what it verified. */
    static final class ProxiedClient extends MessageObserverAdapter {
        final ProtectionPipeline pipeline = new ProtectionPipeline(EXT);
        final ProtectionPipeline.ProtectedRequest sent;
        final Request request;
        final List<Response> got = new CopyOnWriteArrayList<>();
        final List<String> verified = new CopyOnWriteArrayList<>();
        final List<String> refused = new CopyOnWriteArrayList<>();

        ProxiedClient(GroupContext ctx, GroupObservedResource.DeterministicPhantom ph, byte token) throws Exception {
            sent = deterministic(ctx, ph, pipeline);
            request = new Request(sent.wire().getCode(), CoAP.Type.CON);
            request.setOptions(new OptionSet(sent.wire().getOptions()));
            request.getOptions().setProxyUri("coap://127.0.0.1:" + SERVER.getPort());
            request.setPayload(sent.wire().getPayload());
            request.setToken(new byte[] {token, token});
            request.setDestinationContext(new AddressEndpointContext(PROXY));
            request.addMessageObserver(this);
        }

        @Override
        public synchronized void onResponse(Response r) {
            if (!got.isEmpty() && got.get(got.size() - 1) == r) {
                return;
            }
            // verified (or refused) before it counts as got: the scenario waits on got and then reads both
            try {
                verified.add(pipeline.unprotectResponse(r, sent.identifiers()).plain().getPayloadString());
            } catch (OscoreException e) {
                refused.add(e.getMessage());
            }
            got.add(r);
        }
    }

    /** What every member computes from the plain phantom: the same deterministic request. */
    static ProtectionPipeline.ProtectedRequest deterministic(GroupContext ctx, GroupObservedResource.DeterministicPhantom ph,
                                                             ProtectionPipeline pipeline) throws Exception {
        Request plain = new Request(ph.plain().getCode(), CoAP.Type.CON);
        plain.setOptions(new OptionSet(ph.plain().getOptions()));
        plain.setToken(Token.EMPTY);
        return pipeline.protectRequest(plain, ctx.deterministic(null, null, EXT, false, 0));
    }

    private static void run() throws Exception {
        GroupAlgorithms algs = GroupAlgorithms.defaults();
        List<byte[]> ids = List.of(Hex.decode("c1"), Hex.decode("a1"), Hex.decode("c2"));
        List<PrivateKey> keys = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        for (byte[] id : ids) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
            keys.add(k);
            creds.add(Credential.ccs("member-" + Hex.encode(id), k));
        }
        Credential gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519));
        GroupContext serverCtx = member(1, ids, keys, creds, gm);
        GroupContextDb serverDb = new GroupContextDb().add(serverCtx);
        DeterministicPhantoms phantoms = new DeterministicPhantoms(4);
        CoapEndpoint sep = new GroupEndpointBuilder().configuration(GroupEndpointBuilder.defaultConfiguration()).bind(SERVER)
                .serverGroups(serverDb).deterministicRequests(r -> List.of("alarm").equals(r.getOptions().getUriPath()))
                .deterministicPhantoms(phantoms).build();
        AtomicInteger atServer = new AtomicInteger();
        sep.addInterceptor(new MessageInterceptorAdapter() {
            @Override
            public void receiveRequest(Request request) {
                atServer.incrementAndGet();
            }
        });
        List<byte[]> toGroup = new CopyOnWriteArrayList<>();
        CoapServer server = new CoapServer(GroupEndpointBuilder.defaultConfiguration());
        server.addEndpoint(sep);
        GroupObservationScenario.Alarm alarm = new GroupObservationScenario.Alarm();
        alarm.protectedBy(new GroupObservationProtection(serverCtx, serverDb, new ProtectionPipeline(EXT), EXT));
        server.add(alarm);
        server.start();
        org.eclipse.californium.elements.Connector c = sep.getConnector();
        alarm.sendFrom(new CountingConnector(c, toGroup), SERVER);
        long ssnBefore = serverCtx.senderSequence().peek();
        GroupObservedResource.DeterministicPhantom ph = alarm.startDeterministic(phantoms, false);
        check(serverCtx.senderSequence().peek() == ssnBefore + 1 && alarm.token() != null && alarm.observers() == 0,
                "OMN_13 the group observation starts at once: no sequence number for the deterministic phantom, one for "
                        + "INIT_NOTIF", ssnBefore + " / " + serverCtx.senderSequence().peek());

        CoapEndpoint plainEp = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(GroupEndpointBuilder.defaultConfiguration()).setOptionRegistry(EXT.californiumRegistry()).build();
        List<ProxiedClient> proxied = new CopyOnWriteArrayList<>();
        plainEp.addNotificationListener((req, resp) -> {
            for (ProxiedClient p : proxied) {
                if (p.request.getToken().equals(req.getToken())) {
                    p.onResponse(resp);
                }
            }
        });
        plainEp.start();
        GroupObservationScenario.NetworkIntf nif = new GroupObservationScenario.NetworkIntf();
        GroupOscoreObservationScenario.GroupScenarioObserver direct = new GroupOscoreObservationScenario.GroupScenarioObserver();
        try (ProxyServer proxy = GroupObservationProxyScenario.proxy(PROXY.getHostString() + ":" + PROXY.getPort(),
                "group_observations: {interface: lo, max_observers: 1000}")) {
            // the direct client: the deterministic request, byte for byte the stored phantom, straight to the server
            ProtectionPipeline directPipeline = new ProtectionPipeline(EXT);
            ProtectionPipeline.ProtectedRequest sent = deterministic(member(0, ids, keys, creds, gm), ph, directPipeline);
            Request reg = new Request(sent.wire().getCode(), CoAP.Type.CON);
            reg.setOptions(new OptionSet(sent.wire().getOptions()));
            reg.setPayload(sent.wire().getPayload());
            reg.setDestinationContext(new AddressEndpointContext(SERVER));
            reg.send(plainEp);
            Response ir = reg.waitForResponse(5000);
            InformativeResponse decoded = ir == null ? null : InformativeResponse.decode(ir.getPayload());
            check(Arrays.equals(TransportIndependent.encode(sent.wire()), ph.wire()) && ir != null
                    && ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && ir.getType() == CoAP.Type.CON
                    && !ir.getOptions().hasOscore() && !ir.getOptions().hasObserve() && ir.getOptions().getContentFormat() == CF
                    && decoded.phReq() == null && decoded.lastNotif() != null && Arrays.equals(decoded.tpInfo().token(), alarm.token()),
                    "OMN_13 the direct registration, byte for byte the deterministic phantom, got an unprotected informative "
                            + "response (5.03, CON, no OSCORE, no Observe, tp_info with Token T, last_notif, no ph_req)", ir);
            direct.client = GroupObservationClient.joinDeterministic(ir, sent, CF, nif.get(), EXT.californiumRegistry(), direct,
                    directPipeline);
            reg.cancel();
            check(direct.got.equals(List.of("last_notif state 0")),
                    "OMN_13 the direct client verified last_notif as a response to the deterministic request it sent", direct.got);

            // two clients through the proxy, each its own member context: the same deterministic request, other Tokens
            ProxiedClient p1 = new ProxiedClient(member(0, ids, keys, creds, gm), ph, (byte) 0x4a);
            ProxiedClient p2 = new ProxiedClient(member(2, ids, keys, creds, gm), ph, (byte) 0x01);
            proxied.add(p1);
            proxied.add(p2);
            int before = atServer.get();
            p1.request.send(plainEp);
            waitFor(() -> !p1.got.isEmpty());
            check(p1.got.size() == 1 && p1.got.get(0).getCode() == CoAP.ResponseCode.CONTENT
                    && p1.got.get(0).getOptions().hasObserve() && p1.got.get(0).getOptions().hasOscore()
                    && Arrays.equals(p1.got.get(0).getTokenBytes(), new byte[] {0x4a, 0x4a})
                    && p1.verified.equals(List.of("state 0")),
                    "MNP_06 the first client through the proxy gets last_notif (2.05, Observe, OSCORE, its own Token) and "
                            + "verifies it as a response to its deterministic request", p1.got + " " + p1.verified + " " + p1.refused);
            check(atServer.get() == before + 1 && alarm.observers() == 2
                    && proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1.0,
                    "MNP_06 the proxy forwarded the deterministic request once (no Listen-To-Multicast-Responses) and joined the "
                            + "group observation from the unprotected informative response",
                    (atServer.get() - before) + " / " + alarm.observers());
            p2.request.send(plainEp);
            waitFor(() -> !p2.got.isEmpty());
            check(p2.verified.equals(List.of("state 0")) && atServer.get() == before + 1 && alarm.observers() == 2,
                    "MNP_06 the second client's same deterministic request is served by the proxy: the latest notification, "
                            + "verified; nothing more reached the server", p2.got + " " + (atServer.get() - before));

            alarm.state = 1;
            alarm.changed();
            waitFor(() -> direct.got.size() == 2 && p1.verified.size() == 2 && p2.verified.size() == 2);
            check(direct.got.equals(List.of("last_notif state 0", "state 1")) && p1.verified.equals(List.of("state 0", "state 1"))
                    && p2.verified.equals(List.of("state 0", "state 1")) && toGroup.size() == 1,
                    "OMN_13 one multicast datagram per change, verified by the direct client and by both clients through the "
                            + "proxy", direct.got + " " + p1.verified + " " + p2.verified + " " + toGroup.size());
            Response onWire = toGroup.isEmpty() ? null : (Response) new org.eclipse.californium.core.network.serialization
                    .UdpDataParser(false, EXT.californiumRegistry()).parseMessage(toGroup.get(0));
            OscoreOptionValue ov = onWire == null ? null : OscoreOptionValue.decode(onWire.getOptions().getOscore(), true);
            check(onWire != null && onWire.getType() == CoAP.Type.NON && Arrays.equals(onWire.getTokenBytes(), alarm.token())
                    && onWire.getCode() == CoAP.ResponseCode.CONTENT && onWire.getOptions().hasObserve() && ov.groupFlag()
                    && Arrays.equals(ov.kid(), ids.get(1)) && ov.partialIv() != null,
                    "OMN_13 the notification is NON, Token T, outer 2.05 with Observe, group mode with the server's kid a1 and "
                            + "its own Partial IV", onWire);
            check(p1.refused.isEmpty() && p2.refused.isEmpty() && direct.client.dropped() == 0,
                    "OMN_13 nothing failed verification", p1.refused + " " + p2.refused + " " + direct.client.dropped());
            direct.client.close();
        } finally {
            plainEp.destroy();
            alarm.close();
            server.destroy();
        }
    }

    private static void waitFor(java.util.function.BooleanSupplier done) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(20);
        }
    }

    /** The server's connector, counting what goes to the group. */
    private record CountingConnector(org.eclipse.californium.elements.Connector c, List<byte[]> toGroup)
            implements org.eclipse.californium.elements.Connector {
        @Override public void start() throws java.io.IOException { c.start(); }
        @Override public void stop() { c.stop(); }
        @Override public void destroy() { c.destroy(); }
        @Override public void send(RawData m) {
            if (m.getInetSocketAddress().getAddress().isMulticastAddress()) {
                toGroup.add(m.getBytes());
            }
            c.send(m);
        }
        @Override public void setRawDataReceiver(org.eclipse.californium.elements.RawDataChannel r) { c.setRawDataReceiver(r); }
        @Override public void setEndpointContextMatcher(org.eclipse.californium.elements.EndpointContextMatcher m) {
            c.setEndpointContextMatcher(m);
        }
        @Override public InetSocketAddress getAddress() { return c.getAddress(); }
        @Override public String getProtocol() { return c.getProtocol(); }
        @Override public boolean isRunning() { return c.isRunning(); }
        @Override public void processDatagram(java.net.DatagramPacket d) { c.processDatagram(d); }
    }

    private static GroupContext member(int i, List<byte[]> ids, List<PrivateKey> keys, List<Credential> creds, Credential gm)
            throws Exception {
        GroupContext.Builder b = GroupContext.builder().name("alarms").algorithms(GroupAlgorithms.defaults())
                .gid(Hex.decode("b1f05c")).masterSecret(SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"))
                .masterSalt(Hex.decode("9e7c")).groupManagerCredential(gm).sender(ids.get(i), keys.get(i), creds.get(i))
                .deterministicClient(Hex.decode("dc"), HashAlgorithm.SHA_256).stateStore(SecurityStateStore.inMemory());
        for (int j = 0; j < ids.size(); j++) {
            if (j != i) {
                b.member(ids.get(j), creds.get(j));
            }
        }
        return b.build();
    }
}
