package dev.coterie.oscore.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 8323 framing checks and signaling for one connection, which Californium 3.13's Netty
 * connectors do not have (they neither send nor expect a CSM and hand 7.xx messages to a parser
 * that drops them). Sits between the TLS handler (if any) and Californium's framer:
 *
 * <ul>
 * <li>on a TLS client, sends nothing unless the server agreed to ALPN "coap";
 * <li>sends this side's CSM (Max-Message-Size; Block-Wise-Transfer unless Max-Message-Size is
 *     over 1152, which would announce BERT) before anything else;
 * <li>requires the peer's first message to be a CSM, within the frame timeout (TCP-02), and
 *     aborts with Bad-CSM-Option on an unknown critical CSM option (TCP-05);
 * <li>refuses a frame longer than the announced Max-Message-Size from its header, before its body
 *     is buffered, and a token length over 8 (TCP-01, TCP-03): Abort;
 * <li>refuses to send a message over the peer's Max-Message-Size (1152 until its CSM arrives);
 * <li>answers Ping with Pong on the same token (TCP-04), closes on Release (an Alternative-Address
 *     of 1-255 bytes, logged escaped; another length: Abort) and Abort (TCP-06),
 *     ignores Empty keep-alives and Pongs;
 * <li>aborts a connection whose partial frame stalls past the frame timeout (slowloris), and
 *     closes connections past the connector's limit.
 * </ul>
 * Complete non-signaling frames go on to Californium one by one.
 */
public final class SignalingHandler extends ChannelDuplexHandler {
    private static final Logger LOG = LoggerFactory.getLogger(SignalingHandler.class);

    static final int CSM = 0xE1;
    static final int PING = 0xE2;
    static final int PONG = 0xE3;
    static final int RELEASE = 0xE4;
    static final int ABORT = 0xE5;
    /** Option numbers, per signaling code (RFC 8323 Section 5.3-5.6). */
    static final int MAX_MESSAGE_SIZE = 2;
    static final int BLOCK_WISE_TRANSFER = 4;
    static final int CUSTODY = 2;
    static final int ALTERNATIVE_ADDRESS = 2;
    static final int HOLD_OFF = 4;
    static final int BAD_CSM_OPTION = 2;

    private final TcpLimits limits;
    private final AtomicInteger connections;
    private final Runnable refused;
    private final SslHandler tlsClient;
    private ByteBuf buffer;
    private boolean csmSent;
    private boolean csmReceived;
    private boolean counted;
    private boolean closing;
    private long peerMaxMessageSize = TcpLimits.BASE_MAX_MESSAGE_SIZE;
    private boolean peerBlockWise;
    private long connectedAt;
    private long partialSince;
    private ScheduledFuture<?> timer;

    /** @param connections the connector's count of open connections (null: no limit, a client) */
    public SignalingHandler(TcpLimits limits, AtomicInteger connections) {
        this(limits, connections, null);
    }

    /**
     * @param tlsClient a TLS client's handler: the CSM and everything else waits for its
     *        handshake, and nothing is sent unless the server agreed to ALPN "coap"
     */
    SignalingHandler(TcpLimits limits, AtomicInteger connections, SslHandler tlsClient) {
        this.limits = limits;
        this.connections = connections;
        this.refused = () -> { };
        this.tlsClient = tlsClient;
    }

    /** A server's handler counting into {@code counts}: open connections, and those closed on arrival. */
    SignalingHandler(TcpLimits limits, ConnectionCounts counts) {
        this.limits = limits;
        this.connections = counts.open;
        this.refused = counts.refused::incrementAndGet;
        this.tlsClient = null;
    }

    /** A TLS client: the handshake is done and the server chose ALPN "coap" (RFC 8323 Section 8.2). */
    private boolean alpnRefused() {
        return tlsClient != null && tlsClient.handshakeFuture().isSuccess() && !TlsFiles.ALPN.equals(tlsClient.engine().getApplicationProtocol());
    }

    /** The peer's Max-Message-Size: 1152 until its CSM says otherwise. */
    public long peerMaxMessageSize() {
        return peerMaxMessageSize;
    }

