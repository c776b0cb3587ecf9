package dev.coterie.oscore.tcp;

import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.EndpointContextMatcher;
import org.eclipse.californium.elements.RawData;
import org.eclipse.californium.elements.config.CertificateAuthenticationMode;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.TcpConfig;
import org.eclipse.californium.elements.tcp.netty.TcpClientConnector;
import org.eclipse.californium.elements.tcp.netty.TcpServerConnector;
import org.eclipse.californium.elements.tcp.netty.TlsClientConnector;
import org.eclipse.californium.elements.tcp.netty.TlsServerConnector;

/**
 * Californium's Netty connectors for coap+tcp and coaps+tcp (RFC 8323), each connection with a
 * {@link SignalingHandler} (CSM, Ping/Pong, Release, Abort, frame and size checks) and, for TLS,
 * TLS 1.3/1.2 only (1.2 with ECDHE and an AEAD only), ALPN "coap" and, on the client, server name indication and host name
 * verification. Give one to {@link dev.coterie.oscore.OscoreEndpointBuilder#connector} or a
 * plain {@code CoapEndpoint.Builder}: Californium then uses its TCP matcher and serializer.
 */
public final class TcpConnectors {
    private TcpConnectors() {
    }

    /**
     * The Californium settings these connectors read, from {@code limits}, on {@code cfg}, and no
     * BERT: Californium's BlockwiseLayer would send SZX 7 (BERT) to every peer of the endpoint
     * using {@code cfg} when {@code TCP_NUMBER_OF_BULK_BLOCKS} is over 1 (its default is 4),
     * whatever the peer's CSM announced; Coterie does not implement BERT (docs/conformance.md TCP-02).
     */
    private static Configuration apply(Configuration cfg, TcpLimits limits) {
        noBert(cfg);
        cfg.set(TcpConfig.TCP_CONNECTION_IDLE_TIMEOUT, limits.idleSeconds(), TimeUnit.SECONDS);
        cfg.set(TcpConfig.TCP_CONNECT_TIMEOUT, Math.max(1, limits.frameTimeoutMillis() / 1000), TimeUnit.SECONDS);
        cfg.set(TcpConfig.TLS_HANDSHAKE_TIMEOUT, limits.frameTimeoutMillis(), TimeUnit.MILLISECONDS);
        return cfg;
    }

    /** Sets {@code TCP_NUMBER_OF_BULK_BLOCKS} to 1: block-wise transfers over TCP use SZX 0-6 only, never BERT. */
    public static Configuration noBert(Configuration cfg) {
        cfg.set(org.eclipse.californium.core.config.CoapConfig.TCP_NUMBER_OF_BULK_BLOCKS, 1);
        return cfg;
    }

    /** A coap+tcp server on {@code bind}. */
    public static Connector server(InetSocketAddress bind, Configuration cfg, TcpLimits limits) {
        return server(bind, cfg, limits, null);
    }

    /** A coap+tcp server on {@code bind} whose closed connections end their observations in {@code observations} (may be null). */
    public static Connector server(InetSocketAddress bind, Configuration cfg, TcpLimits limits, TcpObservations observations) {
        return server(bind, cfg, limits, observations, new ConnectionCounts());
    }

    /** The same, counting its connections into {@code counts}. */
    public static Connector server(InetSocketAddress bind, Configuration cfg, TcpLimits limits, TcpObservations observations,
                                   ConnectionCounts counts) {
        return new TcpServerConnector(bind, apply(cfg, limits)) {
            @Override
            protected void onNewChannelCreated(Channel ch) {
                super.onNewChannelCreated(ch);
                coalesceFlushes(ch);
                endsObservations(ch, observations);
                ch.pipeline().addLast(new SignalingHandler(limits, counts));
            }
        };
    }

    /** When {@code ch} closes, its observations end (RFC 8323 Section 7.2). */
    private static void endsObservations(Channel ch, TcpObservations observations) {
        if (observations != null && ch.localAddress() instanceof InetSocketAddress local
                && ch.remoteAddress() instanceof InetSocketAddress peer) {
            ch.closeFuture().addListener(f -> observations.connectionClosed(local.getPort(), peer));
        }
    }

    /**
     * A coaps+tcp server on {@code bind} with {@code tls} ({@link TlsFiles#server}); client
     * certificates are required when {@code clientCertificates}, else not asked for.
     */
    public static Connector tlsServer(SSLContext tls, boolean clientCertificates, InetSocketAddress bind, Configuration cfg,
                                      TcpLimits limits) {
        return tlsServer(tls, clientCertificates, bind, cfg, limits, null);
    }

