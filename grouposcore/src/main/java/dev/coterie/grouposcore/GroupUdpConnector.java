package dev.coterie.grouposcore;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.elements.EndpointContextMatcher;
import org.eclipse.californium.elements.RawDataChannel;
import org.eclipse.californium.elements.UDPConnector;
import org.eclipse.californium.elements.UdpMulticastConnector;
import org.eclipse.californium.elements.config.Configuration;

/**
 * The UDP connector of a group member: a unicast socket, which sends and answers, and one
 * {@link GroupMulticastReceiver} per joined group, each sharing the group port with other
 * members on the host through SO_REUSEPORT.
 *
 * <p>The unicast socket gets SO_REUSEPORT only when it binds the group port itself (a member
 * with 127.0.0.1:5683 next to another implementation's member bound to *:5683 with SO_REUSEPORT:
 * Linux refuses the second bind unless both set it). Unicast datagrams are not copied like
 * multicast ones: a second socket bound to exactly the same address with SO_REUSEPORT would get
 * some of them, and with SO_REUSEADDR (which {@link #setReuseAddress} may ask for) the last one
 * bound gets all. So after binding with either, start() refuses if another socket in this
 * namespace has exactly that address and port (for a wildcard address: either wildcard). A
 * socket bound to the wildcard address takes nothing from a specific one: Linux hands a unicast
 * datagram to the most specific bind.
 */
public class GroupUdpConnector extends UDPConnector {
    private final List<GroupMulticastReceiver> receivers = new CopyOnWriteArrayList<>();
    private volatile RawDataChannel channel;
    private volatile EndpointContextMatcher matcher;
    private volatile boolean unicastReusesPort;

    public GroupUdpConnector(InetSocketAddress unicast, Configuration configuration) {
        super(unicast, configuration);
    }

    /** Adds a group to receive on; started and stopped with this connector. */
    public void addGroupReceiver(GroupMulticastReceiver receiver) {
        if (running) {
            throw new IllegalStateException("add group receivers before start");
        }
        receivers.add(receiver);
        receiver.setRawDataReceiver(channel);
        receiver.setEndpointContextMatcher(matcher);
    }

    public List<GroupMulticastReceiver> groupReceivers() {
        return List.copyOf(receivers);
    }

    /** Californium's receivers bind without SO_REUSEPORT, and this connector would not start them. */
    @Override
    public void addMulticastReceiver(UdpMulticastConnector multicastReceiver) {
        throw new UnsupportedOperationException("use addGroupReceiver: UdpMulticastConnector cannot share the port via SO_REUSEPORT");
    }

    /** True if the unicast socket binds the port of a joined group, and so shares it. */
    public boolean sharesGroupPort() {
        int port = localAddr.getPort();
        return port != 0 && receivers.stream().anyMatch(r -> r.port() == port);
    }

    /** Whether the running unicast socket has SO_REUSEPORT. */
    public boolean unicastReusesPort() {
        return unicastReusesPort;
    }

    @Override
    public synchronized void start() throws IOException {
        if (running) {
            return;
        }
        List<GroupMulticastReceiver> started = new ArrayList<>();
        try {
            for (GroupMulticastReceiver r : receivers) {
                r.start();
                started.add(r);
            }
            DatagramSocket socket = new DatagramSocket(null);
            try {
                socket.setReuseAddress(getReuseAddress());
                boolean share = sharesGroupPort();
                unicastReusesPort = share && GroupMulticastReceiver.reusePort(socket);
                socket.bind(localAddr);
                if ((unicastReusesPort || getReuseAddress())
                        && ProcNetUdp.boundTo((InetSocketAddress) socket.getLocalSocketAddress()) > 1) {
                    throw new BindException("another socket is bound to exactly " + socket.getLocalSocketAddress()
                            + "; sharing it would split its unicast datagrams");
                }
                init(socket);
            } catch (IOException | RuntimeException e) {
                socket.close();
                throw e;
            }
        } catch (IOException | RuntimeException e) {
            started.forEach(GroupMulticastReceiver::stop);
            throw e;
        }
    }

    @Override
    public void stop() {
        super.stop();
        receivers.forEach(GroupMulticastReceiver::stop);
    }

    @Override
    public void destroy() {
        super.destroy();
        receivers.forEach(GroupMulticastReceiver::destroy);
    }

    @Override
    public void setRawDataReceiver(RawDataChannel receiver) {
        channel = receiver;
        super.setRawDataReceiver(receiver);
        receivers.forEach(r -> r.setRawDataReceiver(receiver));
    }

    @Override
    public void setEndpointContextMatcher(EndpointContextMatcher endpointContextMatcher) {
        matcher = endpointContextMatcher;
        super.setEndpointContextMatcher(endpointContextMatcher);
        receivers.forEach(r -> r.setEndpointContextMatcher(endpointContextMatcher));
    }
}
