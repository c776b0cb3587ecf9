package dev.coterie.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;

/**
 * A lean closed-loop CoAP load driver for plain {@code GET /}, over coap+tcp (RFC 8323 framing,
 * CSM first) or over UDP (CON, RFC 7252), to check whether the Californium client driver of
 * {@link TcpLoad} is itself the bottleneck: one thread, pre-encoded requests, no Californium
 * stack, {@code outstanding} requests in flight, a new one sent for each 2.05 whose payload is
 * {@code body} (any other answer counts as bad and also frees its slot). Over TCP all requests a
 * read completes are refilled with one write. Bounded: {@code limit} requests, and a window ends
 * when nothing arrives for 3 s or after {@code maxNanos}. A fresh connection or socket per window
 * (so UDP Message IDs, 16 bits, never repeat within one: {@code limit} is at most 65536).
 */
final class RawLoad {
    static final int TIMEOUT_MILLIS = 3000;

    /** The result of one window. */
    record Result(long ok, long bad, long sent) {
        String problems() {
            return "bad=" + bad + " lost=" + (sent - ok - bad);
        }
    }

    private RawLoad() {
    }

    /** The frame of CoAP over TCP GET / with a 4-byte token (no options): Len 0, TKL 4, code 0.01. */
    private static void tcpGet(byte[] b, int at, int token) {
        b[at] = 0x04;
        b[at + 1] = 0x01;
        putInt(b, at + 2, token);
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /** Over coap+tcp to {@code to}: CSM (Max-Message-Size 1152), then the closed loop. */
    static Result tcp(InetSocketAddress to, int outstanding, long limit, byte[] body, long maxNanos) throws IOException {
        long ok = 0;
        long bad = 0;
        long sent = 0;
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(to, TIMEOUT_MILLIS);
            s.setSoTimeout(TIMEOUT_MILLIS);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            byte[] w = new byte[5 + 6 * outstanding];
            w[0] = 0x30; // Len 3, no token
            w[1] = (byte) 0xE1; // 7.01 CSM
            w[2] = 0x22; // option 2 Max-Message-Size, 2 bytes
            w[3] = 0x04;
            w[4] = (byte) 0x80; // 1152
            int n = 5;
            for (int i = 0; i < outstanding && sent < limit; i++, n += 6) {
                tcpGet(w, n, (int) sent++);
            }
            out.write(w, 0, n);
            byte[] buf = new byte[64 * 1024];
            int have = 0;
            long until = System.nanoTime() + maxNanos;
            while (ok + bad < sent && System.nanoTime() - until < 0) {
                int r;
                try {
                    r = in.read(buf, have, buf.length - have);
                } catch (SocketTimeoutException stalled) {
                    break;
                }
                if (r < 0) {
                    break;
                }
                have += r;
                int at = 0;
                int refill = 0;
                while (true) {
                    if (have - at < 2) {
                        break;
                    }
                    int b0 = buf[at] & 0xFF;
                    int nib = b0 >>> 4;
                    int tkl = b0 & 0x0F;
                    int ext = nib < 13 ? 0 : nib == 13 ? 1 : nib == 14 ? 2 : 4;
                    if (have - at < 1 + ext) {
                        break;
                    }
                    long len = switch (ext) {
                        case 0 -> nib;
                        case 1 -> 13 + (buf[at + 1] & 0xFF);
                        case 2 -> 269 + (((buf[at + 1] & 0xFF) << 8) | (buf[at + 2] & 0xFF));
                        default -> 65805L + (((long) (buf[at + 1] & 0xFF) << 24) | ((buf[at + 2] & 0xFF) << 16)
                                | ((buf[at + 3] & 0xFF) << 8) | (buf[at + 4] & 0xFF));
                    };
                    long total = 1 + ext + 1 + tkl + len;
                    if (total > buf.length) {
                        throw new IOException("frame of " + total + " bytes: not a response to GET /");
                    }
                    if (have - at < total) {
                        break;
                    }
                    int code = buf[at + 1 + ext] & 0xFF;
                    int opts = at + 1 + ext + 1 + tkl;
                    int end = (int) (at + total);
                    at = end;
                    if (code >>> 5 == 7) {
                        continue; // signaling (the server's CSM)
                    }
                    if (code == 0x45 && payloadIs(buf, opts, end, body)) {
                        ok++;
                    } else {
                        bad++;
                    }
                    refill++;
                }
                System.arraycopy(buf, at, buf, 0, have - at);
                have -= at;
                int m = 0;
                for (int i = 0; i < refill && sent < limit; i++, m += 6) {
                    tcpGet(w, m, (int) sent++);
                }
                if (m > 0) {
                    out.write(w, 0, m);
                }
            }
        }
        return new Result(ok, bad, sent);
    }

    /** Over UDP to {@code to}: CON GET / with a Message ID and a 4-byte token, answered piggybacked. */
    static Result udp(InetSocketAddress to, int outstanding, long limit, byte[] body, long maxNanos) throws IOException {
        if (limit > 65536) {
            throw new IllegalArgumentException("at most 65536 requests per window: Message IDs must not repeat");
        }
        long ok = 0;
        long bad = 0;
        long sent = 0;
        try (DatagramChannel ch = DatagramChannel.open()) {
            ch.bind(new InetSocketAddress("127.0.0.1", 0));
            ch.connect(to);
            ch.socket().setSoTimeout(TIMEOUT_MILLIS);
            ByteBuffer w = ByteBuffer.allocate(8);
            for (int i = 0; i < outstanding && sent < limit; i++) {
                udpGet(ch, w, (int) sent++);
            }
            byte[] buf = new byte[2048];
            long until = System.nanoTime() + maxNanos;
            var in = ch.socket();
            java.net.DatagramPacket p = new java.net.DatagramPacket(buf, buf.length);
            while (ok + bad < sent && System.nanoTime() - until < 0) {
                try {
                    p.setLength(buf.length);
                    in.receive(p);
                } catch (SocketTimeoutException stalled) {
                    break;
                }
                int n = p.getLength();
                if (n < 4) {
                    continue;
                }
                int tkl = buf[0] & 0x0F;
                int type = (buf[0] >>> 4) & 0x03;
                int code = buf[1] & 0xFF;
                if (type != 2 || code == 0) {
                    continue; // not a piggybacked answer (an empty ACK never comes for this resource)
                }
                if (code == 0x45 && payloadIs(buf, 4 + tkl, n, body)) {
                    ok++;
                } else {
                    bad++;
                }
                if (sent < limit) {
                    udpGet(ch, w, (int) sent++);
                }
            }
        }
        return new Result(ok, bad, sent);
    }

    private static void udpGet(DatagramChannel ch, ByteBuffer w, int n) throws IOException {
        w.clear();
        w.put((byte) 0x44).put((byte) 0x01).putShort((short) n).putInt(n).flip();
        ch.write(w);
    }

    /** Whether the options from {@code at} to {@code end} are followed by exactly {@code body}. */
    static boolean payloadIs(byte[] b, int at, int end, byte[] body) {
        int i = at;
        while (i < end && (b[i] & 0xFF) != 0xFF) {
            int d = (b[i] >>> 4) & 0x0F;
            int l = b[i] & 0x0F;
            i++;
            if (d == 13) {
                i++;
            } else if (d == 14) {
                i += 2;
            }
            if (l == 13) {
                l = 13 + (b[i] & 0xFF);
                i++;
            } else if (l == 14) {
                l = 269 + (((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF));
                i += 2;
            }
            i += l;
        }
        if (i >= end) {
            return body.length == 0;
        }
        return Arrays.equals(b, i + 1, end, body, 0, body.length);
    }
}