    /** Whether the peer's CSM carried Block-Wise-Transfer. */
    public boolean peerBlockWise() {
        return peerBlockWise;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        connectedAt = System.nanoTime();
        if (connections != null) {
            counted = true;
            if (connections.incrementAndGet() > limits.maxConnections()) {
                LOG.info("{}: closed on arrival, {} connections is the limit", ctx.channel().remoteAddress(), limits.maxConnections());
                refused.run();
                closing = true;
                ctx.close();
                return;
            }
        }
        if (tlsClient == null) {
            sendCsm(ctx);
        } else {
            tlsClient.handshakeFuture().addListener(f -> {
                if (!f.isSuccess()) {
                    return; // Californium reports the handshake's failure
                }
                if (alpnRefused()) {
                    LOG.info("{}: closed: the TLS server did not agree to ALPN \"coap\"", ctx.channel().remoteAddress());
                    closing = true;
                    ctx.close();
                } else {
                    sendCsm(ctx);
                }
            });
        }
        long period = Math.max(50, limits.frameTimeoutMillis() / 4);
        timer = ctx.executor().scheduleAtFixedRate(() -> checkDeadlines(ctx), period, period, TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (counted) {
            counted = false;
            connections.decrementAndGet();
        }
        cleanUp();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cleanUp();
    }

    private void cleanUp() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }

