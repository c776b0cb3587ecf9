package dev.coterie.grouposcore;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.MulticastSocket;
import java.net.NetworkInterface;
import java.net.StandardSocketOptions;
import java.util.Objects;
import org.eclipse.californium.elements.UDPConnector;
import org.eclipse.californium.elements.config.Configuration;

/**
 * A receive-only socket joined to one multicast group on the group port, for a
 * {@link GroupUdpConnector}. Californium's UdpMulticastConnector sets only SO_REUSEADDR and
 * cannot be subclassed (private constructor, socket made inside start()); other CoAP
 * implementations share the port with SO_REUSEPORT, and Linux shares a port only between
 * sockets that all set the same one of the two. This one sets both before binding. Every
 * socket bound to the group port gets its own copy of each multicast datagram, so sharing takes
 * nothing from anyone.
 */
public final class GroupMulticastReceiver extends UDPConnector {
    private final InetAddress group;
    private final NetworkInterface networkInterface;
    private volatile boolean reusePort;

    /**
     * @param bindAddress the group (with the interface's scope for a scoped IPv6 group) and the group port
     * @param group the group to join
     * @param networkInterface the interface to join on, or null for the one the routing table picks
     */
    public GroupMulticastReceiver(InetSocketAddress bindAddress, InetAddress group, NetworkInterface networkInterface,
                                  Configuration configuration) {
        super(Objects.requireNonNull(bindAddress), configuration);
        if (!group.isMulticastAddress()) {
            throw new IllegalArgumentException(group.getHostAddress() + " is not a multicast group");
        }
        this.group = group;
        this.networkInterface = networkInterface;
        // receive only: no sender threads, and inbound messages are marked as multicast
        multicast = true;
        effectiveAddr = new InetSocketAddress(group, bindAddress.getPort());
        setReuseAddress(true);
    }

    public InetAddress group() {
        return group;
    }

    public int port() {
        return localAddr.getPort();
    }

    /** Whether the running socket has SO_REUSEPORT (false where the OS has no such option). */
    public boolean reusesPort() {
        return reusePort;
    }

    @Override
    public synchronized void start() throws IOException {
        if (running) {
            return;
        }
        MulticastSocket socket = new MulticastSocket(null);
        try {
            socket.setReuseAddress(getReuseAddress());
            reusePort = reusePort(socket);
            socket.bind(localAddr);
            socket.joinGroup(new InetSocketAddress(group, 0), networkInterface);
            init(socket);
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
        effectiveAddr = new InetSocketAddress(group, socket.getLocalPort());
    }

    /** Sets SO_REUSEPORT before bind where the OS has it; false where it does not. */
    static boolean reusePort(DatagramSocket socket) throws IOException {
        if (!socket.supportedOptions().contains(StandardSocketOptions.SO_REUSEPORT)) {
            return false;
        }
        socket.setOption(StandardSocketOptions.SO_REUSEPORT, true);
        return true;
    }

    @Override
    public String toString() {
        return "UDP-mc-" + group.getHostAddress() + ":" + port();
    }
}
