package dev.coterie.app;

import dev.coterie.app.group.GroupManager;
import dev.coterie.app.group.MemberBundle;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.SecurityTrace;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.eclipse.californium.elements.config.Configuration;
import picocli.CommandLine.Command;

/**
 * The lighting-group part of {@code coterie demo}. Runs only inside a private network
 * namespace (the demo starts it there): a Group Manager commissions a wall switch and three
 * lamps; the switch turns every lamp on with one group-mode multicast request, reads one lamp in
 * pairwise mode, and a forged group request gets no answer.
 */
@Command(name = "demo-group", hidden = true, description = "The lighting group of the demo (inside a private namespace).")
final class DemoGroupCommand implements Callable<Integer> {
    private final PrintStream out = System.out;

    @Override
    public Integer call() throws Exception {
        InetAddress group = InetAddress.getByName("224.0.1.187");
        dev.coterie.oscore.MulticastGuard.check(group); // refuses outside a private namespace
        Path dir = Files.createTempDirectory("coterie-demo-group");
        GroupManager gm = GroupManager.create(dir, "lights", GroupAlgorithms.defaults(), Hex.decode("b1"), 61532,
                CryptoProviders.defaultProvider());
        Path switchBundle = gm.addMember("client", "wall-switch", null);
        List<Path> lamps = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            lamps.add(gm.addMember("server", "lamp-" + i, null));
        }
        out.println("Group Manager: group 'lights', Gid " + Hex.encode(gm.gid())
                + ", EdDSA/Ed25519 signatures, AES-CCM-16-64-128, X25519 pairwise keys");
        out.println("  wall switch = Sender ID 01; lamps = 02, 03, 04 (lamp 04 answers group requests in pairwise mode)");
        out.println("  multicast 224.0.1.187:5683 inside a private network namespace\n");

        AtomicInteger signaturesVerified = new AtomicInteger();
        AtomicInteger pairwiseVerified = new AtomicInteger();
        AtomicInteger rejected = new AtomicInteger();
        SecurityTrace serverTrace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REQUEST_VERIFIED) {
                if (info.mode() == ProtectionMode.GROUP) {
                    signaturesVerified.incrementAndGet();
                } else {
                    pairwiseVerified.incrementAndGet();
                }
            } else if (event == SecurityTrace.Event.REJECTED) {
                rejected.incrementAndGet();
                out.println("            a lamp dropped a request silently: " + info.note());
            }
        };
        Configuration cfg = GroupEndpointBuilder.defaultConfiguration();
        cfg.set(CoapConfig.LEISURE, 300, TimeUnit.MILLISECONDS);
        List<CoapServer> servers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            GroupContext ctx = MemberBundle.load(lamps.get(i), CryptoProviders.defaultProvider(), null);
            CoapEndpoint ep = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 5702 + i)).configuration(cfg)
                    .serverGroups(new GroupContextDb().add(ctx).responseMode(i == 2 ? GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE
                            : GroupContextDb.ResponseMode.SAME_AS_REQUEST)).join(group).trace(serverTrace).build();
            CoapServer s = new CoapServer(cfg);
            s.addEndpoint(ep);
            s.add(new DemoResources.LightResource());
            s.start();
            servers.add(s);
        }
        GroupContext sw = MemberBundle.load(switchBundle, CryptoProviders.defaultProvider(), null);
        ClientContextBinding binding = new ClientContextBinding();
        AtomicReference<byte[]> captured = new AtomicReference<>();
        FlowTrace flow = new FlowTrace(out, "Switch", "Lamps ");
        SecurityTrace clientTrace = (event, plain, wire, info) -> {
            if (event == SecurityTrace.Event.REQUEST_PROTECTED && captured.get() == null) {
                captured.set(new UdpDataSerializer().getByteArray(wire));
            }
            flow.onMessage(event, plain, wire, info);
        };
        CoapEndpoint client = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0)).configuration(cfg)
                .clientBinding(binding).trace(clientTrace).build();
        client.start();
        int failures = 0;
        try {
            out.println("== 11. The switch turns every lamp on: one group-mode request over multicast");
            Request on = new Request(Code.PUT, Type.NON);
            on.setDestinationContext(new AddressEndpointContext(new InetSocketAddress(group, 5683)));
            on.getOptions().setUriPath("light");
            on.setPayload("on");
            binding.bind(on, sw.groupMode());
            int answers = collect(client, on, 3, 3000);
            out.println("            => " + answers + " lamps answered\n");
            failures += answers == 3 ? 0 : 1;

            out.println("== 12. The switch reads lamp 03 alone, in pairwise mode (only lamp 03 can decrypt it)");
            Request read = new Request(Code.GET, Type.CON);
            read.setDestinationContext(new AddressEndpointContext(new InetSocketAddress("127.0.0.1", 5703)));
            read.getOptions().setUriPath("light");
            binding.bind(read, sw.pairwise(Hex.decode("03")));
            failures += collect(client, read, 1, 3000) == 1 ? 0 : 1;
            out.println();

            out.println("== 13. An attacker rewrites the captured group request (a fresh Partial IV, one flipped ciphertext bit)"
                    + " and multicasts it");
            Request replayed = (Request) new org.eclipse.californium.core.network.serialization.UdpDataParser()
                    .parseMessage(captured.get());
            dev.coterie.oscore.OscoreOptionValue o = dev.coterie.oscore.OscoreOptionValue.decode(
                    replayed.getOptions().getOscore(), true);
            replayed.getOptions().setOscore(new dev.coterie.oscore.OscoreOptionValue(new byte[] {0x42}, o.kidContext(), o.kid(),
                    true).encode());
            byte[] body = replayed.getPayload();
            body[body.length - 70] ^= 0x01; // a ciphertext bit: the signature no longer matches
            replayed.setPayload(body);
            byte[] forged = new UdpDataSerializer().getByteArray(replayed);
            try (DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
                s.setSoTimeout(1000);
                s.send(new DatagramPacket(forged, forged.length, new InetSocketAddress(group, 5683)));
                try {
                    s.receive(new DatagramPacket(new byte[2048], 2048));
                    out.println("            => a lamp answered the forgery (unexpected)");
                    failures++;
                } catch (java.net.SocketTimeoutException quiet) {
                    out.println("            => silence: group requests that fail verification get no answer\n");
                }
            }
        } finally {
            client.destroy();
            for (CoapServer s : servers) {
                s.destroy();
            }
        }
        out.println("Group summary: " + signaturesVerified.get() + " group-mode signatures verified by lamps, "
                + pairwiseVerified.get() + " pairwise request(s) verified, " + rejected.get() + " forgery/ies dropped, "
                + failures + " unexpected result(s)");
        return failures == 0 && rejected.get() >= 3 ? 0 : 1;
    }

    private int collect(CoapEndpoint client, Request r, int expected, long waitMs) throws InterruptedException {
        CountDownLatch all = new CountDownLatch(expected);
        AtomicInteger n = new AtomicInteger();
        r.addMessageObserver(new MessageObserverAdapter() {
            @Override
            public void onResponse(Response response) {
                OscorePeer g = OscorePeer.of(response);
                if (g != null) {
                    out.println("            => lamp " + Hex.encode(g.kid()) + " (" + g.mode().label()
                            + "): " + response.getCode() + " " + response.getPayloadString());
                    n.incrementAndGet();
                }
                all.countDown();
            }
        });
        client.sendRequest(r);
        all.await(waitMs, TimeUnit.MILLISECONDS);
        return n.get();
    }
}