    private void checkDeadlines(ChannelHandlerContext ctx) {
        if (closing) {
            return;
        }
        long now = System.nanoTime();
        long limit = TimeUnit.MILLISECONDS.toNanos(limits.frameTimeoutMillis());
        if (!csmReceived && now - connectedAt >= limit) {
            abort(ctx, "no CSM within " + limits.frameTimeoutMillis() + " ms", -1);
        } else if (partialSince != 0 && now - partialSince >= limit) {
            abort(ctx, "frame not completed within " + limits.frameTimeoutMillis() + " ms", -1);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (closing) {
            in.release();
            return;
        }
        if (buffer == null) {
            buffer = ctx.alloc().buffer(Math.max(256, in.readableBytes()));
        }
        try {
            buffer.writeBytes(in);
        } finally {
            in.release();
        }
        boolean completed = false;
        while (!closing && buffer != null && buffer.isReadable()) {
            int r = buffer.readableBytes();
            int at = buffer.readerIndex();
            int b0 = buffer.getUnsignedByte(at);
            int lenNibble = b0 >>> 4;
            int tkl = b0 & 0x0F;
            if (tkl > 8) {
                abort(ctx, "token length " + tkl + " over 8", -1);
                return;
            }
            int ext = lenNibble < 13 ? 0 : lenNibble == 13 ? 1 : lenNibble == 14 ? 2 : 4;
            if (r < 1 + ext) {
                break;
            }
            long len = switch (ext) {
                case 0 -> lenNibble;
                case 1 -> 13L + buffer.getUnsignedByte(at + 1);
                case 2 -> 269L + buffer.getUnsignedShort(at + 1);
                default -> 65805L + buffer.getUnsignedInt(at + 1);
            };
            long total = 1L + ext + 1 + tkl + len;
            if (total > limits.maxMessageSize()) {
                abort(ctx, "message of " + total + " bytes over Max-Message-Size " + limits.maxMessageSize(), -1);
                return;
            }
            if (r < total) {
                break;
            }
            ByteBuf frame = buffer.readRetainedSlice((int) total);
            completed = true;
            handleFrame(ctx, frame, 1 + ext, tkl, (int) len);
        }
        if (buffer == null || closing) {
            return;
        }
        if (buffer.isReadable()) {
            if (completed || partialSince == 0) {
                partialSince = System.nanoTime(); // a new frame began
            }
            buffer.discardSomeReadBytes();
        } else {
            partialSince = 0;
            buffer.clear();
        }
    }

    /** @param codeAt offset of the Code byte in {@code frame} */
    private void handleFrame(ChannelHandlerContext ctx, ByteBuf frame, int codeAt, int tkl, int len) {
        int code = frame.getUnsignedByte(codeAt);
        if (!csmReceived && code != CSM) {
            frame.release();
            abort(ctx, "the first message must be a CSM", -1);
            return;
        }
        if (code >>> 5 != 7) {
            if (code == 0) {
                frame.release(); // Empty: a keep-alive, always ignored
                return;
            }
            ctx.fireChannelRead(frame);
            return;
        }
        try {
            byte[] token = new byte[tkl];
            frame.getBytes(codeAt + 1, token);
            byte[] rest = new byte[len];
            frame.getBytes(codeAt + 1 + tkl, rest);
            signaling(ctx, code, token, rest);
        } finally {
            frame.release();
        }
    }

    private void signaling(ChannelHandlerContext ctx, int code, byte[] token, byte[] rest) {
        java.util.List<int[]> opts = new java.util.ArrayList<>(); // {number, offset, length} into rest
        int i = 0;
        int number = 0;
        while (i < rest.length && (rest[i] & 0xFF) != 0xFF) {
            int b = rest[i++] & 0xFF;
            int[] delta = {b >>> 4};
            int[] length = {b & 0x0F};
            i = extended(rest, i, delta);
            if (i >= 0) {
                i = extended(rest, i, length);
            }
            if (i < 0 || i + length[0] > rest.length) {
                abort(ctx, "malformed option", -1);
                return;
            }
            number += delta[0];
            opts.add(new int[] {number, i, length[0]});
            i += length[0];
        }
        if (i < rest.length && i == rest.length - 1) {
            abort(ctx, "payload marker without payload", -1);
            return;
        }
        switch (code) {
            case CSM -> {
                for (int[] o : opts) {
                    if (o[0] == MAX_MESSAGE_SIZE) {
                        if (o[2] > 4) {
                            abort(ctx, "Max-Message-Size longer than 4 bytes", MAX_MESSAGE_SIZE);
                            return;
                        }
                        peerMaxMessageSize = uint(rest, o[1], o[2]);
                    } else if (o[0] == BLOCK_WISE_TRANSFER) {
                        peerBlockWise = true;
                    } else if ((o[0] & 1) == 1) {
                        abort(ctx, "unknown critical CSM option " + o[0], o[0]);
                        return;
                    }
                }
                csmReceived = true;
                LOG.debug("{}: CSM Max-Message-Size {} Block-Wise-Transfer {}", ctx.channel().remoteAddress(),
                        peerMaxMessageSize, peerBlockWise);
            }
            case PING -> {
                if (criticalUnknown(ctx, opts, CUSTODY)) {
                    return;
                }
                ByteBuf pong = ctx.alloc().buffer(2 + token.length);
                pong.writeByte(token.length).writeByte(PONG).writeBytes(token);
                ctx.writeAndFlush(pong);
            }
            case PONG -> criticalUnknown(ctx, opts, CUSTODY);
            case RELEASE -> {
                if (criticalUnknown(ctx, opts, ALTERNATIVE_ADDRESS, HOLD_OFF)) {
                    return;
                }
                for (int[] o : opts) {
                    if (o[0] == ALTERNATIVE_ADDRESS && (o[2] < 1 || o[2] > 255)) {
                        // RFC 8323 Section 5.5 table: a string of 1-255 bytes
                        abort(ctx, "Alternative-Address of " + o[2] + " bytes, not 1-255", -1);
                        return;
                    }
                }
                for (int[] o : opts) {
                    if (o[0] == ALTERNATIVE_ADDRESS) {
                        LOG.info("{}: Release names alternative address {}", ctx.channel().remoteAddress(), printable(rest, o[1], o[2]));
                    } else if (o[0] == HOLD_OFF) {
                        LOG.info("{}: Release asks to hold off {} s", ctx.channel().remoteAddress(), uint(rest, o[1], Math.min(4, o[2])));
                    }
                }
                closing = true;
                ctx.close();
            }
            case ABORT -> {
                LOG.info("{}: peer aborted the connection", ctx.channel().remoteAddress());
                closing = true;
                ctx.close();
            }
            default -> {
                // an unknown signaling code: ignored (RFC 8323 Section 5.1 defines no reaction; nothing is answered)
                LOG.debug("{}: ignored signaling code 7.{}", ctx.channel().remoteAddress(), code & 0x1F);
            }
        }
    }

    /**
     * Aborts on the first unknown critical option of a Ping, Pong or Release, without
     * Bad-CSM-Option (Section 5.3.2 defines that for a CSM only); elective ones are ignored.
     */
    private boolean criticalUnknown(ChannelHandlerContext ctx, java.util.List<int[]> opts, int... known) {
        for (int[] o : opts) {
            boolean k = false;
            for (int n : known) {
                k |= o[0] == n;
            }
            if (!k && (o[0] & 1) == 1) {
                abort(ctx, "unknown critical signaling option " + o[0], -1);
                return true;
            }
        }
        return false;
    }

    /** Reads an option delta or length extension (13: one byte, 14: two, 15: reserved); -1 if malformed. */
    private static int extended(byte[] b, int i, int[] v) {
        if (v[0] == 13) {
            if (i >= b.length) {
                return -1;
            }
            v[0] = 13 + (b[i] & 0xFF);
            return i + 1;
        }
        if (v[0] == 14) {
            if (i + 1 >= b.length) {
                return -1;
            }
            v[0] = 269 + (((b[i] & 0xFF) << 8) | (b[i + 1] & 0xFF));
            return i + 2;
        }
        return v[0] == 15 ? -1 : i;
    }

    /** {@code len} bytes of peer data for a log line: printable ASCII as is, anything else (and the backslash) as \\xNN. */
    static String printable(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        for (int k = off; k < off + len; k++) {
            int c = b[k] & 0xFF;
            if (c >= 0x20 && c < 0x7F && c != '\\') {
                sb.append((char) c);
            } else {
                sb.append(String.format("\\x%02x", c));
            }
        }
        return sb.toString();
    }

    private static long uint(byte[] b, int off, int len) {
        long v = 0;
        for (int k = 0; k < len; k++) {
            v = (v << 8) | (b[off + k] & 0xFF);
        }
        return v;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof ByteBuf out) {
            if (alpnRefused()) {
                out.release();
                promise.setFailure(new IOException("the TLS server did not agree to ALPN \"coap\" (RFC 8323 Section 8.2); not sent"));
                closing = true;
                ctx.close();
                return;
            }
            if (!csmSent) {
                sendCsm(ctx); // a client's first request can be written before channelActive reaches us
            }
            if (closing) {
                out.release();
                promise.setFailure(new IOException("connection closing"));
                return;
            }
            if (out.readableBytes() > peerMaxMessageSize) {
                int n = out.readableBytes();
                out.release();
                promise.setFailure(new IOException("message of " + n + " bytes over the peer's Max-Message-Size "
                        + peerMaxMessageSize + " (RFC 8323 Section 5.3.1); not sent"));
                return;
            }
        }
        ctx.write(msg, promise);
    }