    /** {@link #tlsServer(SSLContext, boolean, InetSocketAddress, Configuration, TcpLimits)} whose closed connections end their observations. */
    public static Connector tlsServer(SSLContext tls, boolean clientCertificates, InetSocketAddress bind, Configuration cfg,
                                      TcpLimits limits, TcpObservations observations) {
        return tlsServer(tls, clientCertificates, bind, cfg, limits, observations, new ConnectionCounts());
    }

    /** The same, counting its connections into {@code counts}. */
    public static Connector tlsServer(SSLContext tls, boolean clientCertificates, InetSocketAddress bind, Configuration cfg,
                                      TcpLimits limits, TcpObservations observations, ConnectionCounts counts) {
        cfg.set(TcpConfig.TLS_CLIENT_AUTHENTICATION_MODE,
                clientCertificates ? CertificateAuthenticationMode.NEEDED : CertificateAuthenticationMode.NONE);
        return new TlsServerConnector(tls, bind, apply(cfg, limits)) {
            @Override
            protected void onNewChannelCreated(Channel ch) {
                super.onNewChannelCreated(ch);
                restrict(ch, null);
                coalesceFlushes(ch);
                endsObservations(ch, observations);
                ch.pipeline().addLast(new SignalingHandler(limits, counts));
            }
        };
    }

    /** A coap+tcp client. */
    public static Connector client(Configuration cfg, TcpLimits limits) {
        return new TcpClientConnector(apply(cfg, limits)) {
            private final Direct direct = new Direct();

            @Override
            public void setEndpointContextMatcher(EndpointContextMatcher matcher) {
                direct.matcher = matcher;
                super.setEndpointContextMatcher(matcher);
            }

            @Override
            public void send(RawData msg) {
                if (!direct.send(msg, isRunning(), this::send)) {
                    super.send(msg);
                }
            }

            @Override
            protected void onNewChannelCreated(SocketAddress remote, Channel ch) {
                super.onNewChannelCreated(remote, ch);
                direct.add(remote, ch);
                coalesceFlushes(ch);
                ch.pipeline().addLast(new SignalingHandler(limits, (java.util.concurrent.atomic.AtomicInteger) null));
            }
        };
    }

