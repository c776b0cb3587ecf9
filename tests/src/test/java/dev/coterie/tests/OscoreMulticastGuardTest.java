package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A plain OSCORE view to a multicast group passes the same guard as the group views (review B,
 * finding 1): allowed in a private namespace of loopback and a veth pair, refused in the same
 * kind of namespace once a bridge (a real network) is up. The refusal on this machine's own
 * network is {@code oscore/MulticastDestinationTest}.
 */
class OscoreMulticastGuardTest {
    private static final String SETUP = "unset COTERIE_MULTICAST_ON_NETWORK && ip link set lo up"
            + " && ip link add mc0 type veth peer name mc1 && ip link set mc0 up && ip link set mc1 up";

    private static String probe(String setup) throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(setup, OscoreMulticastProbe.class, 60);
        assertEquals(0, r.status(), r.out());
        return r.out();
    }

    @Test
    void anOscoreRequestToAGroupIsProtectedInsideAPrivateNamespace() throws Exception {
        String out = probe(SETUP);
        assertTrue(out.contains("PROTECTED\n"), out);
    }

    @Test
    void anOscoreRequestToAGroupIsRefusedInANamespaceWithABridge() throws Exception {
        String out = probe(SETUP + " && ip link add br0 type bridge && ip link set br0 up");
        assertTrue(out.contains("REFUSED refusing to send multicast to 224.0.1.187") && out.contains("br0 is up"), out);
    }
}
