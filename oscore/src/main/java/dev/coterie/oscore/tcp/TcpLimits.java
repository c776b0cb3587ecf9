package dev.coterie.oscore.tcp;

/**
 * The bounds of one CoAP-over-TCP/TLS connector (RFC 8323): docs/configuration.md, "CoAP over
 * TCP and TLS".
 *
 * @param maxConnections  most connections a server connector keeps at once; one more is closed on arrival
 * @param idleSeconds     a connection with no traffic either way for this long is closed (Californium's idle timeout)
 * @param frameTimeoutMillis how long a peer may take for its CSM after connecting, and for the rest
 *                        of a frame once its first byte arrived (slowloris); past it the connection is aborted
 * @param maxMessageSize  the Max-Message-Size this side announces in its CSM and the most bytes of
 *                        one frame it buffers; a larger frame is refused with an Abort before its body is read
 */
public record TcpLimits(int maxConnections, int idleSeconds, long frameTimeoutMillis, int maxMessageSize) {
    /** RFC 8323 Section 5.3.1: the Max-Message-Size a peer assumes until it has the CSM. */
    public static final int BASE_MAX_MESSAGE_SIZE = 1152;

    public static final TcpLimits DEFAULTS = new TcpLimits(1000, 60, 10_000, BASE_MAX_MESSAGE_SIZE);

    public TcpLimits {
        if (maxConnections < 1) {
            throw new IllegalArgumentException("the connection limit must be at least 1");
        }
        if (idleSeconds < 1) {
            throw new IllegalArgumentException("the idle timeout must be at least 1 s");
        }
        if (frameTimeoutMillis < 100) {
            throw new IllegalArgumentException("the frame timeout must be at least 100 ms");
        }
        // the smallest useful: a CSM, Ping or short request; RFC 8323 lets a peer announce less than 1152
        if (maxMessageSize < 64) {
            throw new IllegalArgumentException("Max-Message-Size must be at least 64");
        }
    }
}
