package dev.coterie.app;

import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
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

        @Option(names = "--max-body-size", paramLabel = "BYTES", description = "largest block-wise body assembled "
                + "(default 8192)")
        Integer maxBodySize;

        /** {@code c} with the limits given on the command line. */
        Configuration apply(Configuration c) {
            if (maxDedupEntries != null) {
                c.set(OscoreEndpointBuilder.DEDUPLICATION_MAX_ENTRIES, maxDedupEntries);
            }
            if (maxDedupPerPeer != null) {
                c.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
                c.set(CoapConfig.PEERS_MARK_AND_SWEEP_MESSAGES, maxDedupPerPeer);
            }
            if (exchangeLifetime != null) {
                c.set(CoapConfig.EXCHANGE_LIFETIME, exchangeLifetime, TimeUnit.SECONDS);
            }
            if (maxPendingDatagrams != null) {
                c.set(OscoreEndpointBuilder.MAX_PENDING_DATAGRAMS, maxPendingDatagrams);
            }
            if (maxOutgoing != null) {
                c.set(UdpConfig.UDP_CONNECTOR_OUT_CAPACITY, maxOutgoing);
            }
            if (maxPeers != null) {
                c.set(CoapConfig.MAX_ACTIVE_PEERS, maxPeers);
            }
            if (peerInactivity != null) {
                c.set(CoapConfig.MAX_PEER_INACTIVITY_PERIOD, peerInactivity, TimeUnit.SECONDS);
            }
            if (maxObservers != null) {
                c.set(CoapConfig.MAX_SERVER_OBSERVES, maxObservers);
            }
            if (maxBodySize != null) {
                c.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, maxBodySize);
            }
            return c;
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
