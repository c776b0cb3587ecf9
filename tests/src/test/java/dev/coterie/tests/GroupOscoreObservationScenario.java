package dev.coterie.tests;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.grouposcore.GroupObservationProtection;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.GroupObservationClient;
import dev.coterie.oscore.InformativeResponse;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.SecurityTrace;
import dev.coterie.oscore.TransportIndependent;
import java.net.DatagramPacket;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.RawData;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): the Group OSCORE
 * variant of group observations (observe-multicast-notifications Section 9, digest 6.6, OMN-10,
 * OMN-11). Server a1 protects /alarm's phantom with its own Sender ID; three observers register
 * with pairwise-protected requests, get protected informative responses, verify the phantom and
 * every multicast notification. Prints "CHECK ok NAME" per check and "SCENARIO OK" when all passed.
 */
public final class GroupOscoreObservationScenario {
    static final InetSocketAddress SERVER = new InetSocketAddress(GroupObservationScenario.SERVER.getAddress(), 5811);
    static final InetSocketAddress GROUP = GroupObservationScenario.GROUP;
    private static final ScenarioChecks CHECKS = new ScenarioChecks();

    private GroupOscoreObservationScenario() {
    }

    public static void main(String[] args) {
        CHECKS.exit(GroupOscoreObservationScenario::run);
    }

    static void check(boolean ok, String name, Object detail) {
        CHECKS.check(ok, name, detail);
    }

    private static Request registration() {
        Request r = Request.newGet();
        r.setURI("coap://127.0.0.1:" + SERVER.getPort() + "/alarm");
        r.setObserve();
        return r;
    }

    /** Every datagram to the group, as an eavesdropper in the namespace sees it. */
    static final class Tap implements Runnable {
        final List<byte[]> seen = new CopyOnWriteArrayList<>();
        final MulticastSocket socket;

        Tap() throws Exception {
            this(GROUP);
        }

        /** Every datagram to {@code group} on the namespace's loopback. */
        Tap(InetSocketAddress group) throws Exception {
            socket = new MulticastSocket(group);
            socket.joinGroup(new InetSocketAddress(group.getAddress(), 0), java.net.NetworkInterface.getByName("lo"));
        }

        @Override
        public void run() {
            byte[] buf = new byte[2048];
            while (!socket.isClosed()) {
                DatagramPacket d = new DatagramPacket(buf, buf.length);
                try {
                    socket.receive(d);
                } catch (java.io.IOException e) {
                    return;
                }
                seen.add(Arrays.copyOf(buf, d.getLength()));
            }
        }
    }

