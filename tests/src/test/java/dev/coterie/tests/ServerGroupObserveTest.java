package dev.coterie.tests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code coterie server --group-observe} in both variants, observed by {@code coterie client
 * --observe}, over real IPv4 multicast inside a private network namespace the test creates
 * ({@link ServerGroupObserveScenario}). The refused option values are in the app module's
 * ServerGroupObserveOptionsTest.
 */
class ServerGroupObserveTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, ServerGroupObserveScenario.class, 150);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void OMN_04_unprotectedVariantFromTheCommandLine() {
        run.assertChecks("OMN_01 coterie server --context --group-observe says what it offers",
                "OMN_04 coterie client --observe against coterie server --group-observe: the switch to multicast notifications "
                        + "printed, three notifications with the state going up",
                "OMN_01 the informative response on the wire: CON 5.03, Content-Format 65000, no Observe",
                "OMN_04 every datagram to the group is a NON 2.05 with the phantom's Token, Observe and the state in plaintext "
                        + "(unprotected variant)",
                "OMN_11 the unprotected variant opens /alarm only: an unprotected GET /hello gets 4.01 OSCORE required; control: "
                        + "an unprotected GET /alarm gets 2.05 with the state",
                "OMN_06 stopping coterie server sends the multicast 5.03 with Token T, no Observe, no payload");
    }

    @Test
    void MNP_03_groupOscoreTicketRequestFromTheCommandLine() {
        run.assertChecks("MNP_03 coterie client --bundle --member --proxy --observe --ticket: the protected informative response "
                        + "relayed by the proxy, the phantom verified, the switch to ticket notifications printed",
                "MNP_03 the protected ticket request: FETCH Observe 0 with the phantom's group-mode OSCORE option, Proxy-Uri and "
                        + "Listen-To-Multicast-Responses, sent as it is",
                "MNP_04 three notifications relayed by the proxy with the ticket's Token, each verified as the phantom's "
                        + "group-mode response from member 02, the state going up",
                "MNP_04 the proxy listened once for the protected ticket; the client deregistered it");
    }

    @Test
    void OMN_10_groupOscoreVariantFromTheCommandLine() {
        run.assertChecks("OMN_10 coterie server --bundle --group-observe says it offers the Group OSCORE variant",
                "OMN_11 an unprotected registration at coterie server --bundle --group-observe gets 4.01 and starts nothing",
                "OMN_10 coterie client --bundle --member --observe against coterie server --bundle --group-observe: the phantom "
                        + "verified (kid 02), the switch printed, three verified notifications with the state going up",
                "OMN_11 the informative response on the wire is protected (outer 2.04 with OSCORE, its Content-Format inside)",
                "OMN_10 every notification to the group is a group-mode protected NON (outer 2.05, RFC 8613 4.2) with the phantom's Token, Observe, "
                        + "kid 02 and its own Partial IV, no plaintext state",
                "OMN_11 stopping coterie server --bundle sends the protected multicast cancellation (outer 2.04, Token T, no "
                        + "Observe)");
    }
}
