package dev.coterie.app;

import dev.coterie.oscore.tcp.TcpConnectors;
import dev.coterie.oscore.tcp.TcpLimits;
import dev.coterie.oscore.tcp.TlsFiles;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import javax.net.ssl.SSLContext;
import org.eclipse.californium.elements.Connector;
import org.eclipse.californium.elements.config.Configuration;
import picocli.CommandLine.Option;

/** CoAP over TCP and TLS (RFC 8323) on the command line: listeners, TLS files and limits. */
final class TcpOptions {
    private TcpOptions() {
    }

    /**
     * The per-connection limits a client and a server both take (docs/configuration.md, "CoAP over
     * TCP and TLS"); the rest of {@link TcpLimits} at its defaults.
     */
    static class Frame {
        @Option(names = "--tcp-frame-timeout", paramLabel = "MS", description = "how long a peer may take for its CSM after "
                + "connecting, for the rest of a frame once it began (slowloris), and for the TLS handshake (default 10000)")
        Long frameTimeout;

        @Option(names = "--tcp-max-message-size", paramLabel = "BYTES", description = "the Max-Message-Size announced in the "
                + "CSM: a longer frame is refused with an Abort before it is read (default 1152; over 1152 the CSM has no "
                + "Block-Wise-Transfer, which would announce BERT)")
        Integer maxMessageSize;

        /** Whether any of these options was given. */
        boolean given() {
            return frameTimeout != null || maxMessageSize != null;
        }

        TcpLimits limits() {
            return limits(null, null);
        }

        final TcpLimits limits(Integer maxConnections, Integer idleSeconds) {
            TcpLimits d = TcpLimits.DEFAULTS;
            try {
                return new TcpLimits(maxConnections != null ? maxConnections : d.maxConnections(),
                        idleSeconds != null ? idleSeconds : d.idleSeconds(), frameTimeout != null ? frameTimeout : d.frameTimeoutMillis(),
                        maxMessageSize != null ? maxMessageSize : d.maxMessageSize());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--tcp-*: " + e.getMessage(), e);
            }
        }
    }

    /** The limits of a server's TCP and TLS listeners: {@link Frame}'s and the connection count and idle timeout. */
    static final class Limits extends Frame {
        @Option(names = "--tcp-max-connections", paramLabel = "N", description = "most TCP/TLS connections open at once, per "
                + "listener; one more is closed on arrival (default 1000)")
        Integer maxConnections;

        @Option(names = "--tcp-idle-timeout", paramLabel = "SECONDS", description = "a TCP/TLS connection without traffic "
                + "for this long is closed (default 60)")
        Integer idleSeconds;

        @Override
        TcpLimits limits() {
            return limits(maxConnections, idleSeconds);
        }
    }

    /** The URI's scheme is coap+tcp or coaps+tcp. */
    static boolean isTcp(String uri) {
        String scheme = scheme(uri);
        return "coap+tcp".equals(scheme) || "coaps+tcp".equals(scheme);
    }

    private static String scheme(String uri) {
        try {
            String s = new URI(uri).getScheme();
            return s == null ? "" : s.toLowerCase(java.util.Locale.ROOT);
        } catch (java.net.URISyntaxException e) {
            return "";
        }
    }

    /**
     * A client connector for {@code uri}: coap+tcp, or coaps+tcp checked against {@code trust}
     * (SNI and host name verification from the URI's host), with {@code limits}.
     */
    static Connector clientConnector(String uri, Path trust, Configuration cfg, TcpLimits limits) throws IOException {
        if ("coap+tcp".equals(scheme(uri))) {
            if (trust != null) {
                throw new IllegalArgumentException("--tls-trust is for coaps+tcp URIs; this one is coap+tcp");
            }
            return TcpConnectors.client(cfg, limits);
        }
        if (trust == null) {
            throw new IllegalArgumentException("a coaps+tcp URI needs --tls-trust FILE (the server's CA certificate, PEM)");
        }
        SSLContext tls = TlsFiles.client(trust, null, null);
        return TcpConnectors.tlsClient(tls, URI.create(uri).getHost(), cfg, limits);
    }

    /** A server's TLS context from its key store (password from {@code passEnv}) and, if given, the client trust store. */
    static SSLContext serverTls(Path keyStore, String passEnv, Path clientTrust) throws IOException {
        if (keyStore == null) {
            throw new IllegalArgumentException("--tls-bind needs --tls-keystore FILE (PKCS#12 with the key and certificate)");
        }
        if (passEnv == null) {
            throw new IllegalArgumentException("--tls-keystore needs --tls-keystore-pass-env VAR (the key store's password)");
        }
        char[] password = GroupCommand.requireEnv(passEnv).toCharArray();
        try {
            return TlsFiles.server(keyStore, password, clientTrust);
        } finally {
            java.util.Arrays.fill(password, '\0'); // TlsFiles wipes it too; this copy is ours
        }
    }

    static Connector serverConnector(InetSocketAddress bind, SSLContext tls, boolean clientCertificates, Configuration cfg,
                                     TcpLimits limits) {
        return serverConnector(bind, tls, clientCertificates, cfg, limits, null);
    }

    /** The same, its closed connections ending their observations in {@code observations} (TCP-08). */
    static Connector serverConnector(InetSocketAddress bind, SSLContext tls, boolean clientCertificates, Configuration cfg,
                                     TcpLimits limits, dev.coterie.oscore.tcp.TcpObservations observations) {
        return tls == null ? TcpConnectors.server(bind, cfg, limits, observations)
                : TcpConnectors.tlsServer(tls, clientCertificates, bind, cfg, limits, observations);
    }
}
