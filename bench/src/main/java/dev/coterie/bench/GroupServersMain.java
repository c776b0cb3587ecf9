package dev.coterie.bench;

import dev.coterie.oscore.ExtensionOptionRegistry;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * The group members of {@link GroupProxyBench}, all in this one process so that their CPU time is
 * read from one /proc entry: {@code GroupServersMain GROUP PORT BASE N [MAX_AGE]} starts N raw CoAP
 * servers, each joined to GROUP:PORT on lo and answering from its own unicast socket
 * 127.0.0.1:(BASE+i), i = 1..N, with NON 2.05, Max-Age MAX_AGE (default 60: a proxy may keep the
 * response that long) and the payload {@code s<i> <Uri-Query>}, whoever sent the request (the
 * proxy or the client itself). Prints {@code READY <BASE+1>} once all have joined; stops at
 * the end of its input. Only in a private network namespace: the benchmark's script makes one.
 */
public final class GroupServersMain {
    private static final OptionRegistry REGISTRY = ExtensionOptionRegistry.defaults().californiumRegistry();

    private GroupServersMain() {
    }

    public static void main(String[] args) throws Exception {
        InetAddress group = InetAddress.getByName(args[0]);
        int port = Integer.parseInt(args[1]);
        int base = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        long maxAge = args.length > 4 ? Long.parseLong(args[4]) : 60;
        List<Thread> threads = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            DatagramSocket unicast = new DatagramSocket(new InetSocketAddress("127.0.0.1", base + i));
            MulticastSocket in = new MulticastSocket(null);
            in.setReuseAddress(true);
            in.setReceiveBufferSize(1 << 20);
            in.bind(new InetSocketAddress(port));
            in.joinGroup(new InetSocketAddress(group, port), NetworkInterface.getByName("lo"));
            int index = i;
            Thread t = new Thread(() -> serve(index, in, unicast, maxAge), "group-server-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
        System.out.println("READY " + (base + 1));
        System.out.flush();
        while (System.in.read() >= 0) {
            // until the driver closes our input
        }
        System.exit(0);
    }

    private static void serve(int index, MulticastSocket in, DatagramSocket out, long maxAge) {
        byte[] buf = new byte[1500];
        UdpDataParser parser = new UdpDataParser(false, REGISTRY);
        UdpDataSerializer serializer = new UdpDataSerializer();
        int mid = index << 12;
        while (true) {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                in.receive(p);
            } catch (IOException e) {
                return;
            }
            try {
                Message m = parser.parseMessage(Arrays.copyOf(buf, p.getLength()));
                if (!(m instanceof Request r)) {
                    continue;
                }
                Response resp = new Response(ResponseCode.CONTENT);
                resp.setType(CoAP.Type.NON);
                resp.setMID(mid++ & 0xffff);
                resp.setToken(r.getToken());
                resp.getOptions().setContentFormat(0);
                resp.getOptions().setMaxAge(maxAge);
                resp.setPayload("s" + index + " " + String.join("&", r.getOptions().getUriQuery()));
                byte[] b = serializer.getByteArray(resp);
                out.send(new DatagramPacket(b, b.length, p.getSocketAddress()));
            } catch (IOException | RuntimeException e) {
                // a datagram that is not CoAP: not answered
            }
        }
    }
}
