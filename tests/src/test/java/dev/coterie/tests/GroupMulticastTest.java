package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * GCB-01, GCB-02, GCB-08 and the Group OSCORE modes over real UDP multicast, inside a private
 * network namespace the test creates (never skipped: a machine that cannot create one fails).
 */
class GroupMulticastTest {

    @Test
    void GCB_01_oneClientThreeServers_ipv4Multicast_groupAndPairwiseModes() throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, GroupScenario.class, 120, "ipv4");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("SCENARIO OK"), r.out());
    }

    @Test
    void GCB_01_oneClientThreeServers_ipv6Multicast_groupAndPairwiseModes() throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV6, GroupScenario.class, 120, "ipv6");
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("SCENARIO OK"), r.out());
    }

    @Test
    void multicastIsRefusedOutsideAPrivateNamespace() {
        // this test JVM runs in the machine's own namespace, which has real interfaces
        if (dev.coterie.grouposcore.MulticastGuard.externalInterfaces().isEmpty()) {
            throw new AssertionError("expected the test host to have a real interface");
        }
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> dev.coterie.grouposcore.MulticastGuard.check(java.net.InetAddress.getByName("224.0.1.187")));
        assertTrue(e.getMessage().contains("private namespace"), e.getMessage());
    }
}
