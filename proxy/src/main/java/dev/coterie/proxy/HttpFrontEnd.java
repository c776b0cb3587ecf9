package dev.coterie.proxy;

import io.netty.bootstrap.ServerBootstrap;
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
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.elements.AddressEndpointContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's HTTP-to-CoAP front end (RFC 8075; groupcomm-proxy Section 9; RFC 8613 Section
 * 11): HTTP/1.1 over TCP, parsed by Netty's codec ({@link HttpServerCodec}, with a bounded
 * {@link HttpObjectAggregator}: a larger body is 413). Each request is mapped by
 * {@link HttpMapping} to a CoAP request with Proxy-Uri and handed to the {@link Forwarder} on an
 * exchange of its own, as if a CoAP client had sent it without a hop layer: the client is
 * "unauthenticated" for the access list, and access control, Hop-Limit, the cache, the limits
 * (the exchanges in flight among them: 5.03, so 503) and group forwarding are the proxy's as
 * for any CoAP request.
 *
 * <p>The answer: the first CoAP response of a unicast request. For a group request (a
 * Multicast-Timeout field and a target that is a configured group), every response with
 * Reply-From until T' (at most {@code group_forwarding.max_multicast_timeout_s}) plus a small
 * margin, then 204 or one multipart/mixed; an answer without Reply-From before any with it (a
 * refusal of the proxy's own, or the single 2.03 of a Group-ETag match) is the answer at once;
 * T' = 0 is 204 as soon as the request went out.
 *
 * <p>Limits: {@code max_connections} (a connection past it gets one 503 and is closed), one
 * request at a time per connection (nothing more is read meanwhile; pipelined requests already
 * read wait, at most {@link #MAX_PIPELINED}), a
 * connection idle for {@code idle_timeout_s} with no request in progress is closed. Logs name
 * the method and status only, never a body or the OSCORE field.
 */
final class HttpFrontEnd implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpFrontEnd.class);
    /** Requests one connection may have waiting behind the one in progress. */
    static final int MAX_PIPELINED = 16;
    /** The longest request line and header block (a Proxy-Uri is at most 1034 bytes): 414 and 431 past them. */
    static final int MAX_LINE = 4096;
    static final int MAX_HEADERS = 8192;
    /** Past T', the wait for responses the group forwarder relays right at T'. */
    static final long GROUP_MARGIN_MS = 500;
    /** Past the upstream timeout (when the forwarder answers 5.04 itself), the front end's own deadline. */
    static final long UNICAST_MARGIN_MS = 2000;

    private final ProxyConfig.Http cfg;
    private final Forwarder forwarder;
    private final HttpMapping mapping;
    private final ForwardTarget.Numbers numbers;
    private final ProxyMetrics metrics;
    private final List<ProxyConfig.Group> groups;
    private final boolean groupsThroughNextProxy;
    private final long maxTPrimeSeconds;
    private final long unicastWaitMs;
    private final ExecutorService forwarding;
    private EventLoopGroup boss;
    private EventLoopGroup workers;
    private Channel server;

    HttpFrontEnd(ProxyConfig config, Forwarder forwarder, ForwardTarget.Numbers numbers, ProxyMetrics metrics) {
        this.cfg = config.http();
        this.forwarder = forwarder;
        this.numbers = numbers;
        this.metrics = metrics;
        this.groups = config.groups();
        this.groupsThroughNextProxy = config.nextProxy() != null && config.groupForwarding().throughNextProxy();
        this.mapping = new HttpMapping(cfg.pathPrefix(), numbers, !groups.isEmpty() || groupsThroughNextProxy);
        this.maxTPrimeSeconds = config.groupForwarding().maxMulticastTimeoutSeconds();
        this.unicastWaitMs = config.limits().upstreamTimeoutMs() + UNICAST_MARGIN_MS;
        // the forwarder may resolve a target's name: never on an event loop
        this.forwarding = Executors.newFixedThreadPool(2, new DefaultThreadFactory("coterie-http-forward", true));
    }

    /** Binds {@code http.listen}; a failure is a {@link ListenFailure} naming the field. */
    void start() throws ListenFailure {
        boss = new NioEventLoopGroup(1, new DefaultThreadFactory("coterie-http-accept", true));
        workers = new NioEventLoopGroup(1, new DefaultThreadFactory("coterie-http", true));
        ServerBootstrap b = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new IdleStateHandler(0, 0, cfg.idleTimeoutSeconds(), TimeUnit.SECONDS))
                                .addLast(new HttpServerCodec(MAX_LINE, MAX_HEADERS, 8192))
                                .addLast(new HttpObjectAggregator(cfg.maxBodyBytes()))
                                .addLast(new Connection());
                    }
                });
        if (!cfg.listen().getAddress().isLoopbackAddress()) {
            LOG.warn("the HTTP front end listens on {} and authenticates no client (http.unauthenticated: allow)",
                    ListenFailure.hostPort(cfg.listen()));
        }
        try {
            server = b.bind(cfg.listen()).syncUninterruptibly().channel();
        } catch (Exception e) { // Netty rethrows the bind's IOException unchecked
            close();
            IOException cause = e instanceof IOException io ? io : new IOException(e.getMessage(), e);
            throw new ListenFailure("http.listen", cfg.listen(), cause);
        }
    }

    InetSocketAddress address() {
        return server == null ? null : (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        if (boss != null) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (workers != null) {
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        forwarding.shutdownNow();
    }

    /** Whether answers to {@code m} are collected as a group's (see the class comment). */
    private boolean groupRequest(HttpMapping.Mapped m) {
        if (m.multicastTimeout() == null) {
            return false;
        }
        if (groupsThroughNextProxy) {
            return true;
        }
        for (ProxyConfig.Group g : groups) {
            if (g.matches(m.target().origin())) {
                return true;
            }
        }
        return false;
    }

    /** One request of a connection, mapped (or refused) when it arrived, answered in arrival order. */
    private record Job(HttpMapping.Mapped mapped, HttpMapping.Translated refusal, boolean keepAlive, HttpVersion version,
                       String method) {
    }

    /** One client connection: its requests one after the other. Runs on its event loop only. */
    private final class Connection extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final ArrayDeque<Job> queue = new ArrayDeque<>();
        private boolean busy;
        private boolean refused;
        private ChannelHandlerContext ctx;

        @Override
        public void channelActive(ChannelHandlerContext c) throws Exception {
            ctx = c;
            refused = metrics.httpConnections().incrementAndGet() > cfg.maxConnections();
            if (refused) {
                metrics.httpRefused();
            }
            super.channelActive(c);
        }

        @Override
        public void channelInactive(ChannelHandlerContext c) throws Exception {
            metrics.httpConnections().decrementAndGet();
            super.channelInactive(c);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext c, FullHttpRequest req) {
            boolean keepAlive = HttpUtil.isKeepAlive(req) && !refused;
            String method = req.method().name();
            Job job;
            if (req.decoderResult().isFailure()) {
                Throwable why = req.decoderResult().cause();
                HttpMapping.Translated t = why instanceof io.netty.handler.codec.http.TooLongHttpLineException
                        ? HttpMapping.error(HttpResponseStatus.REQUEST_URI_TOO_LONG, "the request line is too long")
                        : why instanceof io.netty.handler.codec.http.TooLongHttpHeaderException
                        ? HttpMapping.error(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "the header fields are too long")
                        : HttpMapping.error(HttpResponseStatus.BAD_REQUEST, "not an HTTP/1.1 request");
                job = new Job(null, t, false, HttpVersion.HTTP_1_1, method);
            } else if (refused) {
                HttpMapping.Translated t = HttpMapping.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "too many connections");
                job = new Job(null, t, false, req.protocolVersion(), method);
            } else {
                byte[] body = new byte[req.content().readableBytes()];
                req.content().getBytes(req.content().readerIndex(), body);
                HttpMapping.Mapped m = null;
                HttpMapping.Translated refusal = null;
                try {
                    m = mapping.request(method, req.uri(), req.headers(), body);
                } catch (HttpMapping.Refused r) {
                    refusal = HttpMapping.error(r.status, r.getMessage());
                }
                job = new Job(m, refusal, keepAlive, req.protocolVersion(), method);
            }
            if (queue.size() >= MAX_PIPELINED) {
                c.close();
                return;
            }
            queue.add(job);
            if (!busy) {
                next();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext c, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent) {
                if (!busy && queue.isEmpty()) {
                    c.close();
                }
                return;
            }
            super.userEventTriggered(c, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            LOG.debug("HTTP connection closed: {}", cause.getClass().getSimpleName());
            c.close();
        }

        private void next() {
            Job job = queue.poll();
            if (job == null) {
                return;
            }
            busy = true;
            ctx.channel().config().setAutoRead(false); // nothing more is read while this request is answered
            if (job.refusal() != null) {
                write(job, job.refusal());
                return;
            }
            new Pending(this, job).forward();
        }

        /** Writes the answer to {@code job}; then the next request, or the connection closes. */
        void write(Job job, HttpMapping.Translated t) {
            FullHttpResponse resp = new DefaultFullHttpResponse(job.version(), t.status(), Unpooled.wrappedBuffer(t.body()));
            for (Map.Entry<String, String> h : t.headers()) {
                resp.headers().add(h.getKey(), h.getValue());
            }
            int code = t.status().code();
            if (code != 204 && code != 304) {
                resp.headers().set("Content-Length", t.body().length);
            }
            HttpUtil.setKeepAlive(resp, job.keepAlive());
            metrics.httpAnswered(code);
            LOG.debug("HTTP {} answered {}", job.method(), code);
            ctx.writeAndFlush(resp).addListener((ChannelFutureListener) f -> {
                if (!job.keepAlive() || !f.isSuccess()) {
                    f.channel().close();
                    return;
                }
                busy = false;
                f.channel().config().setAutoRead(true);
                next();
            });
        }
    }

    /**
     * One mapped request at the forwarder: its exchange's endpoint receives every answer
     * (several for a group) and hands each to the connection's event loop.
     */
    private final class Pending extends EndpointAdapter {
        private final Connection conn;
        private final Job job;
        private final HttpMapping.Mapped m;
        private final boolean group;
        /** The latest response of each server, by its Reply-From value (hex), in the order they first answered. */
        private final Map<String, Response> latest = new LinkedHashMap<>();
        private ScheduledFuture<?> deadline;
        private boolean done;

        Pending(Connection conn, Job job) {
            this.conn = conn;
            this.job = job;
            this.m = job.mapped();
            this.group = groupRequest(m);
        }

        void forward() {
            Channel ch = conn.ctx.channel();
            InetSocketAddress client = (InetSocketAddress) ch.remoteAddress();
            m.coap().setSourceContext(new AddressEndpointContext(client));
            Exchange exchange = new Exchange(m.coap(), client, Exchange.Origin.REMOTE, null);
            exchange.setEndpoint(this);
            forwarding.execute(() -> {
                try {
                    forwarder.deliver(exchange);
                } catch (RuntimeException e) {
                    LOG.warn("HTTP front end: {} handing a request to the forwarder", e.getClass().getSimpleName());
                    ch.eventLoop().execute(() -> finish(HttpMapping.error(HttpResponseStatus.INTERNAL_SERVER_ERROR,
                            "the request could not be forwarded")));
                    return;
                }
                ch.eventLoop().execute(this::delivered); // after any answer the forwarder gave at once
            });
        }

        /** The forwarder has the request: wait for T' (a group) or for the forwarder's own timeout. */
        private void delivered() {
            if (done) {
                return;
            }
            if (group) {
                long tPrime = Math.min(m.multicastTimeout(), maxTPrimeSeconds);
                if (tPrime == 0) {
                    finish(mapping.collection(latest.values(), m)); // nothing is relayed: 204 at once
                    return;
                }
                deadline = conn.ctx.executor().schedule(() -> finish(mapping.collection(latest.values(), m)),
                        tPrime * 1000 + GROUP_MARGIN_MS, TimeUnit.MILLISECONDS);
            } else {
                deadline = conn.ctx.executor().schedule(() -> finish(HttpMapping.error(HttpResponseStatus.GATEWAY_TIMEOUT,
                        "no answer in time")), unicastWaitMs, TimeUnit.MILLISECONDS);
            }
        }

        @Override
        public void sendResponse(Exchange exchange, Response response) {
            conn.ctx.executor().execute(() -> answer(response));
        }

        private void answer(Response r) {
            if (done) {
                return;
            }
            Option rf = ForwardTarget.other(r.getOptions(), numbers.replyFrom());
            if (!group || rf == null && latest.isEmpty()) {
                finish(mapping.response(r, m));
            } else if (rf != null) {
                latest.put(dev.coterie.keystore.Hex.encode(rf.getValue()), r);
            }
        }

        private void finish(HttpMapping.Translated t) {
            if (done) {
                return;
            }
            done = true;
            if (deadline != null) {
                deadline.cancel(false);
            }
            if (conn.ctx.channel().isActive()) {
                conn.write(job, t);
            }
        }

        @Override
        public InetSocketAddress getAddress() {
            return address();
        }
    }
}
