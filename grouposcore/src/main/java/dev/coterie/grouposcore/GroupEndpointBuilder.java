package dev.coterie.grouposcore;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InboundLimit;
import dev.coterie.oscore.MulticastGuard;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.RawDataChannel;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Builds a Californium UDP endpoint for Group OSCORE: the one OSCORE layer with group views,
 * plus multicast. A server endpoint binds a unicast address and joins multicast groups (IPv4 or
 * IPv6, with the interface for link-local scopes); it answers from its unicast address. A client
 * endpoint sends NON requests to a group and collects every response (Californium matches them
 * by Token only). An endpoint may also hold plain OSCORE contexts (see {@link #clientBinding}).
 */
public final class GroupEndpointBuilder {
    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
    private Configuration config;
    private ExtensionOptionRegistry extensions = ExtensionOptionRegistry.defaults();
    private GroupContextDb serverGroups;
    private dev.coterie.oscore.ClientContextBinding clientBinding;
    private int maxOscoreLayers = OscoreEndpointBuilder.DEFAULT_MAX_OSCORE_LAYERS;
    private dev.coterie.oscore.SecurityTrace trace;
    private java.util.function.Predicate<org.eclipse.californium.core.coap.Request> deterministicAllowed = r -> false;
    private final List<InetAddress> groups = new ArrayList<>();
    private NetworkInterface multicastInterface;
    private int groupPort = 5683;

    public GroupEndpointBuilder bind(InetSocketAddress a) { address = Objects.requireNonNull(a); return this; }
    public GroupEndpointBuilder configuration(Configuration c) { config = c; return this; }
    public GroupEndpointBuilder extensions(ExtensionOptionRegistry r) { extensions = Objects.requireNonNull(r); return this; }
    public GroupEndpointBuilder serverGroups(GroupContextDb db) { serverGroups = db; return this; }
    /** Which view protects each outgoing request ({@link GroupContext#groupMode()}, {@link GroupContext#pairwise}, ...). */
    public GroupEndpointBuilder clientBinding(dev.coterie.oscore.ClientContextBinding b) { clientBinding = b; return this; }
    public GroupEndpointBuilder trace(dev.coterie.oscore.SecurityTrace t) { trace = t; return this; }
    /** The most OSCORE layers one request gets (see {@link OscoreEndpointBuilder#maxOscoreLayers}). */
    public GroupEndpointBuilder maxOscoreLayers(int n) { maxOscoreLayers = n; return this; }
    /** Which resources accept deterministic requests (see {@link OscoreEndpointBuilder#deterministicRequests}). */
    public GroupEndpointBuilder deterministicRequests(java.util.function.Predicate<org.eclipse.californium.core.coap.Request> p) {
        deterministicAllowed = Objects.requireNonNull(p);
        return this;
    }
    /** Deterministic phantoms recognised by byte comparison (see {@link OscoreEndpointBuilder#deterministicPhantoms}, OMN-13). */
    public GroupEndpointBuilder deterministicPhantoms(dev.coterie.oscore.DeterministicPhantoms p) {
        deterministicPhantoms = p;
        return this;
    }

    private dev.coterie.oscore.DeterministicPhantoms deterministicPhantoms;

    /** What a server does with requests without OSCORE (default: refuse, see {@link OscoreEndpointBuilder#unprotectedRequests}). */
    public GroupEndpointBuilder unprotectedRequests(dev.coterie.oscore.OscoreLayer.UnprotectedRequests u) {
        unprotected = Objects.requireNonNull(u);
        return this;
    }

    private dev.coterie.oscore.OscoreLayer.UnprotectedRequests unprotected = dev.coterie.oscore.OscoreLayer.UnprotectedRequests.REFUSE;

    /** Joins {@code group} on the bound port (a server). */
    public GroupEndpointBuilder join(InetAddress group) { groups.add(group); return this; }
    /** The port group requests are sent to (default 5683); several servers on one host share it. */
    public GroupEndpointBuilder groupPort(int port) { groupPort = port; return this; }
    /** The interface for joining and sending (needed for IPv6 link-local groups). */
    public GroupEndpointBuilder multicastInterface(NetworkInterface ni) { multicastInterface = ni; return this; }

    private org.eclipse.californium.elements.Connector tcp;

    /**
     * A coap+tcp or coaps+tcp connector ({@code dev.coterie.oscore.tcp.TcpConnectors}) instead of
     * UDP: unicast only (pairwise mode, or group mode to one member), no group to join, the bind
     * address is the connector's.
     */
    public GroupEndpointBuilder tcpConnector(org.eclipse.californium.elements.Connector c) {
        if (!org.eclipse.californium.core.coap.CoAP.isTcpProtocol(c.getProtocol())) {
            throw new IllegalArgumentException("not a TCP or TLS connector: " + c.getProtocol());
        }
        tcp = c;
        return this;
    }

    /**
     * Californium's defaults plus a multicast Message ID range, which group requests need, and
     * the DEFAULT_LEISURE of groupcomm-bis for groups using Group OSCORE group mode: 20 s (GCB-08;
     * 13 s for pairwise-only groups, see {@link #leisureFor}). Californium applies the leisure to
     * first transmissions of responses to multicast requests only.
     */
    public static Configuration defaultConfiguration() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        c.set(CoapConfig.MULTICAST_BASE_MID, 65000);
        c.set(CoapConfig.LEISURE, 20, java.util.concurrent.TimeUnit.SECONDS);
        return c;
    }

    /** DEFAULT_LEISURE in milliseconds for a group: 20 s with group mode, 13 s for pairwise only (GCB-08). */
    public static long leisureFor(GroupAlgorithms algs) {
        return algs.groupMode() ? 20_000 : 13_000;
    }

    /** RFC 7252 / groupcomm-bis: 5684 (coaps) must not carry group communication (GCB-10). */
    static void checkGroupPort(int port) {
        MulticastGuard.checkGroupPort(port);
    }

    public CoapEndpoint build() {
        if (serverGroups == null && clientBinding == null) {
            throw new IllegalStateException("a Group OSCORE endpoint needs server groups, a client binding, or both");
        }
        Configuration cfg = config != null ? config : defaultConfiguration();
        if (tcp != null) {
            if (!groups.isEmpty() || multicastInterface != null) {
                throw new IllegalStateException("a TCP endpoint joins no group: group communication is UDP only");
            }
            return new OscoreEndpointBuilder().configuration(cfg).connector(tcp).extensions(extensions)
                    .tokenGenerator(new GroupTokenGenerator(new org.eclipse.californium.core.network.RandomTokenGenerator(cfg)))
                    .serverContexts(serverGroups).clientBinding(clientBinding).trace(trace).deterministicRequests(deterministicAllowed)
                    .maxOscoreLayers(maxOscoreLayers).unprotectedRequests(unprotected).build();
        }
        // unicast and multicast datagrams count against one MAX_PENDING_DATAGRAMS
        InboundLimit inbound = new InboundLimit(cfg);
        GroupUdpConnector connector = new GroupUdpConnector(address, cfg) {
            @Override
            public void setRawDataReceiver(RawDataChannel receiver) {
                super.setRawDataReceiver(inbound.wrap(receiver));
            }

            @Override
            public synchronized void start() throws java.io.IOException {
                inbound.reset();
                super.start();
            }
        };
        if (multicastInterface != null) {
            connector.setReuseAddress(true);
        }
        if (!groups.isEmpty()) {
            checkGroupPort(groupPort);
        }
        for (InetAddress group : groups) {
            MulticastGuard.check(group);
            InetAddress bindTo = group;
            if (group instanceof java.net.Inet6Address && multicastInterface != null) {
                try {
                    // link-local and other scoped IPv6 groups are bound with the interface's scope
                    bindTo = java.net.Inet6Address.getByAddress(null, group.getAddress(), multicastInterface);
                } catch (java.net.UnknownHostException e) {
                    throw new IllegalArgumentException(e);
                }
            }
            connector.addGroupReceiver(new GroupMulticastReceiver(new InetSocketAddress(bindTo, groupPort), group,
                    multicastInterface, cfg));
        }
        return new OscoreEndpointBuilder().configuration(cfg).connector(connector).inboundLimit(inbound).extensions(extensions)
                .tokenGenerator(new GroupTokenGenerator(new org.eclipse.californium.core.network.RandomTokenGenerator(cfg)))
                .serverContexts(serverGroups).clientBinding(clientBinding).trace(trace).deterministicRequests(deterministicAllowed)
                .maxOscoreLayers(maxOscoreLayers).unprotectedRequests(unprotected).deterministicPhantoms(deterministicPhantoms).build();
    }
}