    private static void run() throws Exception {
        GroupAlgorithms algs = GroupAlgorithms.defaults();
        byte[] gid = Hex.decode("b1f05c");
        SecretBytes secret = SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10");
        List<byte[]> ids = List.of(Hex.decode("c1"), Hex.decode("a1"));
        List<PrivateKey> keys = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        for (byte[] id : ids) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519);
            keys.add(k);
            creds.add(Credential.ccs("member-" + Hex.encode(id), k));
        }
        Credential gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(PrivateKey.Type.ED25519));
        GroupContext serverCtx = member(1, ids, keys, creds, algs, gid, secret, gm);
        GroupContextDb serverDb = new GroupContextDb().add(serverCtx);
        ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

        // unprotected requests are delivered (an endpoint with public resources): the resource itself must refuse them
        CoapEndpoint sep = new GroupEndpointBuilder().configuration(GroupEndpointBuilder.defaultConfiguration()).bind(SERVER)
                .serverGroups(serverDb).unprotectedRequests(dev.coterie.oscore.OscoreLayer.UnprotectedRequests.DELIVER).build();
        CoapServer server = new CoapServer(GroupEndpointBuilder.defaultConfiguration());
        server.addEndpoint(sep);
        GroupObservationScenario.Alarm alarm = new GroupObservationScenario.Alarm();
        alarm.protectedBy(new GroupObservationProtection(serverCtx, serverDb, pipeline));
        server.add(alarm);
        server.start();
        alarm.sendFrom(sep.getConnector(), SERVER);

        GroupContext clientCtx = member(0, ids, keys, creds, algs, gid, secret, gm);
        GroupContextDb clientDb = new GroupContextDb().add(clientCtx);
        List<Response> informativeOnWire = new CopyOnWriteArrayList<>();
        SecurityTrace trace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.RESPONSE_VERIFIED && plain.getOptions().getContentFormat()
                    == InformativeResponse.DEFAULT_CONTENT_FORMAT) {
                informativeOnWire.add((Response) wire);
            }
        };
        CoapEndpoint cep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .clientBinding(new ClientContextBinding().endpointDefault(clientCtx.pairwise(ids.get(1), clientDb)))
                .trace(trace).build();
        cep.start();
        CoapEndpoint plainEp = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(GroupEndpointBuilder.defaultConfiguration()).build();
        plainEp.start();
        Tap tap = new Tap();
        Thread tapThread = new Thread(tap, "tap");
        tapThread.setDaemon(true);
        tapThread.start();
        GroupObservationScenario.NetworkIntf nif = new GroupObservationScenario.NetworkIntf();
        try {
            // an unprotected registration: 4.01, nothing absorbed (notifications are protected, digest 6.6)
            Request plainReg = registration();
            plainReg.send(plainEp);
            Response pr = plainReg.waitForResponse(5000);
            check(pr != null && pr.getCode() == CoAP.ResponseCode.UNAUTHORIZED && pr.getPayload().length == 0
                    && alarm.token() == null && alarm.observers() == 0,
                    "OMN_11 an unprotected registration gets 4.01 and starts nothing", pr);
            plainReg.cancel();

            long ssnBefore = serverCtx.senderSequence().peek();
            List<GroupScenarioObserver> observers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                GroupScenarioObserver o = new GroupScenarioObserver();
                Request reg = registration();
                reg.send(cep);
                o.informative = reg.waitForResponse(5000);
                if (o.informative == null) {
                    check(false, "OMN_11 informative response " + i, "none");
                    continue;
                }
                o.client = GroupObservationClient.join(o.informative, reg, InformativeResponse.DEFAULT_CONTENT_FORMAT, nif.get(),
                        ExtensionOptionRegistry.defaults().californiumRegistry(), o, null,
                        new GroupObservationProtection(clientCtx, clientDb, pipeline));
                observers.add(o);
            }
            check(observers.size() == 3 && alarm.observers() == 3, "OMN_10 three protected registrations absorbed and joined",
                    observers.size() + " / " + alarm.observers());

            Response ir = observers.get(0).informative;
            Response irWire = informativeOnWire.isEmpty() ? null : informativeOnWire.get(0);
            check(OscorePeer.of(ir) != null && ir.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && irWire != null
                    && irWire.getOptions().hasOscore() && irWire.getCode() == CoAP.ResponseCode.CHANGED
                    && irWire.getType() == CoAP.Type.CON && !irWire.getOptions().hasContentFormat()
                    && informativeOnWire.size() == 3,
                    "OMN_11 every informative response is OSCORE-protected (outer 2.04, CON, the 5.03 and its Content-Format "
                    + "inside)", irWire);

            InformativeResponse decoded = InformativeResponse.decode(ir.getPayload());
            byte[] phReq = decoded.phReq();
            Request phWire = alarm.protectedPhantom();
            byte[] option = phWire == null ? null : phWire.getOptions().getOscore();
            OscoreOptionValue ov = option == null ? null : OscoreOptionValue.decode(option, true);
            check(phReq != null && phReq[0] == 0x05 && Arrays.equals(phReq, TransportIndependent.encode(phWire)) && ov != null
                    && ov.groupFlag() && Arrays.equals(ov.kid(), ids.get(1)) && Arrays.equals(ov.kidContext(), gid)
                    && ov.partialIv() != null && option[0] == (byte) (0x38 | ov.partialIv().length),
                    "OMN_10 ph_req is the protected phantom: FETCH, group mode, kid = the server's Sender ID a1, kid context "
                    + "= Gid, a Partial IV", phReq == null ? null : Hex.encode(phReq));
            check(ov != null && dev.coterie.oscore.SealingNonce.toLong(ov.partialIv()) >= ssnBefore
                    && serverCtx.senderSequence().peek() > dev.coterie.oscore.SealingNonce.toLong(ov.partialIv()),
                    "OMN_10 the phantom's Partial IV is a consumed Sender Sequence Number of the server",
                    ssnBefore + " / " + serverCtx.senderSequence().peek());
            check(Arrays.equals(observers.get(0).client.binding().partialIv(), ov.partialIv())
                    && Arrays.equals(observers.get(0).client.binding().kid(), ids.get(1)),
                    "OMN_10 each observer stored the phantom's kid, Partial IV and kid context", observers.get(0).client.binding());
            ownPhantomFromTheNetwork(phWire, serverCtx, alarm, cep);
            boolean baseline = observers.stream().allMatch(o -> o.got.equals(List.of("last_notif state 0")));
            check(baseline, "OMN_08 the protected last_notif is each observer's first notification", observers.get(0).got);

            // two changes: one protected datagram each, every observer gets both, in order
            int tapped = tap.seen.size();
            long sent = alarm.multicastSent();
            alarm.state = 1;
            alarm.changed();
            alarm.state = 2;
            alarm.changed();
            boolean all = GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.got.size() >= 3), 5000);
            boolean inOrder = observers.stream().allMatch(o -> o.got.equals(List.of("last_notif state 0", "state 1", "state 2")));
            check(all && inOrder && alarm.multicastSent() - sent == 2, "OMN_10 every observer verified both multicast "
                    + "notifications, in order, one datagram per change", observers.get(0).got);
            GroupObservationScenario.await(() -> tap.seen.size() >= tapped + 2, 3000);
            byte[] n1 = tap.seen.size() > tapped ? tap.seen.get(tapped) : new byte[0];
            Response n1m = n1.length == 0 ? null : (Response) new org.eclipse.californium.core.network.serialization
                    .UdpDataParser().parseMessage(n1);
            OscoreOptionValue nv = n1m == null || !n1m.getOptions().hasOscore() ? null
                    : OscoreOptionValue.decode(n1m.getOptions().getOscore(), true);
            check(nv != null && nv.groupFlag() && Arrays.equals(nv.kid(), ids.get(1)) && nv.partialIv() != null
                    && !Arrays.equals(nv.partialIv(), ov.partialIv()) && n1m.getType() == CoAP.Type.NON
                    && n1m.getOptions().hasObserve() && !new String(n1, java.nio.charset.StandardCharsets.ISO_8859_1)
                    .contains("state 1"),
                    "OMN_10 on the wire a notification is a group-mode response with the server's kid and its own Partial IV "
                    + "(not the phantom's), NON with Observe, and no plaintext", n1m);

            // a tampered copy and a replay, both from the server's own socket: dropped; the genuine ones are the control
            long dropped = observers.get(0).client.dropped();
            byte[] tampered = n1.clone();
            tampered[tampered.length - 1] ^= 0x01;
            sep.getConnector().send(RawData.outbound(tampered, new AddressEndpointContext(GROUP), null, false));
            sep.getConnector().send(RawData.outbound(n1, new AddressEndpointContext(GROUP), null, false));
            // and an unprotected cancellation with Token T from there: not the server's, since it is not protected
            Response fakeCancel = new Response(CoAP.ResponseCode.SERVICE_UNAVAILABLE);
            fakeCancel.setType(CoAP.Type.NON);
            fakeCancel.setToken(Token.fromProvider(alarm.token()));
            fakeCancel.setMID(77);
            sep.getConnector().send(RawData.outbound(new UdpDataSerializer().getByteArray(fakeCancel),
                    new AddressEndpointContext(GROUP), null, false));
            boolean droppedAll = GroupObservationScenario.await(
                    () -> observers.stream().allMatch(o -> o.client.dropped() >= dropped + 3), 5000);
            check(droppedAll && observers.stream().allMatch(o -> o.got.size() == 3 && o.ended == null),
                    "OMN_10 a tampered notification, a replayed one and an unprotected 5.03 are dropped and counted",
                    observers.get(0).client.dropped() - dropped + " " + observers.get(0).got + " " + observers.get(0).ended);
            check(observers.stream().allMatch(o -> o.unverified.size() >= 2 && o.unverified.size()
                            <= GroupObservationClient.MAX_REASONS_REPORTED
                            && o.unverified.stream().distinct().count() == o.unverified.size()),
                    "OMN_10 a notification that does not verify is told to the listener, not dropped silently: each reason once",
                    observers.get(0).unverified);
            alarm.state = 3;
            alarm.changed();
            check(GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.got.size() == 4
                    && o.got.get(3).equals("state 3")), 5000), "OMN_10 positive control: the next genuine notification is "
                    + "delivered", observers.get(0).got);

            // OMN-11: the protected multicast 5.03 ends the group observation
            int beforeCancel = tap.seen.size();
            alarm.cancel();
            boolean ended = true;
            for (GroupScenarioObserver o : observers) {
                ended &= o.end.await(5, TimeUnit.SECONDS) && o.ended.contains("5.03");
            }
            GroupObservationScenario.await(() -> tap.seen.size() > beforeCancel, 3000);
            Response c = tap.seen.size() > beforeCancel ? (Response) new org.eclipse.californium.core.network.serialization
                    .UdpDataParser().parseMessage(tap.seen.get(beforeCancel)) : null;
            OscoreOptionValue cv = c == null || !c.getOptions().hasOscore() ? null
                    : OscoreOptionValue.decode(c.getOptions().getOscore(), true);
            check(ended && cv != null && cv.partialIv() != null && cv.groupFlag() && c.getCode() == CoAP.ResponseCode.CHANGED
                    && !c.getOptions().hasObserve() && alarm.token() == null,
                    "OMN_11 the cancellation is a group-mode protected 5.03 with the server's Partial IV; every observer ended",
                    c);
            for (GroupScenarioObserver o : observers) {
                o.client.close();
            }
            cli();
        } finally {
            tap.socket.close();
            cep.destroy();
            plainEp.destroy();
            alarm.close();
            server.destroy();
        }
    }

    /**
     * {@code coterie client --bundle F --member SID --observe}: a pairwise-protected registration,
     * a protected informative response, the phantom verified with the bundle's group context, and
     * the multicast notifications verified and printed (members made by {@code coterie group}).
     */
    private static void cli() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("coterie-gobs");
        String d = dir.toString();
        int st = dev.coterie.app.Coterie.execute("group", "create", "--name", "alarms", "--dir", d, "--epoch", "7");
        st |= dev.coterie.app.Coterie.execute("group", "add-member", "alarms", "--role", "client", "--dir", d);
        st |= dev.coterie.app.Coterie.execute("group", "add-member", "alarms", "--role", "server", "--dir", d,
                "--member-name", "alarm-server");
        java.nio.file.Path members = dir.resolve("alarms").resolve("members");
        GroupContext ctx = dev.coterie.app.group.MemberBundle.load(members.resolve("02.bundle.json"),
                CryptoProviders.defaultProvider(), null);
        GroupContextDb db = new GroupContextDb().add(ctx);
        InetSocketAddress at = new InetSocketAddress(SERVER.getAddress(), 5812);
        CoapEndpoint ep = new GroupEndpointBuilder().configuration(GroupEndpointBuilder.defaultConfiguration()).bind(at)
                .serverGroups(db).build();
        CoapServer server = new CoapServer(GroupEndpointBuilder.defaultConfiguration());
        server.addEndpoint(ep);
        GroupObservationScenario.Alarm alarm = new GroupObservationScenario.Alarm();
        alarm.protectedBy(new GroupObservationProtection(ctx, db, new ProtectionPipeline(ExtensionOptionRegistry.defaults())));
        server.add(alarm);
        server.start();
        alarm.sendFrom(ep.getConnector(), at);
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        java.util.concurrent.atomic.AtomicBoolean changing = new java.util.concurrent.atomic.AtomicBoolean(true);
        Thread changer = new Thread(() -> {
            while (changing.get()) {
                try {
                    Thread.sleep(400);
                } catch (InterruptedException e) {
                    return;
                }
                alarm.state++;
                alarm.changed();
            }
        });
        int status;
        try (java.io.PrintStream capture = new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8)) {
            System.setOut(capture);
            changer.start();
            status = dev.coterie.app.Coterie.execute("client", "--bundle", members.resolve("01.bundle.json").toString(),
                    "--member", "02", "--observe", "--notifications", "3", "--timeout", "20",
                    "coap://127.0.0.1:" + at.getPort() + "/alarm");
        } finally {
            changing.set(false);
            System.setOut(stdout);
            changer.join();
            ctx.close();
        }
        String out = captured.toString(java.nio.charset.StandardCharsets.UTF_8);
        System.out.println(out);
        byte[] piv = alarm.protectedPhantom() == null ? null
                : OscoreOptionValue.decode(alarm.protectedPhantom().getOptions().getOscore(), true).partialIv();
        check(st == 0 && status == 0 && piv != null && out.contains("switching from unicast to multicast notifications")
                && out.contains("Group OSCORE: the phantom request verified (group mode, kid 02, Partial IV " + Hex.encode(piv))
                && out.contains("notification 3"),
                "OMN_10 coterie client --bundle --member --observe verifies the phantom and the multicast notifications",
                st + "/" + status + "\n" + out);
        alarm.close();
        server.destroy();
    }

    /**
     * GRP-23 on the network: the server's own protected phantom, sent to its unicast endpoint from
     * another socket, carries the server's own Sender ID, so it is not processed: the unprotected
     * 4.01 "Security context not found" of the OSCORE layer's rule for an unknown Recipient
     * Context, and nothing changes (the server's Sender Sequence Number, the observation, its
     * phantom). A genuine member's request right after it is answered (the control).
     */
    private static void ownPhantomFromTheNetwork(Request phWire, GroupContext serverCtx,
                                                 GroupObservationScenario.Alarm alarm, CoapEndpoint member) throws Exception {
        Request copy = new Request(CoAP.Code.FETCH, CoAP.Type.NON);
        copy.setOptions(new org.eclipse.californium.core.coap.OptionSet(phWire.getOptions()));
        copy.setPayload(phWire.getPayload());
        copy.setToken(phWire.getToken() != null ? phWire.getToken() : Token.fromProvider(alarm.token()));
        copy.setMID(4242);
        byte[] bytes = new UdpDataSerializer().getByteArray(copy);
        long ssn = serverCtx.senderSequence().peek();
        long observersBefore = alarm.observers();
        byte[] pivBefore = OscoreOptionValue.decode(alarm.protectedPhantom().getOptions().getOscore(), true).partialIv();
        Response answer = null;
        try (java.net.DatagramSocket other = new java.net.DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            other.setSoTimeout(3000);
            other.send(new DatagramPacket(bytes, bytes.length, SERVER));
            byte[] buf = new byte[2048];
            DatagramPacket d = new DatagramPacket(buf, buf.length);
            try {
                other.receive(d);
                answer = (Response) new org.eclipse.californium.core.network.serialization.UdpDataParser()
                        .parseMessage(Arrays.copyOf(buf, d.getLength()));
            } catch (java.net.SocketTimeoutException e) {
                answer = null;
            }
        }
        Response a = answer;
        check(a != null && a.getCode() == CoAP.ResponseCode.UNAUTHORIZED && !a.getOptions().hasOscore()
                && "Security context not found".equals(a.getPayloadString()) && a.getType() == CoAP.Type.NON
                && Arrays.equals(a.getTokenBytes(), copy.getTokenBytes()),
                "GRP_23 the server's own phantom from the network gets the unprotected 4.01 Security context not found", a);
        byte[] pivAfter = OscoreOptionValue.decode(alarm.protectedPhantom().getOptions().getOscore(), true).partialIv();
        check(serverCtx.senderSequence().peek() == ssn && alarm.observers() == observersBefore
                && Arrays.equals(pivBefore, pivAfter),
                "GRP_23 the refused copy changed nothing: the server's Sender Sequence Number, observers and phantom",
                ssn + " -> " + serverCtx.senderSequence().peek() + ", observers " + observersBefore + " -> " + alarm.observers());
        // control: a genuine member's request (pairwise, the client c1) is processed and answered
        Request get = Request.newGet();
        get.setURI("coap://127.0.0.1:" + SERVER.getPort() + "/alarm");
        get.send(member);
        Response ok = get.waitForResponse(5000);
        check(ok != null && ok.getCode() == CoAP.ResponseCode.CONTENT && OscorePeer.of(ok) != null,
                "GRP_23 positive control: a member's request is answered", ok);
    }

    /** An observer (the unprotected scenario's, by another name here). */
    static final class GroupScenarioObserver implements GroupObservationClient.Listener {
        final List<String> got = new CopyOnWriteArrayList<>();
        final List<String> unverified = new CopyOnWriteArrayList<>();
        final java.util.concurrent.CountDownLatch end = new java.util.concurrent.CountDownLatch(1);
        volatile String ended;
        GroupObservationClient client;
        Response informative;

        @Override
        public void notification(Response n, boolean fromLastNotif) {
            got.add((fromLastNotif ? "last_notif " : "") + n.getPayloadString());
        }

        @Override
        public void ended(String why) {
            ended = why;
            end.countDown();
        }

        @Override
        public void unverified(String why) {
            unverified.add(why);
        }
    }

    private static GroupContext member(int i, List<byte[]> ids, List<PrivateKey> keys, List<Credential> creds,
                                       GroupAlgorithms algs, byte[] gid, SecretBytes secret, Credential gm) throws Exception {
        GroupContext.Builder b = GroupContext.builder().name("alarms").algorithms(algs).gid(gid).masterSecret(secret)
                .masterSalt(Hex.decode("9e7c")).groupManagerCredential(gm).sender(ids.get(i), keys.get(i), creds.get(i))
                .stateStore(SecurityStateStore.inMemory());
        for (int j = 0; j < ids.size(); j++) {
            if (j != i) {
                b.member(ids.get(j), creds.get(j));
            }
        }
        return b.build();
    }
}
