package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.eclipse.californium.elements.UdpMulticastConnector;
import org.junit.jupiter.api.Test;

/**
 * The parts of the group connector that need no multicast (joining a group here would send IGMP
 * on this host's network; sharing the group port is tested in a namespace, tests/GroupPortSharingTest).
 */
class GroupUdpConnectorTest {

    @Test
    void aUnicastSocketNotOnAGroupPortDoesNotShareItsPort() throws Exception {
        GroupUdpConnector first = new GroupUdpConnector(new InetSocketAddress("127.0.0.1", 0), GroupEndpointBuilder.defaultConfiguration());
        first.start();
        try {
            assertFalse(first.sharesGroupPort() || first.unicastReusesPort());
            GroupUdpConnector second = new GroupUdpConnector(first.getAddress(), GroupEndpointBuilder.defaultConfiguration());
            assertThrows(BindException.class, second::start, "a second bind of the same unicast address must fail loudly");
            second.destroy();
        } finally {
            first.destroy();
        }
    }

    /** Linux lets a second SO_REUSEADDR socket bind a UDP address and hands it the unicast: binds only, on loopback. */
    @Test
    void withReuseAddressASecondSocketOnTheSameUnicastAddressIsRefused() throws Exception {
        try (java.net.DatagramSocket other = new java.net.DatagramSocket(null)) {
            other.setReuseAddress(true);
            other.bind(new InetSocketAddress("127.0.0.1", 0));
            GroupUdpConnector c = new GroupUdpConnector((InetSocketAddress) other.getLocalSocketAddress(),
                    GroupEndpointBuilder.defaultConfiguration());
            c.setReuseAddress(true);
            BindException e = assertThrows(BindException.class, c::start);
            assertTrue(e.getMessage().contains("sharing it would split its unicast datagrams"), e.getMessage());
            assertFalse(c.isRunning());
            c.destroy();
        }
    }

    @Test
    void aUnicastSocketOnTheGroupPortIsMarkedAsSharingIt() throws Exception {
        GroupUdpConnector c = new GroupUdpConnector(new InetSocketAddress("127.0.0.1", 5683), GroupEndpointBuilder.defaultConfiguration());
        InetAddress group = InetAddress.getByName("224.0.1.187");
        c.addGroupReceiver(new GroupMulticastReceiver(new InetSocketAddress(group, 5690), group, null,
                GroupEndpointBuilder.defaultConfiguration()));
        assertFalse(c.sharesGroupPort());
        c.addGroupReceiver(new GroupMulticastReceiver(new InetSocketAddress(group, 5683), group, null,
                GroupEndpointBuilder.defaultConfiguration()));
        assertTrue(c.sharesGroupPort());
    }

    @Test
    void californiumsReceiversAreRefusedBecauseTheyCannotSharePorts() throws Exception {
        GroupUdpConnector c = new GroupUdpConnector(new InetSocketAddress("127.0.0.1", 0), GroupEndpointBuilder.defaultConfiguration());
        UdpMulticastConnector californium = new UdpMulticastConnector.Builder().setConfiguration(GroupEndpointBuilder.defaultConfiguration())
                .setLocalAddress(InetAddress.getByName("224.0.1.187"), 5683).addMulticastGroup(InetAddress.getByName("224.0.1.187"))
                .setMulticastReceiver(true).build();
        assertThrows(UnsupportedOperationException.class, () -> c.addMulticastReceiver(californium));
    }

    @Test
    void aReceiverIsForAMulticastGroupOnly() {
        assertThrows(IllegalArgumentException.class, () -> new GroupMulticastReceiver(new InetSocketAddress("127.0.0.1", 5683),
                InetAddress.getByName("127.0.0.1"), null, GroupEndpointBuilder.defaultConfiguration()));
    }
}
