package dev.coterie.proxy;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.network.serialization.UdpDataParser;

/**
 * A datagram relay on loopback between two CoAP nodes that records every datagram in each
 * direction, byte for byte: what a leg of a proxy chain really carries, independent of either
 * end's own view. Requests from the one sender go to {@code target}; what comes back goes to
 * the last sender.
 */
final class UdpTap implements AutoCloseable {
    final List<byte[]> forward = new CopyOnWriteArrayList<>();
    final List<byte[]> backward = new CopyOnWriteArrayList<>();
    private final DatagramSocket front;
    private final DatagramSocket back;
    private volatile InetSocketAddress sender;

    UdpTap(InetSocketAddress target) throws SocketException {
        front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        back.connect(target);
        pump(front, true, target);
        pump(back, false, null);
    }

    int port() {
        return front.getLocalPort();
    }

    private void pump(DatagramSocket in, boolean fromSender, InetSocketAddress target) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[2048];
            while (!in.isClosed()) {
                try {
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    in.receive(p);
                    byte[] d = Arrays.copyOf(p.getData(), p.getLength());
                    if (fromSender) {
                        sender = (InetSocketAddress) p.getSocketAddress();
                        forward.add(d);
                        back.send(new DatagramPacket(d, d.length, target));
                    } else if (sender != null) {
                        backward.add(d);
                        front.send(new DatagramPacket(d, d.length, sender));
                    }
                } catch (java.io.IOException e) {
                    return;
                }
            }
        }, "udp-tap");
        t.setDaemon(true);
        t.start();
    }

    /** The recorded datagrams of one direction, parsed (the option registry knows Hop-Limit and the extensions). */
    static Message parse(byte[] datagram) {
        return new UdpDataParser(false, dev.coterie.oscore.ExtensionOptionRegistry.defaults().californiumRegistry())
                .parseMessage(datagram);
    }

    @Override
    public void close() {
        front.close();
        back.close();
    }
}
