package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.Hex;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code coterie client --tcp-frame-timeout/--tcp-max-message-size} reach the client's connection (TCP-02, TCP-03). */
@Timeout(60)
class TcpClientOptionsTest {
    /** The client's first 6 bytes to a raw coap+tcp peer that never answers, with {@code args} before the URI. */
    static String clientCsm(String... args) throws Exception {
        try (ServerSocket peer = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            peer.setSoTimeout(20_000);
            AtomicReference<String> got = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try (Socket s = peer.accept()) {
                    s.setSoTimeout(10_000);
                    got.set(Hex.encode(s.getInputStream().readNBytes(6)));
                } catch (Exception e) {
                    got.set(e.toString());
                }
            });
            t.start();
            String[] a = new String[args.length + 4];
            a[0] = "client";
            a[1] = "--no-oscore";
            System.arraycopy(args, 0, a, 2, args.length);
            a[a.length - 2] = "--timeout=2";
            a[a.length - 1] = "coap+tcp://127.0.0.1:" + peer.getLocalPort() + "/x";
            ClientFixtures.run(a);
            t.join(20_000);
            return got.get();
        }
    }

    @Test
    void TCP_02_theClientsCsmAnnouncesTcpMaxMessageSize() throws Exception {
        // --tcp-max-message-size 2000 (07d0): Max-Message-Size only (no Block-Wise-Transfer over 1152), then the GET begins
        String csm = clientCsm("--tcp-max-message-size", "2000", "--tcp-frame-timeout", "5000");
        assertTrue(csm.startsWith("30e12207d0"), csm);
        // positive control: the default is Max-Message-Size 1152 with Block-Wise-Transfer
        assertEquals("40e122048020", clientCsm());
        // refused: below the minimum, and with a UDP URI where they would mean nothing
        ClientFixtures.Run small = ClientFixtures.run("client", "--no-oscore", "--tcp-max-message-size", "10", "coap+tcp://127.0.0.1:9/x");
        assertEquals(64, small.status(), small.err());
        assertTrue(small.err().contains("--tcp-*: Max-Message-Size must be at least 64"), small.err());
        ClientFixtures.Run udp = ClientFixtures.run("client", "--no-oscore", "--tcp-frame-timeout", "500", "coap://127.0.0.1:9/x");
        assertEquals(64, udp.status(), udp.err());
        assertTrue(udp.err().contains("are for coap+tcp and coaps+tcp URIs"), udp.err());
    }
}
