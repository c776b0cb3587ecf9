package dev.coterie.bench;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.SecureRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;

/**
 * Many traditional observers (RFC 7641) on a few plain UDP sockets, each with a receiving thread
 * that does as little as it can per datagram: the observers of {@link GroupObservationBench},
 * the same for both sides, so that what they cost falls on both alike. An observer is a Token:
 * 8 bytes, this fleet's 4 random bytes, the side (0 or 1) and the observer's index (3 bytes),
 * so that a datagram is matched to its observer without a lookup. Registration is a NON GET
 * with Observe 0 (Uri-Path to a server, or Proxy-Uri through a proxy), observer i on socket
 * i mod sockets; a notification is parsed only as far as type, code, Token, whether it has
 * Observe, and the number its payload ends with (the change it reports); a CON one is
 * acknowledged (none is expected: see the report). Per side, the fleet counts for the change it
 * awaits how many observers have it and when the first and the last arrived.
 */
final class ObserverFleet implements AutoCloseable {
    static final int SIDES = 2;
    private static final int CONTENT = CoAP.ResponseCode.CONTENT.value;

    private final DatagramSocket[] sockets;
    private final int magic = new SecureRandom().nextInt();
    private final AtomicInteger mid = new AtomicInteger(new SecureRandom().nextInt(1 << 16));
    private final Side[] sides = new Side[SIDES];
    private volatile boolean closed;
    /** Datagrams that are no notification of this fleet's Tokens, or come from elsewhere than their side's sender. */
    final LongAdder foreign = new LongAdder();
    /** Confirmable notifications, acknowledged. */
    final LongAdder confirmable = new LongAdder();

    /** The observers of one side: one sender (a server, or the proxy) and up to {@code capacity} Tokens. */
    static final class Side {
        final InetSocketAddress sender;
        final boolean[] registered;
        final int[] seen; // per observer, the last awaited change it got; written by its socket's thread only
        final AtomicInteger registeredCount = new AtomicInteger();
        volatile int observers; // registered so far by register(): the count a change must reach
        volatile int expected = -1;
        final AtomicInteger got = new AtomicInteger();
        volatile long firstNanos;
        volatile long lastNanos;
        volatile CountDownLatch done = new CountDownLatch(0);
        /** Every datagram from the sender to this side's Tokens. */
        final LongAdder datagrams = new LongAdder();
        /** Notifications of another change than the awaited one (late ones), and second copies of the awaited one. */
        final LongAdder stale = new LongAdder();
        final LongAdder duplicates = new LongAdder();
        /** Answers that are no 2.05 with Observe. */
        final LongAdder other = new LongAdder();

        Side(InetSocketAddress sender, int capacity) {
            this.sender = sender;
            this.registered = new boolean[capacity];
            this.seen = new int[capacity];
        }
    }

    ObserverFleet(int socketCount, int receiveBuffer) throws IOException {
        sockets = new DatagramSocket[socketCount];
        for (int i = 0; i < socketCount; i++) {
            DatagramSocket s = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
            s.setReceiveBufferSize(receiveBuffer);
            sockets[i] = s;
            Thread t = new Thread(() -> receive(s), "observer-fleet-" + i);
            t.setDaemon(true);
            t.start();
        }
    }

    /** Declares side {@code side}: its notifications come from {@code sender}. */
    Side side(int side, InetSocketAddress sender, int capacity) {
        sides[side] = new Side(sender, capacity);
        return sides[side];
    }

    int receiveBufferSize() throws IOException {
        return sockets[0].getReceiveBufferSize();
    }

    private byte[] token(int side, int index) {
        return new byte[] {(byte) (magic >>> 24), (byte) (magic >>> 16), (byte) (magic >>> 8), (byte) magic, (byte) side,
                (byte) (index >>> 16), (byte) (index >>> 8), (byte) index};
    }

