package dev.coterie.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The HTTP counterpart of {@link Load}: a bounded closed loop of {@code connections} HTTP/1.1
 * keep-alive connections, each with one GET outstanding at all times, the next sent as soon as
 * the answer arrived (Netty's client codec on one event loop thread). A response is good when it
 * is 200 with exactly the expected body. A request without an answer after {@link #TIMEOUT_NANOS}
 * is counted as lost and its connection closed (a keep-alive connection cannot skip an answer);
 * a closed connection is opened again at the next {@link #start()}. Bounded by a request count
 * ({@code limit}) and by whoever calls {@link #stop()}; it can be started again after a stop.
 */
final class HttpLoad implements AutoCloseable {
    /** Longer than the proxy's own deadline would be wrong: it answers 504 itself past upstream_timeout_ms + 2 s. */
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final InetSocketAddress to;
    private final String uri;
    private final String host;
    private final ByteBuf expected;
    private final long limit;
    private final Conn[] conns;
    private final EventLoopGroup loop = new NioEventLoopGroup(1, new DefaultThreadFactory("http-load", true));
    private final Bootstrap bootstrap;
    final LongAdder ok = new LongAdder();
    final LongAdder bad = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder lost = new LongAdder();
    final LongAdder connects = new LongAdder();
    private final AtomicInteger inFlight = new AtomicInteger();
    private long sent; // on the event loop only
    private volatile boolean running;
    private volatile String badSample;
    private ScheduledFuture<?> sweeper;

    /**
     * @param to the HTTP front end
     * @param uri the request target (origin form), the same every time
     * @param expected the body of a good answer
     * @param limit the most requests sent in all
     */
    HttpLoad(InetSocketAddress to, String uri, int connections, byte[] expected, long limit) {
        this.to = to;
        this.uri = uri;
        this.host = to.getHostString() + ":" + to.getPort();
        this.expected = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(expected));
        this.limit = limit;
        conns = new Conn[connections];
        for (int i = 0; i < connections; i++) {
            conns[i] = new Conn();
        }
        bootstrap = new Bootstrap().group(loop).channel(NioSocketChannel.class).option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000);
    }

    /** Opens the connections that are not open (all at the first call) and starts every loop. */
    HttpLoad start() throws InterruptedException {
        for (Conn c : conns) {
            if (c.channel == null || !c.channel.isActive()) {
                c.connect();
            }
        }
        running = true;
        for (Conn c : conns) {
            c.channel.eventLoop().execute(c::send);
        }
        sweeper = loop.scheduleAtFixedRate(this::sweep, 250, 250, TimeUnit.MILLISECONDS);
        return this;
    }

    /** Stops sending and waits (at most the timeout) for the requests in flight. */
    void stop() throws InterruptedException {
        running = false;
        long until = System.nanoTime() + TIMEOUT_NANOS + TimeUnit.MILLISECONDS.toNanos(500);
        while (inFlight.get() > 0 && System.nanoTime() - until < 0) {
            Thread.sleep(20);
        }
        if (sweeper != null) {
            sweeper.cancel(false);
        }
    }

    long answered() {
        return ok.sum();
    }

    String problems() {
        String b = badSample;
        return "bad=" + bad.sum() + (b == null ? "" : " (e.g. " + b + ")") + " failed=" + failed.sum() + " lost=" + lost.sum()
                + " connections opened=" + connects.sum();
    }

    @Override
    public void close() {
        running = false;
        for (Conn c : conns) {
            if (c.channel != null) {
                c.channel.close();
            }
        }
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** Closes the connections whose request is overdue (on the event loop). */
    private void sweep() {
        long now = System.nanoTime();
        for (Conn c : conns) {
            if (c.waiting && now - c.sentAt > TIMEOUT_NANOS) {
                c.done();
                lost.increment();
                c.channel.close();
            }
        }
    }

    /** One connection and its one request outstanding; everything but connect() runs on the event loop. */
    private final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
        volatile Channel channel;
        boolean waiting;
        long sentAt;

        void connect() throws InterruptedException {
            Bootstrap b = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new HttpClientCodec(4096, 8192, 8192)).addLast(new HttpObjectAggregator(1 << 16))
                            .addLast(Conn.this);
                }
            });
            channel = b.connect(to).sync().channel();
            connects.increment();
        }

        void send() {
            if (!running || waiting || channel == null || !channel.isActive() || sent >= limit) {
                return;
            }
            sent++;
            waiting = true;
            inFlight.incrementAndGet();
            sentAt = System.nanoTime();
            FullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, Unpooled.EMPTY_BUFFER);
            r.headers().set(HttpHeaderNames.HOST, host);
            channel.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
                if (!f.isSuccess() && waiting) {
                    done();
                    failed.increment();
                    f.channel().close();
                }
            });
        }

        void done() {
            waiting = false;
            inFlight.decrementAndGet();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse resp) {
            if (!waiting) {
                return; // the answer to a request already given up
            }
            done();
            if (resp.status().equals(HttpResponseStatus.OK) && ByteBufUtil.equals(resp.content(), expected)) {
                ok.increment();
            } else {
                bad.increment();
                badSample = resp.status() + " " + resp.content().toString(java.nio.charset.StandardCharsets.UTF_8);
            }
            send();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            if (waiting) {
                done();
                failed.increment();
            }
            super.channelInactive(ctx);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public boolean isSharable() {
            return true; // added to one pipeline at a time: a closed connection's handler serves its successor
        }
    }
}
