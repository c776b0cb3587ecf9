package dev.coterie.tests;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.SecurityTrace;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * Runs inside a private network namespace (see {@link PrivateNetwork}): three light servers join
 * one Group OSCORE group on a multicast address; a client switches them with one group-mode
 * multicast request and collects every response, then reads one light in pairwise mode. Light
 * a3 answers group requests in pairwise mode, as some implementations do. Prints one line per
 * response and "SCENARIO OK" if everything matched; exits non-zero otherwise.
 */
public final class GroupScenario {
    private GroupScenario() {
    }

    public static void main(String[] args) {
        try {
            String sig = args.length > 1 ? args[1] : "EdDSA";
            String aead = args.length > 2 ? args[2] : "AES-CCM-16-64-128";
            run(args[0].equals("ipv6"), sig, aead);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
    }

    private static void run(boolean v6, String sig, String aeadName) throws Exception {
        boolean es256 = sig.equals("ES256");
        dev.coterie.keystore.AeadAlgorithm aead = dev.coterie.keystore.AeadAlgorithm.parse(aeadName);
        GroupAlgorithms algs = new GroupAlgorithms(aead, aead,
                es256 ? dev.coterie.keystore.SignatureAlgorithm.ES256 : dev.coterie.keystore.SignatureAlgorithm.EDDSA_ED25519,
                es256 ? dev.coterie.keystore.KeyAgreementAlgorithm.P256 : dev.coterie.keystore.KeyAgreementAlgorithm.X25519,
                dev.coterie.keystore.HkdfAlgorithm.HKDF_SHA_256);
        PrivateKey.Type keyType = es256 ? PrivateKey.Type.P256 : PrivateKey.Type.ED25519;
        System.out.println("ALGORITHMS " + sig + " " + aead.coseName());
        byte[] gid = Hex.decode("b1f05c");
        SecretBytes secret = SecretBytes.fromHex("0102030405060708090a0b0c0d0e0f10");
        List<byte[]> ids = List.of(Hex.decode("c1"), Hex.decode("a1"), Hex.decode("a2"), Hex.decode("a3"));
        List<PrivateKey> keys = new ArrayList<>();
        List<Credential> creds = new ArrayList<>();
        for (byte[] id : ids) {
            PrivateKey k = CryptoProviders.defaultProvider().generate(keyType);
            keys.add(k);
            creds.add(Credential.ccs("member-" + Hex.encode(id), k));
        }
        Credential gm = Credential.ccs("gm", CryptoProviders.defaultProvider().generate(keyType));
        InetAddress group = InetAddress.getByName(v6 ? "ff02::fd" : "224.0.1.187");
        NetworkInterface veth = v6 ? NetworkInterface.getByName("veth0") : null;
        String unicast = v6 ? "fd00::1" : "127.0.0.1";

        List<CoapServer> servers = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger verifiedAtServers = new java.util.concurrent.atomic.AtomicInteger();
        // REJECTED traces per server: each silent rejection below must be a real rejection at every member
        java.util.concurrent.atomic.AtomicIntegerArray rejectedAt = new java.util.concurrent.atomic.AtomicIntegerArray(4);
        List<GroupContext> serverContexts = new ArrayList<>();
        List<GroupContextDb> serverDbs = new ArrayList<>();
        List<java.util.concurrent.ScheduledExecutorService> tickers = new ArrayList<>();
        Map<String, String> state = new ConcurrentHashMap<>();
        for (int i = 1; i <= 3; i++) {
            GroupContext ctx = member(i, ids, keys, creds, algs, gid, secret, gm);
            serverContexts.add(ctx);
            String light = Hex.encode(ids.get(i));
            state.put(light, "off");
            org.eclipse.californium.elements.config.Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
            cfg.set(org.eclipse.californium.core.config.CoapConfig.LEISURE, 300, TimeUnit.MILLISECONDS);
            GroupContextDb db = new GroupContextDb().add(ctx).responseMode(i == 3
                    ? GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE : GroupContextDb.ResponseMode.SAME_AS_REQUEST);
            serverDbs.add(db);
            int index = i;
            SecurityTrace serverTrace = (event, plain, wire, info) -> {
                if (event == SecurityTrace.Event.REQUEST_VERIFIED) {
                    verifiedAtServers.incrementAndGet();
                } else if (event == SecurityTrace.Event.REJECTED) {
                    rejectedAt.incrementAndGet(index);
                }
            };
            GroupEndpointBuilder eb = new GroupEndpointBuilder().configuration(cfg)
                    .bind(new InetSocketAddress(InetAddress.getByName(unicast), 5683 + i))
                    .serverGroups(db).join(group).trace(serverTrace);
            if (veth != null) {
                eb.multicastInterface(veth);
            }
            CoapEndpoint ep = eb.build();
            // the multicast receiver listens on the group's port; it is the same for every light
            CoapServer s = new CoapServer(GroupEndpointBuilder.defaultConfiguration());
            s.addEndpoint(ep);
            s.add(new CoapResource("light") {
                @Override
                public void handleGET(CoapExchange ex) {
                    ex.respond(ResponseCode.CONTENT, light + " is " + state.get(light));
                }

                @Override
                public void handlePUT(CoapExchange ex) {
                    state.put(light, ex.getRequestText());
                    ex.respond(ResponseCode.CHANGED, light + " now " + state.get(light));
                }
            });
            CounterResource counter = new CounterResource();
            s.add(counter);
            java.util.concurrent.ScheduledExecutorService t = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
            t.scheduleAtFixedRate(counter::tick, 200, 200, TimeUnit.MILLISECONDS);
            tickers.add(t);
            s.start();
            servers.add(s);
        }
        GroupContext client = member(0, ids, keys, creds, algs, gid, secret, gm);
        GroupContextDb clientEpochs = new GroupContextDb().add(client);
        ClientContextBinding binding = new ClientContextBinding().endpointDefault(client.groupMode(clientEpochs));
        List<String> notificationGids = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicReference<byte[]> captured = new java.util.concurrent.atomic.AtomicReference<>();
        SecurityTrace capture = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REQUEST_PROTECTED && captured.get() == null) {
                captured.set(new org.eclipse.californium.core.network.serialization.UdpDataSerializer().getByteArray(wire));
            }
            if (event == SecurityTrace.Event.RESPONSE_VERIFIED && plain.getOptions().hasObserve()) {
                notificationGids.add(Hex.encode(OscorePeer.of(plain).kidContext()));
            }
        };
        CoapEndpoint clientEp = new GroupEndpointBuilder().bind(new InetSocketAddress(InetAddress.getByName(unicast), 0))
                .clientBinding(binding).trace(capture).build();
        ProtectionPipeline pipeline = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        clientEp.start();
        boolean ok = true;
        try {
            // 1. one group-mode multicast PUT switches every light on
            Map<String, String> answers = send(clientEp, multicastPut(group, veth), 3, 3000);
            ok &= check(answers.size() == 3, "three lights answered the group request: " + answers.keySet());
            for (String light : List.of("a1", "a2", "a3")) {
                ok &= check(("CHANGED " + light + " now on").equals(answers.get(light).replaceFirst(" mode=\\w+", "")),
                        light + ": " + answers.get(light));
            }
            ok &= check(answers.get("a3").contains("mode=PAIRWISE"), "a3 answered the group request in pairwise mode");
            ok &= check(answers.get("a1").contains("mode=GROUP"), "a1 answered in group mode");
            // GCB-04: error responses to a group request are suppressed, the whole 4.xx class alike
            Request missing = multicastPut(group, veth);
            missing.getOptions().clearUriPath().addUriPath("no-such-resource");
            int verifiedBefore = verifiedAtServers.get();
            Map<String, String> none = send(clientEp, missing, 1, 1500);
            ok &= check(none.isEmpty() && verifiedAtServers.get() - verifiedBefore == 3,
                    "a group request for a missing resource gets no 4.04 from any member: " + none + ", verified by "
                    + (verifiedAtServers.get() - verifiedBefore) + " members");
            // 2. a pairwise unicast GET reads one light
            Request get = new Request(Code.GET, Type.CON);
            get.setDestinationContext(new AddressEndpointContext(new InetSocketAddress(InetAddress.getByName(unicast), 5685)));
            get.getOptions().setUriPath("light");
            binding.bind(get, client.pairwise(ids.get(2), clientEpochs));
            Map<String, String> one = send(clientEp, get, 1, 3000);
            ok &= check(one.size() == 1 && one.containsKey("a2") && one.get("a2").contains("a2 is on")
                    && one.get("a2").contains("mode=PAIRWISE"), "pairwise GET to a2: " + one);
            // 3. table 2.9: group requests that fail get silence from every member, and change nothing
            InetSocketAddress groupAddress = new InetSocketAddress(veth != null
                    ? Inet6Address.getByAddress(null, group.getAddress(), veth) : group, 5683);
            byte[] replay = captured.get();
            // issue 6 defect 7: the forgery used to be a flipped copy of the replayed request, which the replay
            // check rejected before the signature was looked at; this one has a Partial IV no server has seen
            byte[] forged = serialize(withMid(pipeline.protectRequest(multicastPut(group, veth), client.groupMode()).wire(), 65003));
            forged[forged.length - 1] ^= 1;
            GroupContext stale = member(0, ids, keys, creds, algs, Hex.decode("b1f05b"), secret, gm);
            byte[] staleGid = serialize(withMid(pipeline.protectRequest(multicastPut(group, veth), stale.groupMode()).wire(), 65001));
            GroupContext stranger = strangerContext(algs, gid, secret, gm, ids, creds, keyType);
            byte[] unknownKid = serialize(withMid(pipeline.protectRequest(multicastPut(group, veth), stranger.groupMode()).wire(),
                    65002));
            List<String> before = windows(serverContexts, ids.get(0));
            int[] rejectedBefore = {rejectedAt.get(1), rejectedAt.get(2), rejectedAt.get(3)};
            for (Map.Entry<String, byte[]> e : Map.of("replayed group request", replay, "forged signature", forged,
                    "stale Gid", staleGid, "unknown kid without credential", unknownKid).entrySet()) {
                ok &= check(silence(groupAddress, e.getValue(), unicast), e.getKey() + ": no member answers");
            }
            ok &= check(before.equals(windows(serverContexts, ids.get(0))), "no replay window changed: " + before);
            ok &= check(rejectedAt.get(1) - rejectedBefore[0] == 4 && rejectedAt.get(2) - rejectedBefore[1] == 4
                    && rejectedAt.get(3) - rejectedBefore[2] == 4, "every member rejected each of the 4 silent requests: "
                    + rejectedAt);
            // positive control for the silence checks: a valid, fresh group request over the same raw path is answered
            byte[] valid = serialize(withMid(pipeline.protectRequest(multicastPut(group, veth), client.groupMode()).wire(), 65004));
            ok &= check(!silence(groupAddress, valid, unicast), "a valid group request over the same path is answered");

            // 4. a pairwise observation of lamp a1 survives a rekey (GRP-20, GRP-21)
            Request obs = new Request(Code.GET, Type.CON);
            obs.setDestinationContext(new AddressEndpointContext(new InetSocketAddress(InetAddress.getByName(unicast), 5684)));
            obs.getOptions().setUriPath("counter");
            obs.setObserve();
            binding.bind(obs, client.pairwise(ids.get(1), clientEpochs));
            List<Integer> values = java.util.Collections.synchronizedList(new ArrayList<>());
            CountDownLatch beforeRekey = new CountDownLatch(3);
            CountDownLatch afterRekey = new CountDownLatch(6);
            // the first response reaches the request; Californium hands later notifications to listeners
            java.util.function.Consumer<Response> record = response -> {
                values.add(Integer.parseInt(response.getPayloadString()));
                beforeRekey.countDown();
                afterRekey.countDown();
            };
            obs.addMessageObserver(new MessageObserverAdapter() {
                @Override
                public void onResponse(Response response) {
                    record.accept(response);
                }
            });
            clientEp.addNotificationListener((request, response) -> record.accept(response));
            clientEp.sendRequest(obs);
            ok &= check(beforeRekey.await(5, TimeUnit.SECONDS), "notifications before the rekey: " + values);
            byte[] newGid = Hex.decode("b1f05d");
            SecretBytes newSecret = SecretBytes.fromHex("1112131415161718191a1b1c1d1e1f20");
            clientEpochs.installEpoch(member(0, ids, keys, creds, algs, newGid, newSecret, gm));
            serverDbs.get(0).installEpoch(member(1, ids, keys, creds, algs, newGid, newSecret, gm));
            ok &= check(afterRekey.await(5, TimeUnit.SECONDS), "notifications went on after the rekey: " + values);
            obs.cancel();
            List<Integer> copy;
            synchronized (values) {
                copy = new ArrayList<>(values);
            }
            boolean increasing = true;
            for (int k = 1; k < copy.size(); k++) {
                increasing &= copy.get(k) > copy.get(k - 1);
            }
            ok &= check(increasing, "every notification delivered is newer than the one before: " + copy);
            ok &= check(notificationGids.contains("b1f05c") && notificationGids.contains("b1f05d"),
                    "notifications under the old and then the new Gid: " + notificationGids);
        } finally {
            clientEp.destroy();
            for (CoapServer s : servers) {
                s.destroy();
            }
            for (java.util.concurrent.ScheduledExecutorService t : tickers) {
                t.shutdownNow();
            }
        }
        System.out.println(ok ? "SCENARIO OK" : "SCENARIO FAILED");
        System.exit(ok ? 0 : 1);
    }

    private static Request multicastPut(InetAddress group, NetworkInterface veth) throws Exception {
        Request put = new Request(Code.PUT, Type.NON);
        InetAddress dest = group;
        if (veth != null) {
            dest = Inet6Address.getByAddress(null, group.getAddress(), veth);
        }
        put.setDestinationContext(new AddressEndpointContext(new InetSocketAddress(dest, 5683)));
        put.getOptions().setUriPath("light");
        put.setPayload("on");
        return put;
    }

    private static Map<String, String> send(CoapEndpoint ep, Request r, int expected, long waitMs) throws InterruptedException {
        Map<String, String> answers = new TreeMap<>();
        CountDownLatch all = new CountDownLatch(expected);
        r.addMessageObserver(new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                String line = response.getCode().name() + " " + response.getPayloadString();
                OscorePeer g = OscorePeer.of(response);
                if (g != null) {
                    line += " mode=" + g.mode();
                    synchronized (answers) {
                        answers.put(Hex.encode(g.kid()), line);
                    }
                    System.out.println("RESPONSE from " + response.getSourceContext().getPeerAddress() + " kid="
                            + Hex.encode(g.kid()) + " " + line);
                }
                all.countDown();
            }
        });
        ep.sendRequest(r);
        all.await(waitMs, TimeUnit.MILLISECONDS);
        Thread.sleep(r.isMulticast() ? 500 : 0); // any extra (duplicate) answers would show up here
        synchronized (answers) {
            return new TreeMap<>(answers);
        }
    }

    /** An observable counter that changes on every tick. */
    static final class CounterResource extends CoapResource {
        private final java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();

        CounterResource() {
            super("counter");
            setObservable(true);
        }

        void tick() {
            n.incrementAndGet();
            changed();
        }

        @Override
        public void handleGET(CoapExchange ex) {
            ex.respond(ResponseCode.CONTENT, String.valueOf(n.get()));
        }
    }

    private static byte[] serialize(Request r) {
        return new org.eclipse.californium.core.network.serialization.UdpDataSerializer().getByteArray(r);
    }

    private static Request withMid(Request r, int mid) {
        r.setMID(mid);
        r.setToken(new byte[] {(byte) mid, 9});
        return r;
    }

    private static List<String> windows(List<GroupContext> servers, byte[] client) {
        List<String> out = new ArrayList<>();
        for (GroupContext c : servers) {
            out.add(c.recipient(client).replayWindow().snapshot());
        }
        return out;
    }

    /** Sends raw bytes to the group from a fresh socket; true if nothing comes back within two leisures. */
    private static boolean silence(InetSocketAddress group, byte[] bytes, String unicast) throws Exception {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(new InetSocketAddress(InetAddress.getByName(unicast), 0))) {
            s.setSoTimeout(800);
            s.send(new java.net.DatagramPacket(bytes, bytes.length, group));
            try {
                s.receive(new java.net.DatagramPacket(new byte[2048], 2048));
                return false;
            } catch (java.net.SocketTimeoutException quiet) {
                return true;
            }
        }
    }

    private static GroupContext strangerContext(GroupAlgorithms algs, byte[] gid, SecretBytes secret, Credential gm,
                                                List<byte[]> ids, List<Credential> creds, PrivateKey.Type keyType) throws Exception {
        PrivateKey k = CryptoProviders.defaultProvider().generate(keyType);
        return GroupContext.builder().algorithms(algs).gid(gid).masterSecret(secret).masterSalt(Hex.decode("9e7c"))
                .groupManagerCredential(gm).sender(Hex.decode("77"), k, Credential.ccs("stranger", k))
                .stateStore(SecurityStateStore.inMemory()).build();
    }


    private static boolean check(boolean condition, String what) {
        System.out.println((condition ? "CHECK ok   " : "CHECK FAIL ") + what);
        return condition;
    }

    private static GroupContext member(int i, List<byte[]> ids, List<PrivateKey> keys, List<Credential> creds,
                                       GroupAlgorithms algs, byte[] gid, SecretBytes secret, Credential gm) throws Exception {
        GroupContext.Builder b = GroupContext.builder().name("lights").algorithms(algs).gid(gid).masterSecret(secret)
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
