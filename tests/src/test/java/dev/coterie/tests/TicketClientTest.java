package dev.coterie.tests;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ticket requests from {@code coterie client --proxy --observe --ticket}, and the ticket paths
 * of the proxy's TicketRelay not covered by {@link TicketProxyTest}: release of the listener,
 * the server's cancellation, NON ticket requests and a two-proxy chain (multicast-notifications-
 * proxy Section 4, MNP-02 … MNP-05), in a private network namespace ({@link TicketClientScenario}).
 */
class TicketClientTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, TicketClientScenario.class, 150);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void MNP_03_clientSwitchesToTicketNotificationsViaTheProxy() {
        run.assertChecks("MNP_03 coterie client --proxy --observe --ticket: the informative response relayed by the proxy, the "
                        + "switch to ticket notifications via the proxy printed",
                "MNP_03 the ticket request in the trace: GET Observe 0, Uri-Host/Uri-Port/Uri-Path of the phantom, Proxy-Scheme, "
                        + "Listen-To-Multicast-Responses, no Proxy-Uri",
                "MNP_03 the command line client's ticket request carries the informative response's exact tp_info bytes",
                "MNP_04 the command line ticket client gets three notifications from the proxy with the ticket's Token, Observe "
                        + "and state increasing",
                "MNP_05 the client deregisters the ticket (Observe 1, the ticket's Token) at the proxy",
                "MNP_02 one request reached the server (the proxied registration); the ticket request and its deregistration "
                        + "did not",
                "MNP_04 the proxy listened once, for the ticket",
                "MNP_04 the last ticket client's deregistration releases the proxy's listener and relation state");
    }

    @Test
    void MNP_04_serverCancellationEndsEveryTicketRelation() {
        run.assertChecks("MNP_04 control: three ticket clients hold relations at the proxy (2.05 with Observe, own Token)",
                "MNP_04 the server's multicast 5.03 reaches every ticket client: 5.03, its own Token, no Observe (the relation "
                        + "ends, RFC 7641 3.2)",
                "MNP_04 after the cancellation the proxy holds no listener and no relation",
                "MNP_04 nothing reaches a ticket client after its relation ended");
    }

    @Test
    void MNP_05_nonTicketRequest() {
        run.assertChecks("MNP_05 NON ticket request before any notification: no answer (nothing to acknowledge); control: the CON "
                        + "one at the same time gets its empty ACK",
                "MNP_05 the NON ticket client gets the first notification as a NON 2.05 with Observe and its own Token",
                "MNP_05 a NON ticket request after a notification is answered with the latest notification");
    }

    @Test
    void MNP_02_nextProxyForwardsTheTicketOn_lastProxyDoesNot() {
        run.assertChecks("MNP_02 a proxy with next_proxy forwards the ticket request on: the last proxy listens, the first does not",
                "MNP_02 through the chain nothing reaches the server for the ticket request",
                "MNP_04 through the chain the ticket client gets the notification with its own Token");
    }
}
