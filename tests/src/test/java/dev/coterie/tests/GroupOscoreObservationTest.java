package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Group observations protected with Group OSCORE (observe-multicast-notifications Section 9,
 * digest 6.6), over real IPv4 multicast inside a private network namespace the test creates
 * ({@link GroupOscoreObservationScenario}). Each test asserts its checks of the one run.
 */
class GroupOscoreObservationTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, GroupOscoreObservationScenario.class, 120);
        System.out.println(run.out());
    }

    private static void assertChecks(String... names) {
        for (String n : names) {
            assertTrue(run.out().contains("CHECK ok   " + n), "missing check '" + n + "':\n" + run.out());
        }
    }

    @Test
    void scenarioCompleted() {
        assertEquals(0, run.status(), run.out());
        assertTrue(run.out().contains("SCENARIO OK"), run.out());
    }

    @Test
    void OMN_10_phantomProtectedWithServersOwnKidAndConsumedSsn() {
        assertChecks("OMN_10 three protected registrations absorbed and joined",
                "OMN_10 ph_req is the protected phantom: FETCH, group mode, kid = the server's Sender ID a1, kid context = Gid, "
                        + "a Partial IV",
                "OMN_10 the phantom's Partial IV is a consumed Sender Sequence Number of the server",
                "OMN_10 each observer stored the phantom's kid, Partial IV and kid context");
    }

    @Test
    void OMN_10_notificationsBoundToPhantom() {
        assertChecks("OMN_10 every observer verified both multicast notifications, in order, one datagram per change",
                "OMN_10 on the wire a notification is a group-mode response with the server's kid and its own Partial IV (not "
                        + "the phantom's), NON with Observe, and no plaintext",
                "OMN_10 a tampered notification, a replayed one and an unprotected 5.03 are dropped and counted",
                "OMN_10 positive control: the next genuine notification is delivered",
                "OMN_10 a notification that does not verify is told to the listener, not dropped silently: each reason once",
                "OMN_10 coterie client --bundle --member --observe verifies the phantom and the multicast notifications");
    }

    @Test
    void GRP_23_ownPhantomFromTheNetworkIsRefused() {
        assertChecks("GRP_23 the server's own phantom from the network gets the unprotected 4.01 Security context not found",
                "GRP_23 the refused copy changed nothing: the server's Sender Sequence Number, observers and phantom",
                "GRP_23 positive control: a member's request is answered");
    }

    @Test
    void OMN_08_protectedLastNotifIsTheFirstNotification() {
        assertChecks("OMN_08 the protected last_notif is each observer's first notification");
    }

    @Test
    void OMN_11_informativeResponseProtected() {
        assertChecks("OMN_11 an unprotected registration gets 4.01 and starts nothing",
                "OMN_11 every informative response is OSCORE-protected (outer 2.04, CON, the 5.03 and its Content-Format inside)");
    }

    @Test
    void OMN_11_cancellationProtected() {
        assertChecks("OMN_11 the cancellation is a group-mode protected 5.03 with the server's Partial IV; every observer ended");
    }
}
