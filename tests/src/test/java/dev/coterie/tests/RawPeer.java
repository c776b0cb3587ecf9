package dev.coterie.tests;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/** A scripted CoAP peer on a loopback socket: sends exact bytes, reads exact replies. */
final class RawPeer implements AutoCloseable {
    private final DatagramSocket socket;

    RawPeer() throws Exception {
        socket = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
    }

    int port() {
        return socket.getLocalPort();
    }

    static byte[] bytes(Message m) {
        return new UdpDataSerializer().getByteArray(m);
    }

    void send(InetSocketAddress to, byte[] data) throws Exception {
        socket.send(new DatagramPacket(data, data.length, to));
    }

    /** The next datagram as raw bytes, or null after {@code timeoutMs} of silence. */
    byte[] receiveRaw(int timeoutMs) throws Exception {
        socket.setSoTimeout(timeoutMs);
        byte[] buf = new byte[4096];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        try {
            socket.receive(p);
        } catch (SocketTimeoutException e) {
            return null;
        }
        return Arrays.copyOf(buf, p.getLength());
    }

    Message receive(int timeoutMs) throws Exception {
        byte[] raw = receiveRaw(timeoutMs);
        return raw == null ? null : new UdpDataParser().parseMessage(raw);
    }

    Message exchange(InetSocketAddress to, byte[] data, int timeoutMs) throws Exception {
        send(to, data);
        return receive(timeoutMs);
    }

    @Override
    public void close() {
        socket.close();
    }
}
