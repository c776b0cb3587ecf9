package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Counting the sockets bound to one address, which keeps two members from splitting one unicast port. */
class ProcNetUdpTest {
    /** /proc/net/udp and udp6 of a namespace (little-endian host) with sockets on 127.0.0.1, ::ffff:127.0.0.1, ::, 0.0.0.0 port 5683 and ::1 port 5684. */
    private static final List<String> TABLE = List.of(
            "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
            " 5805: 00000000:1633 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82968 2 00000000e49bd11e 0",
            " 5805: 0100007F:1633 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82965 2 00000000c7af0aaf 0",
            "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
            " 5805: 0000000000000000FFFF00000100007F:1633 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82966 2 00000000b0f6b7d3 0",
            " 5805: 00000000000000000000000000000000:1633 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82967 2 000000008ee29007 0",
            " 5806: 00000000000000000000000001000000:1634 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 82969 2 00000000097b5666 0");

    private static int count(String address, int port) throws Exception {
        return ProcNetUdp.count(TABLE, new InetSocketAddress(InetAddress.getByName(address), port), ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void anAddressCountsInBothTablesAndTheWildcardsOnlyAsWildcards() throws Exception {
        assertEquals(2, count("127.0.0.1", 5683), "IPv4 and IPv4-mapped IPv6");
        assertEquals(2, count("0.0.0.0", 5683), "0.0.0.0 and ::");
        assertEquals(1, count("::1", 5684));
        assertEquals(0, count("::1", 5683));
        assertEquals(0, count("127.0.0.2", 5683));
    }

    /** Binds only (no datagram is sent) on this host's loopback. */
    @Test
    void twoSocketsSharingALoopbackPortWithSoReusePortAreBothSeen() throws Exception {
        try (DatagramSocket first = new DatagramSocket(null); DatagramSocket second = new DatagramSocket(null)) {
            first.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            first.bind(new InetSocketAddress("127.0.0.1", 0));
            InetSocketAddress a = (InetSocketAddress) first.getLocalSocketAddress();
            assertEquals(1, ProcNetUdp.boundTo(a));
            second.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            second.bind(a);
            assertEquals(2, ProcNetUdp.boundTo(a));
        }
    }
}
