package dev.coterie.app;

import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import picocli.CommandLine.Option;

/** Californium settings shared by the commands. */
final class Endpoints {
    private Endpoints() {
    }

    static Configuration configuration() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        c.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 512);
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 1024);
        return c;
    }

    /**
     * The limits under load that a server can change (docs/configuration.md, "Limits under
     * load"); an option not given keeps the default of {@link #configuration()}.
     */
    static final class Limits {
        @Option(names = "--max-dedup-entries", paramLabel = "N", description = "most deduplication entries, all peers "
                + "together; the oldest goes first (default 10000)")
        Integer maxDedupEntries;

        @Option(names = "--max-dedup-per-peer", paramLabel = "N", description = "most deduplication entries of one "
                + "peer, at least 4 (default: no per-peer limit)")
        Integer maxDedupPerPeer;

        @Option(names = "--exchange-lifetime", paramLabel = "SECONDS", description = "longest a deduplication entry "
                + "lives (default 247, RFC 7252 EXCHANGE_LIFETIME)")
        Long exchangeLifetime;

        @Option(names = "--max-pending-datagrams", paramLabel = "N", description = "most received datagrams waiting "
                + "to be processed; past it a datagram is dropped on arrival (default 4096)")
        Integer maxPendingDatagrams;

        @Option(names = "--max-outgoing", paramLabel = "N", description = "most datagrams waiting to be sent, at least "
                + "32; past it a message is dropped (default 4096)")
        Integer maxOutgoing;

        @Option(names = "--max-peers", paramLabel = "N", description = "most peers with per-peer state "
                + "(Message IDs, block-wise transfers) (default 150000)")
        Integer maxPeers;

        @Option(names = "--peer-inactivity", paramLabel = "SECONDS", description = "after how long without traffic "
                + "a peer's state may go (default 600)")
        Long peerInactivity;

        @Option(names = "--max-observers", paramLabel = "N", description = "most observations this server keeps "
                + "(default 50000)")
        Integer maxObservers;

        @Option(names = "--max-body-size", paramLabel = "BYTES", description = "largest block-wise body assembled; "
                + "0: no block-wise assembly (default 8192)")
        Integer maxBodySize;

        /** {@code c} with the limits given on the command line; a value out of range names its option. */
        Configuration apply(Configuration c) {
            set("--max-dedup-entries", maxDedupEntries, v -> c.set(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES, v));
            set("--max-dedup-per-peer", maxDedupPerPeer, v -> {
                c.set(CoapConfig.PEERS_MARK_AND_SWEEP_MESSAGES, v);
                c.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
            });
            set("--exchange-lifetime", exchangeLifetime, v -> c.set(CoapConfig.EXCHANGE_LIFETIME, v, TimeUnit.SECONDS));
            set("--max-pending-datagrams", maxPendingDatagrams, v -> c.set(OscoreEndpointBuilder.MAX_PENDING_DATAGRAMS, v));
            set("--max-outgoing", maxOutgoing, v -> c.set(UdpConfig.UDP_CONNECTOR_OUT_CAPACITY, v));
            set("--max-peers", maxPeers, v -> c.set(CoapConfig.MAX_ACTIVE_PEERS, v));
            set("--peer-inactivity", peerInactivity, v -> c.set(CoapConfig.MAX_PEER_INACTIVITY_PERIOD, v, TimeUnit.SECONDS));
            set("--max-observers", maxObservers, v -> {
                if (v < 1) { // Californium reads 0 as no limit at all
                    throw new IllegalArgumentException("must be at least 1");
                }
                c.set(CoapConfig.MAX_SERVER_OBSERVES, v);
            });
            set("--max-body-size", maxBodySize, v -> c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, v));
            return c;
        }

        private static <T extends Number> void set(String option, T value, Consumer<T> setter) {
            if (value == null) {
                return;
            }
            if (value.longValue() < 0) {
                throw new IllegalArgumentException(option + " must not be negative");
            }
            try {
                setter.accept(value);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(option + " " + value + ": " + e.getMessage(), e);
            }
        }
    }

    static InetSocketAddress parse(String addr) {
        int i = addr.lastIndexOf(':');
        if (i < 0) {
            throw new IllegalArgumentException("expected ADDR:PORT, got " + addr);
        }
        String host = addr.substring(0, i);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(addr.substring(i + 1)));
    }
}
