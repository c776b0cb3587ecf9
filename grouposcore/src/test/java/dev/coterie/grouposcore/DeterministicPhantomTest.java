package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.DeterministicPhantoms;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.TpInfo;
import dev.coterie.oscore.TransportIndependent;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.EndpointContextMatcher;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.RawDataChannel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deterministic phantom requests (observe-multicast-notifications Appendix D, digest 6.7 OMN-13)
 * between a Coterie server on loopback UDP and a client that speaks raw datagrams, so that every
 * byte sent is the test's: the server recognises a registration that is byte for byte its stored
 * deterministic phantom, before any Group OSCORE processing, and answers it with an unprotected
 * informative response; a registration that differs in any byte is processed as an ordinary
 * OSCORE request. The multicast notifications the resource sends are captured at its connector
 * (no multicast on loopback) and verified by the client as responses to the request it sent.
 */
class DeterministicPhantomTest {
    private static final byte[] DET = {(byte) 0xdc};
    private static final ExtensionOptionRegistry REG = ExtensionOptionRegistry.defaults();
    private static final OptionRegistry OPTIONS = REG.californiumRegistry();
    private static final InetSocketAddress GRP = new InetSocketAddress("224.0.1.189", 5683);
    private static final int CF = InformativeResponse.DEFAULT_CONTENT_FORMAT;

    private final ProtectionPipeline serverPipeline = new ProtectionPipeline(REG);
    private final ProtectionPipeline clientPipeline = new ProtectionPipeline(REG);
    private final AtomicReference<String> state = new AtomicReference<>("state 0");
    private TestGroup g;
    private GroupContext a1;
    private GroupContextDb serverDb;
    private GroupContextDb clientDb;
    private DeterministicPhantoms phantoms;
    private CoapServer server;
    private InetSocketAddress serverAddress;
    private DatagramSocket socket;
    private int mid = 100;

    /** The resource's socket towards the group: what it would send to GRP is kept here. */
    private static final class Capture implements Connector {
        final InetSocketAddress address;
        final List<RawData> sent = new CopyOnWriteArrayList<>();

        Capture(InetSocketAddress address) {
            this.address = address;
        }

        @Override public void start() { }
        @Override public void stop() { }
        @Override public void destroy() { }
        @Override public void send(RawData msg) { sent.add(msg); }
        @Override public void setRawDataReceiver(RawDataChannel r) { }
        @Override public void setEndpointContextMatcher(EndpointContextMatcher m) { }
        @Override public InetSocketAddress getAddress() { return address; }
        @Override public String getProtocol() { return "UDP"; }
        @Override public boolean isRunning() { return true; }
        @Override public void processDatagram(DatagramPacket d) { }
    }

    private final class Alarm extends GroupObservedResource {
        Alarm(String name) {
            super(name, GRP, CF);
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(0).setMaxAge(3000);
            r.setPayload(state.get());
            return r;
        }
    }

    private Alarm alarm;
    private Capture alarmOut;
    private GroupObservedResource.DeterministicPhantom alarmPhantom;
    private Alarm fire;
    private Capture fireOut;
    private GroupObservedResource.DeterministicPhantom firePhantom;

