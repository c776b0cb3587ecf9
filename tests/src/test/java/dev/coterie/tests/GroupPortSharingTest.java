package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A Coterie group member shares the CoAP group port with another implementation's member that
 * holds it with SO_REUSEPORT (plugfest: "Address already in use"), inside a private network
 * namespace the test creates. The stand-in receiving the group datagram is the positive control;
 * Californium's own multicast receiver failing to bind next to it shows the stand-in holds the port.
 */
class GroupPortSharingTest {
    private static final String[] CHECKS = {
        "Californium's UdpMulticastConnector cannot bind next to the SO_REUSEPORT stand-in",
        "member A (unicast port 5684) started next to the stand-in",
        "member B (unicast on the group port) started next to the stand-in, both its sockets with SO_REUSEPORT",
        "the stand-in received the group datagram",
        "member A received it through its group receiver",
        "member B received it through its group receiver",
        "a unicast datagram to B's address reached B",
        "the stand-in received nothing but the group datagram",
        "a second member on exactly B's unicast address and port is refused",
    };

    private static void assertScenario(PrivateNetwork.Result r) {
        System.out.println(r.out());
        assertEquals(0, r.status(), r.out());
        for (String c : CHECKS) {
            assertTrue(r.out().contains("CHECK ok   " + c), "missing check '" + c + "':\n" + r.out());
        }
        assertTrue(r.out().contains("SCENARIO OK"), r.out());
    }

    @Test
    void aGroupMemberSharesPort5683WithAnSoReusePortMember_ipv4() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV4, GroupPortSharingScenario.class, 60, "ipv4"));
    }

    @Test
    void aGroupMemberSharesPort5683WithAnSoReusePortMember_ipv6() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV6, GroupPortSharingScenario.class, 60, "ipv6"));
    }
}