    /**
     * Flushes coalesced per event-loop turn: Californium writes and flushes every message on its
     * own, from its protocol threads, so each one was a write(2) of its own; with 64 requests in
     * flight several wait in the loop's queue, and one flush after them sends them together.
     * Nothing is held back past the queued writes (the flush runs as the loop's next task).
     * Sits below the {@link SignalingHandler} and above TLS, so TLS also gets fewer, fuller records.
     */
    private static void coalesceFlushes(Channel ch) {
        ch.pipeline().addLast(new FlushConsolidationHandler(FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    }

    /**
     * A client connector's open connections, by the peer address Californium keys its channel pool
     * with. Californium's client acquires and releases the one pooled channel per message (two
     * tasks on the event loop, promises, health checks); once a connection is up, a message goes
     * straight to Californium's {@code send(Channel, matcher, msg)}, which does the same endpoint
     * context check and, for TLS, waits for the handshake as before. A new connection, and
     * everything while none is active, still goes through the pool.
     */
    private static final class Direct {
        volatile EndpointContextMatcher matcher;
        private final ConcurrentMap<SocketAddress, Channel> channels = new ConcurrentHashMap<>();

        void add(SocketAddress remote, Channel ch) {
            channels.put(remote, ch);
            ch.closeFuture().addListener(f -> channels.remove(remote, ch));
        }

        /** Californium's {@code send(Channel, EndpointContextMatcher, RawData)} of the connector. */
        interface OnChannel {
            void send(Channel ch, EndpointContextMatcher matcher, RawData msg);
        }

        /** Sends {@code msg} on its peer's active connection with {@code on}; false if there is none: then the pool decides. */
        boolean send(RawData msg, boolean running, OnChannel on) {
            if (!running || msg.isMulticast()) {
                return false;
            }
            Channel ch = channels.get(msg.getInetSocketAddress());
            if (ch == null || !ch.isActive()) {
                return false;
            }
            on.send(ch, matcher, msg);
            return true;
        }
    }

    /**
     * A coaps+tcp client with {@code tls} ({@link TlsFiles#client}). {@code host} is the URI's
     * host: sent as server name indication unless it is an IP literal, and the name the server's
     * certificate must carry (an IP literal: as an IP address entry), checked by the JDK's
     * endpoint identification ("HTTPS") on an engine made for that host.
     */
    public static Connector tlsClient(SSLContext tls, String host, Configuration cfg, TcpLimits limits) {
        // Californium's own subject check compares with the address it connects to; the JDK's
        // endpoint identification below checks the URI's host instead
        cfg.set(TcpConfig.TLS_VERIFY_SERVER_CERTIFICATES_SUBJECT, false);
        return new TlsClientConnector(tls, apply(cfg, limits)) {
            private final Direct direct = new Direct();

            @Override
            public void setEndpointContextMatcher(EndpointContextMatcher matcher) {
                direct.matcher = matcher;
                super.setEndpointContextMatcher(matcher);
            }

            @Override
            public void send(RawData msg) {
                if (!direct.send(msg, isRunning(), this::send)) {
                    super.send(msg);
                }
            }

            @Override
            protected void onNewChannelCreated(SocketAddress remote, Channel ch) {
                super.onNewChannelCreated(remote, ch);
                direct.add(remote, ch);
                // Californium builds the engine for the peer's IP address; the JDK's endpoint
                // identification then falls back from the SNI name to that IP, and a trusted
                // certificate naming only the IP would pass for coaps+tcp://name/. An engine for
                // the URI's host checks that host and nothing else.
                SslHandler old = ch.pipeline().get(SslHandler.class);
                if (old == null) {
                    throw new IllegalStateException("TLS connector without an SslHandler");
                }
                int port = remote instanceof InetSocketAddress a ? a.getPort() : -1;
                SSLEngine engine = tls.createSSLEngine(host == null ? null : unbracket(host), port);
                engine.setUseClientMode(true);
                SslHandler ssl = new SslHandler(engine);
                ssl.setHandshakeTimeoutMillis(old.getHandshakeTimeoutMillis());
                ch.pipeline().replace(old, "tls", ssl);
                restrict(ch, host);
                coalesceFlushes(ch);
                ch.pipeline().addLast(new SignalingHandler(limits, null, ssl));
            }
        };
    }

    /**
     * TLS 1.3/1.2, {@link #CIPHER_SUITES}, ALPN "coap"; on a client, SNI and host name
     * verification for {@code host}.
     */
    private static void restrict(Channel ch, String host) {
        SslHandler ssl = ch.pipeline().get(SslHandler.class);
        if (ssl == null) {
            throw new IllegalStateException("TLS connector without an SslHandler");
        }
        SSLEngine engine = ssl.engine();
        SSLParameters p = engine.getSSLParameters();
        p.setProtocols(TlsFiles.PROTOCOLS);
        p.setCipherSuites(cipherSuites(engine.getEnabledCipherSuites()));
        p.setApplicationProtocols(new String[] {TlsFiles.ALPN});
        if (engine.getUseClientMode()) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
            if (host != null && !isIpLiteral(host)) {
                p.setServerNames(List.of(new SNIHostName(host)));
            }
        }
        engine.setSSLParameters(p);
    }

    /**
     * TLS 1.3's AEAD suites, and for TLS 1.2 ECDHE (forward secrecy) with AES-GCM or
     * ChaCha20-Poly1305 only: no static RSA or DH key exchange, no CBC.
     */
    private static final java.util.regex.Pattern CIPHER_SUITES = java.util.regex.Pattern.compile(
            "TLS_(ECDHE_(ECDSA|RSA)_WITH_)?(AES_(128_GCM_SHA256|256_GCM_SHA384)|CHACHA20_POLY1305_SHA256)");

    /** Those of {@code enabled} that {@link #CIPHER_SUITES} allows, in their order. */
    static String[] cipherSuites(String[] enabled) {
        String[] allowed = java.util.Arrays.stream(enabled).filter(c -> CIPHER_SUITES.matcher(c).matches()).toArray(String[]::new);
        if (allowed.length == 0) {
            throw new IllegalStateException("the JDK enables none of TLS 1.3's or ECDHE with AES-GCM/ChaCha20-Poly1305 cipher suites");
        }
        return allowed;
    }

    private static String unbracket(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    static boolean isIpLiteral(String host) {
        String h = unbracket(host);
        if (h.indexOf(':') >= 0) {
            return true;
        }
        return h.matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }
}
