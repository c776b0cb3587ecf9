package dev.coterie.tests;

import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.grouposcore.GroupEndpointBuilder;
import dev.coterie.grouposcore.GroupUdpConnector;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.eclipse.californium.elements.UdpMulticastConnector;

/**
 * Runs inside a private network namespace (see {@link GroupPortSharingTest}). A stand-in for
 * another implementation's group member holds the group port with SO_REUSEPORT only, bound to the
 * wildcard address and joined to the group. Then Coterie members start on the same port, one of
 * them with its unicast address on the group port too, and a datagram sent to the group must
 * reach the stand-in and every member. Prints one CHECK line per fact and "SCENARIO OK" if all held.
 */
public final class GroupPortSharingScenario {
    private static final int GROUP_PORT = 5683;

    private GroupPortSharingScenario() {
    }

    public static void main(String[] args) {
        try {
            System.exit(run(args[0].equals("ipv6")) ? 0 : 1);
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
    }

    /** A Coterie group member's endpoint, and the requests it received with the address they came in on. */
    private record Member(CoapEndpoint endpoint, LinkedBlockingQueue<String> received) {
        static Member start(InetSocketAddress unicast, InetAddress group, NetworkInterface ni) throws Exception {
            GroupEndpointBuilder b = new GroupEndpointBuilder().bind(unicast).serverGroups(new GroupContextDb())
                    .join(group).groupPort(GROUP_PORT);
            if (ni != null) {
                b.multicastInterface(ni);
            }
            CoapEndpoint ep = b.build();
            LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
            ep.addInterceptor(new MessageInterceptorAdapter() {
                @Override
                public void receiveRequest(Request request) {
                    q.add((request.isMulticast() ? "multicast " : "unicast ") + request.getTokenString());
                }
            });
            try {
                ep.start();
            } catch (java.io.IOException | RuntimeException e) {
                ep.destroy();
                throw e;
            }
            return new Member(ep, q);
        }

        boolean got(String what) throws InterruptedException {
            String r = received.poll(5, TimeUnit.SECONDS);
            return what.equals(r);
        }
    }

    private static boolean run(boolean v6) throws Exception {
        NetworkInterface ni = v6 ? NetworkInterface.getByName("veth0") : null;
        InetAddress group = InetAddress.getByName(v6 ? "ff02::fd" : "224.0.1.187");
        InetAddress scopedGroup = v6 ? Inet6Address.getByAddress(null, group.getAddress(), ni) : group;
        InetAddress unicast = InetAddress.getByName(v6 ? "fd00::1" : "127.0.0.1");
        boolean ok = true;
        List<AutoCloseable> open = new ArrayList<>();
        try {
            // another implementation's member: SO_REUSEPORT only, wildcard address, joined to the group
            MulticastSocket standIn = new MulticastSocket(null);
            open.add(standIn);
            standIn.setReuseAddress(false);
            standIn.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            standIn.bind(new InetSocketAddress(GROUP_PORT));
            standIn.joinGroup(new InetSocketAddress(group, 0), ni != null ? ni : NetworkInterface.getByName("lo"));
            standIn.setSoTimeout(5000);

            // the defect: Californium's multicast receiver sets SO_REUSEADDR only and cannot bind next to it
            UdpMulticastConnector.Builder cb = new UdpMulticastConnector.Builder()
                    .setConfiguration(GroupEndpointBuilder.defaultConfiguration())
                    .setLocalAddress(scopedGroup, GROUP_PORT).setMulticastReceiver(true);
            UdpMulticastConnector californium = (ni != null ? cb.addMulticastGroup(group, ni) : cb.addMulticastGroup(group)).build();
            String refused;
            try {
                californium.start();
                refused = "started";
            } catch (java.io.IOException e) {
                refused = e.getMessage();
            } finally {
                californium.destroy();
            }
            ok &= check("Address already in use".equals(refused),
                    "Californium's UdpMulticastConnector cannot bind next to the SO_REUSEPORT stand-in: " + refused);

            Member a = Member.start(new InetSocketAddress(unicast, GROUP_PORT + 1), group, ni);
            open.add(a.endpoint()::destroy);
            ok &= check(a.endpoint().isStarted(), "member A (unicast port " + (GROUP_PORT + 1) + ") started next to the stand-in");
            Member b = Member.start(new InetSocketAddress(unicast, GROUP_PORT), group, ni);
            open.add(b.endpoint()::destroy);
            GroupUdpConnector bc = (GroupUdpConnector) b.endpoint().getConnector();
            ok &= check(bc.sharesGroupPort() && bc.unicastReusesPort() && bc.groupReceivers().get(0).reusesPort(),
                    "member B (unicast on the group port) started next to the stand-in, both its sockets with SO_REUSEPORT");

            // one datagram to the group reaches the stand-in and both members
            try (DatagramSocket sender = new DatagramSocket(new InetSocketAddress(unicast, 0))) {
                byte[] toGroup = request(0x51);
                sender.send(new DatagramPacket(toGroup, toGroup.length, new InetSocketAddress(scopedGroup, GROUP_PORT)));
                ok &= check(Arrays.equals(toGroup, receive(standIn)), "the stand-in received the group datagram");
                ok &= check(a.got("multicast 51"), "member A received it through its group receiver");
                ok &= check(b.got("multicast 51"), "member B received it through its group receiver");

                // unicast to B's address on the group port goes to B, not to the stand-in's wildcard socket
                byte[] toB = request(0x52);
                sender.send(new DatagramPacket(toB, toB.length, new InetSocketAddress(unicast, GROUP_PORT)));
                ok &= check(b.got("unicast 52"), "a unicast datagram to B's address reached B");
                standIn.setSoTimeout(500);
                byte[] extra = receive(standIn);
                ok &= check(extra == null, "the stand-in received nothing but the group datagram: "
                        + (extra == null ? "" : Arrays.toString(extra)));
            }

            // a second member on exactly B's unicast address would take some of B's unicast: refused
            String duplicate;
            try {
                Member c = Member.start(new InetSocketAddress(unicast, GROUP_PORT), group, ni);
                c.endpoint().destroy();
                duplicate = "started";
            } catch (java.io.IOException e) {
                duplicate = e.getMessage();
            }
            ok &= check(duplicate.contains("sharing it would split its unicast datagrams"),
                    "a second member on exactly B's unicast address and port is refused: " + duplicate);
        } finally {
            for (AutoCloseable c : open) {
                c.close();
            }
        }
        System.out.println(ok ? "SCENARIO OK" : "SCENARIO FAILED");
        return ok;
    }

    private static byte[] request(int token) {
        Request r = new Request(Code.GET, Type.NON);
        r.setMID(65000 + token);
        r.setToken(new byte[] {(byte) token});
        r.getOptions().setUriPath("probe");
        return new UdpDataSerializer().getByteArray(r);
    }

    private static byte[] receive(DatagramSocket s) throws java.io.IOException {
        DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
        try {
            s.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return Arrays.copyOf(p.getData(), p.getLength());
    }

    private static boolean check(boolean condition, String what) {
        System.out.println((condition ? "CHECK ok   " : "CHECK FAIL ") + what);
        return condition;
    }
}
