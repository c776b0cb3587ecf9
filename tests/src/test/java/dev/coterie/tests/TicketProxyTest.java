package dev.coterie.tests;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ticket requests end to end (multicast-notifications-proxy Section 4.2, MNP-02, MNP-04,
 * MNP-05): a server's group observation, a Coterie proxy next to it with group_observations, and
 * eleven ticket clients built with TicketRequest, in a private network namespace
 * ({@link TicketProxyScenario}).
 */
class TicketProxyTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, TicketProxyScenario.class, 120);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void MNP_05_ticketClientsShareOneListener_firstAnswerIsTheLatestNotification() {
        run.assertChecks("MNP_05 setup: the direct registration got the informative response",
                "MNP_05 with no notification received yet, a CON ticket request gets an empty ACK (first and second client)",
                "MNP_04 two ticket clients, one group observation joined by the proxy",
                "MNP_04 the change reaches every ticket client: 2.05, Observe, its own Token, payload 'state 1'",
                "MNP_05 a ticket client joining after a notification gets the latest notification first, with its own Token",
                "MNP_05 every ticket client before the first notification gets an empty ACK; still one group observation",
                "MNP_04 the next change reaches every ticket client once: identical payload, own Token, increasing Observe",
                "MNP_04 one listener: each multicast notification taken in once at the proxy for every ticket client",
                "MNP_02 nothing reaches the server for the ticket requests (its requests and observer counter unchanged)",
                "MNP_04 all ticket clients, one group observation joined by the proxy");
    }

    @Test
    void MNP_07_proxyAnswersFeedbackDividerItself_andRemovesItBeforeFanOut() {
        run.assertChecks("MNP_07 control: the server's multicast notification carried Feedback-Divider Q = 0 (option 18, empty)",
                "MNP_07 the proxy relays that notification to every ticket client without Feedback-Divider (own Token, "
                        + "increasing Observe)",
                "MNP_07 the proxy answered the Feedback-Divider itself: one NON GET, options 60 55'alarm' 70 d1e31a "
                        + "(Observe 0, Uri-Path, empty Feedback-Divider, No-Response 26), counted at the server as one confirmation",
                "MNP_07 the server's new estimate counts the proxy as one client: 1 + (1 - 1) / 4 = 1");
    }

    @Test
    void MNP_04_replayedNotificationDropped_nextOneRelayed() {
        run.assertChecks("MNP_04 a replayed notification (the latest Observe again, from the server's address) is not relayed; "
                + "control: an advancing one from the same socket is",
                "MNP_04 a notification whose Partial IV does not advance is dropped and counted in "
                + "coterie.proxy.group.notifications.dropped",
                "MNP_04 control: the next advancing notification is relayed to every ticket client");
    }
}
