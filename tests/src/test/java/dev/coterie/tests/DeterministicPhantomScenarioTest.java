package dev.coterie.tests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deterministic phantoms end to end (observe-multicast-notifications App. D, OMN-13;
 * multicast-notifications-proxy Appendix C, MNP-06): a server, a client listening to the group
 * itself and two clients through a Coterie proxy, over real IPv4 multicast inside a private
 * network namespace ({@link DeterministicPhantomScenario}).
 */
class DeterministicPhantomScenarioTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, DeterministicPhantomScenario.class, 120);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void OMN_13_directClientGetsTheUnprotectedInformativeResponseAndVerifiesTheNotifications() {
        run.assertChecks("OMN_13 the group observation starts at once: no sequence number for the deterministic phantom, one "
                        + "for INIT_NOTIF",
                "OMN_13 the direct registration, byte for byte the deterministic phantom, got an unprotected informative "
                        + "response (5.03, CON, no OSCORE, no Observe, tp_info with Token T, last_notif, no ph_req)",
                "OMN_13 the direct client verified last_notif as a response to the deterministic request it sent",
                "OMN_13 the notification is NON, Token T, outer 2.05 with Observe, group mode with the server's kid a1 and its "
                        + "own Partial IV",
                "OMN_13 nothing failed verification");
    }

    @Test
    void MNP_06_deterministicPhantomThroughTheProxy() {
        run.assertChecks("MNP_06 the first client through the proxy gets last_notif (2.05, Observe, OSCORE, its own Token) and "
                        + "verifies it as a response to its deterministic request",
                "MNP_06 the proxy forwarded the deterministic request once (no Listen-To-Multicast-Responses) and joined the "
                        + "group observation from the unprotected informative response",
                "MNP_06 the second client's same deterministic request is served by the proxy: the latest notification, "
                        + "verified; nothing more reached the server",
                "OMN_13 one multicast datagram per change, verified by the direct client and by both clients through the proxy");
    }
}
