package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Group forwarding under load (groupcomm-proxy Section 5.2, GPX-05, GPX-06) over real IPv4
 * multicast inside a private network namespace the test creates ({@link GroupProxyLoadScenario}):
 * five raw servers in the group, one Coterie proxy in a JVM of its own, 50 clients on sockets of
 * their own, each with 3 group requests in flight: 400 requests each to warm up (Multicast-Timeout
 * 2), then 300 each measured (Multicast-Timeout 1); 35,000 requests and 175,000 relayed
 * responses in all, about 30 s on 2 cores. Each test asserts its checks of the one scenario run. Bounded: the rounds stop
 * after 30 s and 45 s at the latest, the whole run after 120 s. No timing is asserted.
 */
class GroupProxyLoadTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, GroupProxyLoadScenario.class, 120, "50", "400", "300", "3");
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
        assertTrue(run.out().contains("FIGURES clients=50 "), run.out());
    }

    /** The detector itself, first: it must flag each kind of fault it is there to find. */
    @Test
    void GPX_05_positiveControlsOfTheLossAndCrossingDetector() {
        run.assertChecks("GPX_05 positive control: one correct response from each server completes a request",
                "GPX_05 positive control: the detector flags a response crossed from another client (same Token) or request",
                "GPX_05 positive control: the detector flags a Token that is none of the client's",
                "GPX_05 positive control: the detector flags a Reply-From that is not the answering server's, or none",
                "GPX_05 positive control: the detector flags a response relayed twice, and requests missing responses");
    }

    @Test
    void GPX_05_everyRequestGotOneResponsePerServerWithItsClientsTokenMarkerAndReplyFrom() {
        run.assertChecks("GPX_05 every request got exactly 5 responses, one per server",
                "GPX_05 every Reply-From is the answering server's unicast address CRI",
                "GPX_05 every response carried its own client's Token and marker (nothing crossed between clients)",
                "GPX_05 the proxy relayed exactly the responses the clients received, and dropped none",
                "GPX_04 every server got every group request once");
    }

    @Test
    void GPX_06_everyCollectionEnded() {
        run.assertChecks("GPX_06 every collection ended (groupCollections 0, no exchange slot held) after each round");
    }

    @Test
    void proxyHeapStaysFlatUnderGroupLoad() {
        run.assertChecks("MEM the proxy's used heap after GC grew less than one smallest object per measured request",
                "MEM positive control: one smallest object kept per measured request is over the bound");
    }
}