    /**
     * Registers observers {@code from} to {@code to - 1} of {@code side}, at most {@code window}
     * unanswered at a time, with {@code uriPath} (to the server itself) or {@code proxyUri}
     * (through a proxy, to {@code side.sender}'s address as given); an observer still unanswered
     * after 5 s is sent its registration again (same Token), three times at most.
     *
     * @return true when every one of them got its first notification within {@code timeoutMs}
     */
    boolean register(int side, InetSocketAddress to, String uriPath, String proxyUri, int from, int until, int window,
                     long timeoutMs) throws IOException, InterruptedException {
        Side s = sides[side];
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        int base = s.registeredCount.get(); // the observers registered before
        int n = until - from;
        for (int i = from; i < until; i++) {
            while (i - from - (s.registeredCount.get() - base) >= window && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            send(side, i, to, uriPath, proxyUri);
        }
        for (int round = 0; round < 4; round++) {
            long wait = Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            while (s.registeredCount.get() - base < n && System.nanoTime() < wait) {
                Thread.sleep(5);
            }
            if (s.registeredCount.get() - base >= n || round == 3 || System.nanoTime() >= deadline) {
                break;
            }
            for (int i = from; i < until; i++) {
                if (!s.registered[i]) {
                    send(side, i, to, uriPath, proxyUri);
                }
            }
        }
        s.observers = s.registeredCount.get();
        return s.registeredCount.get() - base >= n;
    }

    private void send(int side, int index, InetSocketAddress to, String uriPath, String proxyUri) throws IOException {
        Request r = new Request(CoAP.Code.GET, CoAP.Type.NON);
        r.setToken(Token.fromProvider(token(side, index)));
        r.setMID(mid.getAndIncrement() & 0xffff);
        r.getOptions().setObserve(0);
        if (proxyUri != null) {
            r.getOptions().setProxyUri(proxyUri);
        } else {
            r.getOptions().setUriPath(uriPath);
        }
        byte[] b = new UdpDataSerializer().getByteArray(r);
        sockets[index % sockets.length].send(new DatagramPacket(b, b.length, to));
    }

    /** From now on, side {@code side} awaits change {@code number} from all its registered observers. */
    void expect(int side, int number) {
        Side s = sides[side];
        s.done = new CountDownLatch(1);
        s.firstNanos = 0;
        s.lastNanos = 0;
        s.got.set(0);
        s.expected = number;
    }

    /** Waits until every observer of {@code side} has the awaited change; false after {@code timeoutMs}. */
    boolean await(int side, long timeoutMs) throws InterruptedException {
        return sides[side].done.await(timeoutMs, TimeUnit.MILLISECONDS);
    }

    private void receive(DatagramSocket socket) {
        byte[] buf = new byte[1500];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        byte[] ack = new byte[4];
        DatagramPacket ackPacket = new DatagramPacket(ack, 4);
        while (!closed) {
            p.setLength(buf.length);
            try {
                socket.receive(p);
            } catch (IOException e) {
                return; // closed
            }
            long now = System.nanoTime();
            int len = p.getLength();
            int b0 = len >= 12 ? buf[0] & 0xff : 0;
            if (b0 >> 6 != 1 || (b0 & 0xf) != 8 || (((buf[4] & 0xff) << 24) | ((buf[5] & 0xff) << 16) | ((buf[6] & 0xff) << 8)
                    | (buf[7] & 0xff)) != magic || buf[8] < 0 || buf[8] >= SIDES || sides[buf[8]] == null) {
                foreign.increment();
                continue;
            }
            Side s = sides[buf[8]];
            int index = ((buf[9] & 0xff) << 16) | ((buf[10] & 0xff) << 8) | (buf[11] & 0xff);
            SocketAddress from = p.getSocketAddress();
            if (index >= s.seen.length || !s.sender.equals(from)) {
                foreign.increment();
                continue;
            }
            s.datagrams.increment();
            if ((b0 >> 4 & 3) == CoAP.Type.CON.value) {
                confirmable.increment();
                ack[0] = 0x60; // version 1, ACK, no Token
                ack[1] = 0;
                ack[2] = buf[2];
                ack[3] = buf[3];
                ackPacket.setSocketAddress(from);
                try {
                    socket.send(ackPacket);
                } catch (IOException e) {
                    return;
                }
            }
            int number = 0;
            boolean observe = false;
            int payload = -1;
            int i = 12;
            while (i < len) {
                int b = buf[i++] & 0xff;
                if (b == 0xff) {
                    payload = i;
                    break;
                }
                int delta = b >> 4;
                int olen = b & 0xf;
                if (delta == 13) {
                    delta = 13 + (buf[i++] & 0xff);
                } else if (delta == 14) {
                    delta = 269 + (((buf[i] & 0xff) << 8) | (buf[i + 1] & 0xff));
                    i += 2;
                }
                if (olen == 13) {
                    olen = 13 + (buf[i++] & 0xff);
                } else if (olen == 14) {
                    olen = 269 + (((buf[i] & 0xff) << 8) | (buf[i + 1] & 0xff));
                    i += 2;
                }
                number += delta;
                observe |= number == 6;
                i += olen;
            }
            if ((buf[1] & 0xff) != CONTENT || !observe || payload < 0) {
                s.other.increment();
                continue;
            }
            int value = 0; // the number the payload ends with
            for (int k = len - 1, scale = 1; k >= payload && buf[k] >= '0' && buf[k] <= '9'; k--, scale *= 10) {
                value += (buf[k] - '0') * scale;
            }
            if (!s.registered[index]) {
                s.registered[index] = true;
                s.registeredCount.incrementAndGet();
            }
            int e = s.expected;
            if (value != e) {
                if (e >= 0) {
                    s.stale.increment();
                }
            } else if (s.seen[index] == e) {
                s.duplicates.increment();
            } else {
                s.seen[index] = e;
                int g = s.got.incrementAndGet();
                if (g == 1) {
                    s.firstNanos = now;
                }
                if (g == s.observers) {
                    s.lastNanos = now;
                    s.done.countDown();
                }
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (DatagramSocket s : sockets) {
            s.close();
        }
    }
}
