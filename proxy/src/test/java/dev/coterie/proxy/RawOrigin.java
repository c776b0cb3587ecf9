package dev.coterie.proxy;

import dev.coterie.oscore.ExtensionOptionRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * An origin on a raw UDP socket that answers each request with the bytes its answer function
 * crafts (null: no answer), for responses Californium would never send: unknown options,
 * format errors, broken OSCORE. It records every request as parsed from the wire.
 */
final class RawOrigin implements AutoCloseable {
    private static final UdpDataParser PARSER = new UdpDataParser(false, ExtensionOptionRegistry.defaults().californiumRegistry());

    final List<Request> received = new CopyOnWriteArrayList<>();
    private final DatagramSocket socket;
    private final Thread thread;
    volatile Function<Request, byte[]> answer;
    /** A datagram sent just before each answer, when set (a test sets it from inside {@link #answer}). */
    volatile byte[] first;

    RawOrigin(Function<Request, byte[]> answer) throws SocketException {
        this.answer = answer;
        socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
        thread = new Thread(this::serve, "raw-origin");
        thread.setDaemon(true);
        thread.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    private void serve() {
        byte[] buf = new byte[2048];
        while (!socket.isClosed()) {
            try {
                DatagramPacket p = new DatagramPacket(buf, buf.length);
                socket.receive(p);
                byte[] bytes = java.util.Arrays.copyOf(p.getData(), p.getLength());
                Request r = (Request) PARSER.parseMessage(bytes);
                r.setSourceContext(new AddressEndpointContext(p.getAddress(), p.getPort()));
                received.add(r);
                byte[] out = answer.apply(r);
                byte[] before = first;
                if (out != null && before != null) {
                    socket.send(new DatagramPacket(before, before.length, p.getSocketAddress())); // e.g. a forgery first
                }
                if (out != null) {
                    socket.send(new DatagramPacket(out, out.length, p.getSocketAddress()));
                }
            } catch (IOException | RuntimeException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    /** A piggybacked ACK to {@code r}: code, then the given option and payload bytes as they go on the wire. */
    static byte[] ack(org.eclipse.californium.core.coap.Message r, int code, byte[] optionsAndPayload) {
        byte[] token = r.getTokenBytes();
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(0x60 | token.length);
        o.write(code);
        o.write(r.getMID() >> 8);
        o.write(r.getMID());
        o.writeBytes(token);
        o.writeBytes(optionsAndPayload);
        return o.toByteArray();
    }

    /** One option header and value, after an option numbered {@code previous}. */
    static byte[] option(int previous, int number, byte[] value) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int delta = number - previous;
        int d = delta < 13 ? delta : delta < 269 ? 13 : 14;
        int l = value.length < 13 ? value.length : 13;
        b.write(d << 4 | l);
        if (d == 13) {
            b.write(delta - 13);
        } else if (d == 14) {
            b.write((delta - 269) >> 8);
            b.write(delta - 269);
        }
        if (l == 13) {
            b.write(value.length - 13);
        }
        b.writeBytes(value);
        return b.toByteArray();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            b.writeBytes(p);
        }
        return b.toByteArray();
    }

    @Override
    public void close() {
        socket.close();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
