package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * GCB-01, GCB-02, GCB-08 and the Group OSCORE modes over real UDP multicast, inside a private
 * network namespace the test creates (never skipped: a machine that cannot create one fails).
 */
class GroupMulticastTest {

    private static final String[] CHECKS = {
        "three lights answered the group request",
        "a3 answered the group request in pairwise mode",
        "pairwise GET to a2",
        "a group request for a missing resource gets no 4.04 from any member",
        "replayed group request: no member answers",
        "forged signature: no member answers",
        "stale Gid: no member answers",
        "unknown kid without credential: no member answers",
        "no replay window changed",
        "every member rejected each of the 4 silent requests",
        "a valid group request over the same path is answered",
        "notifications went on after the rekey",
        "every notification delivered is newer than the one before",
        "notifications under the old and then the new Gid",
    };

    private static void assertScenario(PrivateNetwork.Result r) {
        System.out.println(r.out());
        assertEquals(0, r.status(), r.out());
        for (String c : CHECKS) {
            assertTrue(r.out().contains("CHECK ok   " + c), "missing check '" + c + "':\n" + r.out());
        }
        assertTrue(r.out().contains("SCENARIO OK"), r.out());
    }

    /** GCB-01/02/08, GRP-13, GRP-27 and table 2.9 (silence) over IPv4 multicast on the namespace's loopback. */
    @Test
    void GCB_01_oneClientThreeServers_ipv4Multicast_groupAndPairwiseModes() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV4, GroupScenario.class, 120, "ipv4"));
    }

    /** The same over IPv6 multicast (ff02::fd) on a veth pair. */
    @Test
    void GCB_01_oneClientThreeServers_ipv6Multicast_groupAndPairwiseModes() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV6, GroupScenario.class, 120, "ipv6"));
    }

    /** GRP-13 over the network: the other combinations of the two signature algorithms and two AEADs (IPv4). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"EdDSA, A128GCM", "ES256, AES-CCM-16-64-128", "ES256, A128GCM"})
    void GRP_13_everySignatureAlgorithmWithTwoAeads_ipv4Multicast(String signature, String aead) throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, GroupScenario.class, 120, "ipv4", signature, aead);
        assertTrue(r.out().contains("ALGORITHMS " + signature), r.out());
        assertScenario(r);
    }

    /** Provisioning with coterie group, bundles loaded by coterie server and coterie client (GCB-01, GCB-02). */
    @Test
    void commissionedLightingGroupSwitchedFromTheCommandLine() throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, GroupCliScenario.class, 120);
        System.out.println(r.out());
        String out = r.out();
        assertEquals(0, r.status(), out);
        for (String s : new String[] {"create = 0", "add client = 0", "add lamp 1 = 0", "add lamp 2 = 0", "show = 0",
            "group PUT = 0", "pairwise GET = 0"}) {
            assertTrue(out.contains("STATUS " + s), "expected STATUS " + s + ":\n" + out);
        }
        assertTrue(out.contains("member 02 (group mode):"), out);
        assertTrue(out.contains("member 03 (pairwise mode):"), out);
        assertTrue(out.contains("2 response(s)"), out);
        assertTrue(out.contains("2.05 CONTENT\n  Content-Format: \"text/plain\"\non"), "pairwise read of lamp 02:\n" + out);
        assertTrue(out.contains("STATUS plain OSCORE bundle misuse = 64"), "--bundle needs --group or --member:\n" + out);
        assertTrue(!out.contains("master_secret") && !out.matches("(?s).*[0-9a-f]{32}.*master.*"), "no secrets printed");
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