    @BeforeEach
    void start() throws Exception {
        g = new TestGroup(GroupAlgorithms.defaults(), new byte[] {(byte) 0xb1, (byte) 0xf0, 0x5c},
                SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10"));
        g.detSenderId = DET;
        g.client = g.member(0, SecurityStateStore.inMemory());
        a1 = g.member(1, SecurityStateStore.inMemory());
        serverDb = new GroupContextDb().add(a1);
        clientDb = new GroupContextDb().add(g.client);
        phantoms = new DeterministicPhantoms(4);
        server = new CoapServer(GroupEndpointBuilder.defaultConfiguration());
        server.addEndpoint(new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .configuration(GroupEndpointBuilder.defaultConfiguration()).serverGroups(serverDb)
                .deterministicRequests(r -> List.of("alarm").equals(r.getOptions().getUriPath())
                        || List.of("fire").equals(r.getOptions().getUriPath()))
                .deterministicPhantoms(phantoms).build());
        alarm = new Alarm("alarm");
        fire = new Alarm("fire");
        server.add(alarm, fire);
        server.start();
        serverAddress = new InetSocketAddress("127.0.0.1", server.getEndpoints().get(0).getAddress().getPort());
        alarmOut = new Capture(serverAddress);
        fireOut = new Capture(serverAddress);
        GroupObservationProtection sec = new GroupObservationProtection(a1, serverDb, serverPipeline, REG);
        alarm.sendFrom(alarmOut, serverAddress).protectedBy(sec);
        fire.sendFrom(fireOut, serverAddress).protectedBy(sec);
        alarmPhantom = alarm.startDeterministic(phantoms, false);
        firePhantom = fire.startDeterministic(phantoms, true);
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        socket.setSoTimeout(5000);
    }

    @AfterEach
    void stop() {
        socket.close();
        alarm.close();
        fire.close();
        server.destroy();
    }

    /** What a client computes from the plain phantom it got out of band: the deterministic request. */
    private ProtectionPipeline.ProtectedRequest deterministic(GroupObservedResource.DeterministicPhantom ph) throws Exception {
        Request plain = new Request(ph.plain().getCode(), CoAP.Type.CON);
        plain.setOptions(new OptionSet(ph.plain().getOptions()));
        plain.setToken(new byte[] {0x4a});
        return clientPipeline.protectRequest(plain, g.client.deterministic(a1.senderId(), clientDb, REG, false, 0));
    }

    private byte[] datagram(Request wire, byte[] token) {
        Request r = new Request(wire.getCode(), CoAP.Type.CON);
        r.setOptions(new OptionSet(wire.getOptions()));
        r.setPayload(wire.getPayload());
        r.setToken(token);
        r.setMID(mid++);
        return new UdpDataSerializer().getByteArray(r);
    }

    /** Sends one CON request datagram; the response (piggybacked or the separate one, which is acknowledged). */
    private Response send(byte[] datagram) throws Exception {
        socket.send(new DatagramPacket(datagram, datagram.length, serverAddress));
        byte[] buf = new byte[2048];
        for (int i = 0; i < 4; i++) {
            DatagramPacket d = new DatagramPacket(buf, buf.length);
            socket.receive(d);
            Message m = new UdpDataParser(false, OPTIONS).parseMessage(java.util.Arrays.copyOf(buf, d.getLength()));
            if (m instanceof Response r) {
                if (r.getType() == CoAP.Type.CON) {
                    EmptyMessage ack = EmptyMessage.newACK(r);
                    ack.setToken(org.eclipse.californium.core.coap.Token.EMPTY);
                    byte[] a = new UdpDataSerializer().getByteArray(ack);
                    socket.send(new DatagramPacket(a, a.length, serverAddress));
                }
                return r;
            }
        }
        throw new AssertionError("no response");
    }

    /**
     * A change of {@code r}: its notification goes to the {@link Capture} connector, memory only.
     * MulticastGuard refuses a multicast destination outside a private namespace; nothing reaches
     * a network here, so the opt-in is set for this one call and cleared again.
     */
    private static void changedInMemory(GroupObservedResource r) {
        String before = System.getProperty(dev.coterie.oscore.MulticastGuard.OPT_IN);
        System.setProperty(dev.coterie.oscore.MulticastGuard.OPT_IN, "allow");
        try {
            r.changed();
        } finally {
            if (before == null) {
                System.clearProperty(dev.coterie.oscore.MulticastGuard.OPT_IN);
            } else {
                System.setProperty(dev.coterie.oscore.MulticastGuard.OPT_IN, before);
            }
        }
    }

    private static InformativeResponse payload(Response r) {
        return InformativeResponse.decode(r.getPayload());
    }

    /** The one multicast datagram sent since {@code before}, parsed. */
    private static Response multicast(Capture out, int index) {
        RawData d = out.sent.get(index);
        assertEquals(GRP, d.getInetSocketAddress(), "to the group");
        return (Response) new UdpDataParser(false, OPTIONS).parseMessage(d.getBytes());
    }

    @Test
    void OMN_13_phantomIsTheDeterministicRequestEveryMemberComputes() throws Exception {
        ProtectionPipeline.ProtectedRequest sent = deterministic(alarmPhantom);
        byte[] ti = TransportIndependent.encode(sent.wire());
        assertEquals(Hex.encode(alarmPhantom.wire()), Hex.encode(ti), "the client's deterministic request is the stored phantom");
        assertEquals(0x05, ti[0] & 0xff, "outer code 0.05 FETCH (DET-04)");
        assertEquals(0, sent.wire().getOptions().getObserve(), "outer Observe 0: the phantom registers");
        OscoreOptionValue o = OscoreOptionValue.decode(sent.wire().getOptions().getOscore(), true);
        assertArrayEquals(DET, o.kid(), "kid = the Deterministic Client's Sender ID");
        assertArrayEquals(new byte[] {0}, o.partialIv(), "Partial IV 0");
        assertArrayEquals(g.gid, o.kidContext(), "kid context = Gid");
        assertFalse(o.groupFlag(), "pairwise-mode request (cacheable-oscore 3.3)");
        int hash = REG.byName(ExtensionOptionRegistry.REQUEST_HASH).number();
        assertNotNull(sent.wire().getOptions().getOtherOption(hash), "Request-Hash outer (class U)");
        assertTrue(sent.wire().getOptions().getUriPath().isEmpty(), "Uri-Path is inside the ciphertext");
        assertEquals(List.of("alarm"), alarmPhantom.plain().getOptions().getUriPath(), "the plain phantom to publish");
        assertEquals(0, alarmPhantom.plain().getOptions().getObserve());
        assertEquals(TpInfo.udp(serverAddress, GRP, alarm.token()), alarmPhantom.tpInfo());
        assertFalse(java.util.Arrays.equals(alarmPhantom.wire(), firePhantom.wire()), "each resource its own phantom");
    }

    /**
     * App. D: "the server recognizes the phantom request among the stored ones ... a byte-by-byte
     * comparison ... the server does not perform any Group OSCORE processing on it ... MUST reply
     * with an informative response that MUST NOT be protected".
     */
    @Test
    void OMN_13_recognisedDeterministicPhantomGetsAnUnprotectedInformativeResponse() throws Exception {
        ProtectionPipeline.ProtectedRequest sent = deterministic(alarmPhantom);
        long ssnBefore = a1.senderSequence().peek();
        Response r = send(datagram(sent.wire(), new byte[] {0x4a}));
        assertEquals(CoAP.ResponseCode.SERVICE_UNAVAILABLE, r.getCode(), "5.03 on the wire: not protected (no outer 2.05)");
        assertEquals(CoAP.Type.CON, r.getType(), "a Confirmable separate response");
        assertFalse(r.getOptions().hasOscore(), "no OSCORE option: the informative response is not protected");
        assertFalse(r.getOptions().hasObserve(), "no Observe");
        assertEquals(CF, r.getOptions().getContentFormat());
        assertEquals(0L, r.getOptions().getMaxAge());
        assertArrayEquals(new byte[] {0x4a}, r.getTokenBytes());
        assertEquals(ssnBefore, a1.senderSequence().peek(), "no Group OSCORE processing: no sequence number taken");
        assertEquals(1, alarm.observers(), "counted");
        InformativeResponse ir = payload(r);
        assertEquals(Hex.encode(TpInfo.udp(serverAddress, GRP, alarm.token()).encode()), Hex.encode(ir.tpInfo().encode()));
        assertNull(ir.phReq(), "ph_req omitted: it is the client's own request (App. D)");
        Response last = TransportIndependent.response(ir.lastNotif(), OPTIONS, "last_notif");
        assertEquals(CoAP.ResponseCode.CONTENT, last.getCode(), "last_notif: outer 2.05 of a response to a deterministic request");
        OscoreOptionValue lo = OscoreOptionValue.decode(last.getOptions().getOscore(), true);
        assertTrue(lo.groupFlag(), "last_notif in group mode");
        assertArrayEquals(a1.senderId(), lo.kid(), "with the server's kid");
        assertEquals(3000L, last.getOptions().getMaxAge(), "outer Max-Age = inner (DET-07)");

        // the client (OMN-13): ph_req absent, last_notif verified as a response to the request it sent
        GroupObservationClient.Parsed p = GroupObservationClient.checkDeterministic(r, sent, CF, OPTIONS, clientPipeline);
        assertEquals("state 0", p.last().getPayloadString());
        assertEquals(ProtectionMode.DETERMINISTIC, p.binding().mode());
        assertArrayEquals(alarm.token(), p.tp().token());

        // a change: one multicast notification, bound to the deterministic request, verified by the client
        state.set("state 1");
        if (System.getenv(dev.coterie.oscore.MulticastGuard.OPT_IN) == null
                && System.getProperty(dev.coterie.oscore.MulticastGuard.OPT_IN) == null
                && !dev.coterie.oscore.MulticastGuard.externalInterfaces().isEmpty()) {
            // outside a private namespace and without the opt-in, the guard refuses the multicast notification:
            // nothing leaves (fail closed); the call below, with the opt-in, is the positive control
            try {
                alarm.changed();
            } catch (IllegalStateException refused) {
                // the guard's refusal may surface here
            }
            assertEquals(0, alarmOut.sent.size(), "MulticastGuard let a notification out outside a private namespace");
        }
        changedInMemory(alarm);
        assertEquals(1, alarmOut.sent.size());
        Response n = multicast(alarmOut, 0);
        assertEquals(CoAP.Type.NON, n.getType());
        assertArrayEquals(alarm.token(), n.getTokenBytes(), "Token T");
        assertEquals(CoAP.ResponseCode.CONTENT, n.getCode());
        assertTrue(n.getOptions().hasObserve(), "Observe");
        OscoreOptionValue no = OscoreOptionValue.decode(n.getOptions().getOscore(), true);
        assertTrue(no.groupFlag());
        assertArrayEquals(a1.senderId(), no.kid());
        assertFalse(java.util.Arrays.equals(lo.partialIv(), no.partialIv()), "its own Partial IV");
        assertEquals("state 1", clientPipeline.unprotectResponse(n, p.binding()).plain().getPayloadString());
    }

    /**
     * App. D: only the incoming message's bytes decide (code, outer options, ciphertext). The
     * same request with Observe 0 encoded as one zero byte is the same request to any parser,
     * but not the same bytes: it is processed as an ordinary deterministic request and answered
     * "as usual" (protected, with the expected deterministic request as ph_req); one with a
     * changed ciphertext byte does not decrypt (4.00). Positive control: the exact bytes.
     */
    @Test
    void OMN_13_aRegistrationThatDiffersInAnyByteIsNotThePhantom() throws Exception {
        ProtectionPipeline.ProtectedRequest sent = deterministic(alarmPhantom);
        byte[] exact = datagram(sent.wire(), new byte[] {0x4b});
        int first = 4 + 1; // header and a one-byte Token: the first option is Observe (6), empty
        assertEquals(0x60, exact[first] & 0xff, "control: Observe 0 encoded as an empty option");
        byte[] observeByte = new byte[exact.length + 1];
        System.arraycopy(exact, 0, observeByte, 0, first);
        observeByte[first] = 0x61;
        observeByte[first + 1] = 0x00;
        System.arraycopy(exact, first + 1, observeByte, first + 2, exact.length - first - 1);
        observeByte[3] = (byte) (mid++); // a new Message ID

        long ssnBefore = a1.senderSequence().peek();
        Response asUsual = send(observeByte);
        assertTrue(asUsual.getOptions().hasOscore(), "not recognised: the answer is protected");
        assertEquals(CoAP.ResponseCode.CONTENT, asUsual.getCode(), "outer 2.05 (a response to a deterministic request)");
        assertEquals(ssnBefore + 1, a1.senderSequence().peek(), "Group OSCORE processing took place: a sequence number");
        Response inner = clientPipeline.unprotectResponse(asUsual, sent.identifiers()).plain();
        assertEquals(CoAP.ResponseCode.SERVICE_UNAVAILABLE, inner.getCode());
        assertEquals(CF, inner.getOptions().getContentFormat());
        assertFalse(inner.getOptions().hasMaxAge(), "no Max-Age 0 on a response to a deterministic request (DET-07)");
        assertEquals(Hex.encode(alarmPhantom.wire()), Hex.encode(payload(inner).phReq()),
                "App. D: the informative response as usual names the expected deterministic request");

        byte[] ciphertext = exact.clone();
        ciphertext[ciphertext.length - 1] ^= 0x01;
        ciphertext[3] = (byte) (mid++);
        long observers = alarm.observers();
        Response bad = send(ciphertext);
        assertEquals(CoAP.ResponseCode.BAD_REQUEST, bad.getCode(), "processed as OSCORE: it does not decrypt");
        assertEquals("Decryption failed", bad.getPayloadString());
        assertFalse(bad.getOptions().hasOscore());
        assertEquals(observers, alarm.observers(), "nothing counted");

        // positive control: the exact bytes are the phantom
        Response ok = send(exact);
        assertEquals(CoAP.ResponseCode.SERVICE_UNAVAILABLE, ok.getCode());
        assertFalse(ok.getOptions().hasOscore(), "recognised: unprotected");
        assertEquals(observers + 1, alarm.observers());
    }

    /**
     * App. D: "If a client receives an informative response that includes the 'ph_req' parameter
     * and this specifies transport-independent information different from the one of the sent
     * Deterministic Request, then the client considers the informative response malformed."
     */
    @Test
    void OMN_13_clientWithdrawsWhenPhReqIsNotTheDeterministicRequestItSent() throws Exception {
        ProtectionPipeline.ProtectedRequest sent = deterministic(firePhantom);
        Response r = send(datagram(sent.wire(), new byte[] {0x4c}));
        assertFalse(r.getOptions().hasOscore());
        InformativeResponse ir = payload(r);
        assertEquals(Hex.encode(firePhantom.wire()), Hex.encode(ir.phReq()), "this resource sends ph_req");
        // positive control: the server's ph_req is the request sent
        assertEquals("state 0", GroupObservationClient.checkDeterministic(r, sent, CF, OPTIONS, clientPipeline).last()
                .getPayloadString());

        for (int i : new int[] {0, ir.phReq().length / 2, ir.phReq().length - 1}) {
            byte[] other = ir.phReq().clone();
            other[i] ^= 0x01;
            Response changed = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
            changed.getOptions().setContentFormat(CF).setMaxAge(0);
            changed.setPayload(InformativeResponse.of(ir.tpInfo(), other, ir.lastNotif()).encode());
            GroupObservationClient.Withdraw w = assertThrows(GroupObservationClient.Withdraw.class,
                    () -> GroupObservationClient.checkDeterministic(changed, sent, CF, OPTIONS, clientPipeline), "byte " + i);
            assertTrue(w.getMessage().contains("malformed"), w.getMessage());
        }
        // another resource's deterministic request is not this one either
        Response alarms = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
        alarms.getOptions().setContentFormat(CF).setMaxAge(0);
        alarms.setPayload(InformativeResponse.of(ir.tpInfo(), alarmPhantom.wire(), null).encode());
        assertThrows(GroupObservationClient.Withdraw.class,
                () -> GroupObservationClient.checkDeterministic(alarms, sent, CF, OPTIONS, clientPipeline));
    }

    /** The store's limit is enforced: a resource whose phantom does not fit does not start. */
    @Test
    void OMN_13_theNumberOfStoredPhantomsIsBounded() throws Exception {
        DeterministicPhantoms one = new DeterministicPhantoms(1);
        Alarm first = new Alarm("first");
        Alarm second = new Alarm("second");
        server.add(first, second);
        GroupObservationProtection sec = new GroupObservationProtection(a1, serverDb, serverPipeline, REG);
        first.sendFrom(new Capture(serverAddress), serverAddress).protectedBy(sec);
        second.sendFrom(new Capture(serverAddress), serverAddress).protectedBy(sec);
        try {
            first.startDeterministic(one, false);
            assertEquals(1, one.size());
            assertNotNull(first.token(), "control: the first one runs");
            assertThrows(IllegalStateException.class, () -> second.startDeterministic(one, false));
            assertNull(second.token(), "the second one does not run");
            assertEquals(1, one.size());
            first.cancel();
            assertEquals(0, one.size());
            second.startDeterministic(one, false);
            assertNotNull(second.token(), "room again after the cancellation");
        } finally {
            first.close();
            second.close();
        }
        assertThrows(IllegalArgumentException.class, () -> new DeterministicPhantoms(0));
    }

    /** Cancelling the group observation forgets the phantom: the same bytes are then processed as OSCORE. */
    @Test
    void OMN_13_cancelledPhantomIsNoLongerRecognised() throws Exception {
        ProtectionPipeline.ProtectedRequest sent = deterministic(alarmPhantom);
        assertFalse(send(datagram(sent.wire(), new byte[] {0x4d})).getOptions().hasOscore(), "control: recognised");
        alarm.cancel();
        assertEquals(1, phantoms.size(), "only fire's phantom is stored");
        Response after = send(datagram(sent.wire(), new byte[] {0x4e}));
        assertTrue(after.getOptions().hasOscore(), "processed as an ordinary deterministic request");
        assertEquals(CoAP.ResponseCode.CONTENT, after.getCode());
    }
}
