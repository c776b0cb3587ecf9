package dev.coterie.tests;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Group observations without security (observe-multicast-notifications, digest 6): one server
 * and five observers listening to multicast themselves, over real IPv4 multicast inside a
 * private network namespace the test creates ({@link GroupObservationScenario}). Each test
 * asserts its checks of the one scenario run.
 */
class GroupObservationTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, GroupObservationScenario.class, 120);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void OMN_01_informativeResponse() {
        run.assertChecks("OMN_01 control: a GET without Observe gets the representation", "OMN_01 five registrations answered",
                "OMN_01 informative response: 5.03, CON (a separate response), no Observe, its Content-Format, Max-Age 0",
                "OMN_01 every registration was absorbed into one group observation (one Token T)",
                "OMN_01 the observer counter counts five",
                "OMN_01 a registration that differs from the phantom (another Uri-Query) is answered as usual, not absorbed", "OMN_01 No-Response 16: counted (seven with the command line client's), acknowledged, no informative response");
    }

    @Test
    void OMN_02_tpInfoOnTheWire() {
        run.assertChecks("OMN_02 tp_info [[-1, [h'7f000001', 5810]], [-1, [h'e00001bd']], h'<8-byte Token>'] (default port left out)");
    }

    @Test
    void OMN_03_phReqOnTheWire() {
        run.assertChecks("OMN_03 ph_req is GET | Observe 0 | Uri-Path \"alarm\"");
    }

    @Test
    void OMN_04_oneMulticastNotificationPerChange() {
        run.assertChecks("OMN_04 every observer received both notifications, in order", "OMN_04 one datagram per change for five observers",
                "OMN_04 a notification is NON, with Observe and Token T, from the informative response's source",
                "OMN_04 a notification with Token T from another source is dropped",
                "OMN_04 coterie client --observe follows the switch to multicast notifications and prints it");
    }

    @Test
    void OMN_05_expiredNotificationSentAgain() {
        run.assertChecks("OMN_05 the latest notification outlived its Max-Age: sent again, fresh (a newer Observe)");
    }

    @Test
    void OMN_06_serverCancellation() {
        run.assertChecks("OMN_06 the server's cancellation: one multicast 5.03 with Token T, every observer ended, T freed");
    }

    @Test
    void OMN_08_lastNotifIsTheFirstNotification() {
        run.assertChecks("OMN_08 last_notif processed as each observer's first notification");
    }

    @Test
    void OMN_14_gpObsLinkAttribute() {
        run.assertChecks("OMN_14 the resource carries gp-obs");
    }
}
