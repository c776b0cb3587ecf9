package dev.coterie.tests;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Group observations through the proxy (multicast-notifications-proxy Section 3, unprotected
 * variant): one server, one Coterie proxy, twenty observers through the proxy, in a private
 * network namespace ({@link GroupObservationProxyScenario}).
 */
class GroupObservationProxyTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, GroupObservationProxyScenario.class, 180);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void MNP_04_oneRegistrationUpstream_everyNotificationFannedOut() {
        run.assertChecks("MNP_04 control: a proxy without group_observations relays the informative response as it is",
                "MNP_04 the proxy registered with the server once for twenty observers",
                "MNP_04 every observer's notifications carry its own Token",
                "MNP_04 every multicast notification fanned out to all twenty observers",
                "MNP_04 one datagram from the server per change (and one in at the proxy), twenty out",
                "MNP_04 each observer's Observe numbers increase",
                "MNP_04 the server's cancellation reaches every observer as a final 5.03",
                "MNP_04 the proxy took part in one group observation",
                "MNP_04 max_joined 1: one group observation joined (2.05), the second's informative response relayed (5.03)");
    }

    @Test
    void MNP_07_unprotectedVariant_proxyAnswersFeedbackDividerItself_andRemovesIt() {
        run.assertChecks("MNP_07 unprotected variant: the proxy answers the server's Feedback-Divider itself (one confirmation, "
                + "one client) and relays the notification to every observer without it",
                "MNP_07 a client's Feedback-Divider answers through a proxy without group_observations are each forwarded "
                        + "to the server, not taken into an Observe relay");
    }

    @Test
    void MNP_05_firstAnswerIsTheLatestNotification() {
        run.assertChecks("MNP_05 each observer's first answer is the latest notification (from last_notif), 2.05 with Observe, "
                + "not the informative response",
                "MNP_05 a later observer is answered from the proxy's latest notification, nothing sent to the server");
    }
}