    private void sendCsm(ChannelHandlerContext ctx) {
        if (csmSent) {
            return;
        }
        csmSent = true;
        ctx.writeAndFlush(Unpooled.wrappedBuffer(csm(limits.maxMessageSize())));
    }

    /**
     * This side's CSM, no token: Max-Message-Size, and Block-Wise-Transfer only up to 1152. Both
     * together with a Max-Message-Size over 1152 announce BERT (RFC 8323 Section 6), which
     * Coterie does not implement.
     */
    static byte[] csm(long maxMessageSize) {
        byte[] mms = uintBytes(maxMessageSize);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write((MAX_MESSAGE_SIZE << 4) | mms.length);
        o.writeBytes(mms);
        if (maxMessageSize <= TcpLimits.BASE_MAX_MESSAGE_SIZE) {
            o.write((BLOCK_WISE_TRANSFER - MAX_MESSAGE_SIZE) << 4);
        }
        return frame(CSM, o.toByteArray(), new byte[0]);
    }

    /** A frame with no token; {@code options} already encoded, {@code payload} after 0xFF if not empty. */
    static byte[] frame(int code, byte[] options, byte[] payload) {
        int len = options.length + (payload.length > 0 ? 1 + payload.length : 0);
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        if (len < 13) {
            o.write(len << 4);
        } else if (len < 269) {
            o.write(13 << 4);
            o.write(len - 13);
        } else {
            o.write(14 << 4); // signaling frames here are short: never 65805 bytes or more
            o.write((len - 269) >>> 8);
            o.write((len - 269) & 0xFF);
        }
        o.write(code);
        o.writeBytes(options);
        if (payload.length > 0) {
            o.write(0xFF);
            o.writeBytes(payload);
        }
        return o.toByteArray();
    }

    private static byte[] uintBytes(long v) {
        int n = v == 0 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x1000000 ? 3 : 4;
        byte[] b = new byte[n];
        for (int k = n - 1; k >= 0; k--) {
            b[k] = (byte) v;
            v >>>= 8;
        }
        return b;
    }

    /**
     * Sends Abort with {@code diagnostic} (never peer data) and Bad-CSM-Option if {@code badOption}
     * is not negative, then closes the connection.
     */
    private void abort(ChannelHandlerContext ctx, String diagnostic, int badOption) {
        if (closing) {
            return;
        }
        closing = true;
        LOG.info("{}: aborting: {}", ctx.channel().remoteAddress(), diagnostic);
        byte[] options = new byte[0];
        if (badOption >= 0) {
            byte[] v = uintBytes(badOption);
            options = new byte[1 + v.length];
            options[0] = (byte) ((BAD_CSM_OPTION << 4) | v.length);
            System.arraycopy(v, 0, options, 1, v.length);
        }
        if (!csmSent) {
            sendCsm(ctx);
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(frame(ABORT, options, diagnostic.getBytes(StandardCharsets.UTF_8))))
                .addListener(ChannelFutureListener.CLOSE);
        if (buffer != null) {
            buffer.release();
            buffer = null;
        }
    }
}
