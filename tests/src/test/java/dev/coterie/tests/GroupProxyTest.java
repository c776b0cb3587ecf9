package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The group proxy (groupcomm-proxy Section 5, GPX-nn, GCB-07) over real IPv4 multicast inside a
 * private network namespace the test creates ({@link GroupProxyScenario}: three servers, a
 * Coterie proxy, a scripted client). Each test asserts its checks of the one scenario run.
 */
class GroupProxyTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, GroupProxyScenario.class, 120);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void GPX_05_TCP_aGroupRequestFromACoapTcpClientGetsEveryResponseOnItsConnection() {
        run.assertChecks("GPX_05_TCP a group request over coap+tcp: every server's response on the client's connection, with "
                + "its Token and Reply-From");
    }

    @Test
    void GPX_05_everyResponseRelayedWithReplyFromAndTheClientsToken() {
        run.assertChecks("GPX_05 three servers' responses relayed", "GPX_05 every relayed response carries the client's Token",
                "GPX_05 Reply-From is [-1, [h'7f000001', port]] of the answering server",
                "GPX_05 each relayed response has its own Message ID", "GPX_05 relayed responses are NON 2.05",
                "GPX_05 two responses of one server both relayed, its retransmission once",
                "GCB_01 the proxy acknowledged a server's CON response",
                "GPX_05 max_responses 2: two of the three responses relayed, the third dropped");
    }

    @Test
    void GPX_04_theGroupRequestCarriesNoMulticastTimeout() {
        run.assertChecks("GPX_04 the group got the request once per server, without Multicast-Timeout");
    }

    @Test
    void GPX_03_missingMulticastTimeoutIs400WithAnEmptyOne() {
        run.assertChecks("GPX_03 no Multicast-Timeout: one 4.00 with an empty Multicast-Timeout and a diagnostic",
                "GPX_03 the request without it was not forwarded");
    }

    @Test
    void GPX_02_groupsNotOnTheListAre401() {
        run.assertChecks("GPX_02 a group not on the client's list: 4.01",
                "GPX_02 a multicast address that is not a configured group: 4.01",
                "GPX_02 positive control: the group by its address is reached");
    }

    @Test
    void GPX_06_timerRules() {
        run.assertChecks("GPX_06 T' = 0: the group got the request and nothing was relayed",
                "GPX_06 the response after T' (1 s; it came at 1.5 s) is not relayed",
                "GPX_06 positive control: with T' = 2 s it is relayed",
                "GPX_06 a CON group request nobody answers: an empty ACK, then nothing", "GPX_06 every collection ended (Tokens released, exchange slots and observer counts back to 0)");
    }

    @Test
    void GPX_07_earlyStopAndRstStopRelaying() {
        run.assertChecks("GPX_07 after an Early Stop Request nothing more is relayed", "GPX_07 the Early Stop Request is not forwarded",
                "GPX_07 after an RST to a relayed response nothing more is relayed");
    }

    /**
     * The command line through the proxy: Group OSCORE end to end (group mode), OSCORE on the
     * hop; each lamp's response verified in both layers (so the proxy protected each with a
     * Partial IV of its own but possibly the first: OCP-07) and printed with its Reply-From.
     */
    @Test
    void GPX_05_OCP_07_groupOscoreEndToEndThroughAnOscoreHop_fromTheCommandLine() throws Exception {
        PrivateNetwork.Result r = cli();
        String out = r.out();
        assertEquals(0, r.status(), out);
        assertTrue(out.contains("SCENARIO DONE"), out);
        String get = section(out, "group GET");
        for (int lamp = 2; lamp <= 4; lamp++) {
            assertTrue(get.contains("Reply-From coap://127.0.0.1:" + (5700 + lamp) + ", member 0" + lamp + " (group mode):"),
                    "lamp " + lamp + ":\n" + get);
        }
        assertTrue(get.contains("3 response(s)"), get);
        assertTrue(out.contains("STATUS group GET = 0"), out);
        assertTrue(section(out, "group PUT").contains("3 response(s)"), out);
        // positive control above; without the hop layer the proxy does not know the client: one 4.01, unprotected
        String denied = section(out, "no hop layer");
        assertTrue(denied.contains("unprotected error response, not verified:\n4.01 UNAUTHORIZED")
                && denied.contains("1 response(s)"), denied);
        assertTrue(section(out, "zero").contains("Multicast-Timeout 0: the proxy relays nothing (0 response(s))"), out);
        String stop = section(out, "stop after 1");
        assertTrue(stop.contains("early stop sent") && stop.contains("1 response(s)"), stop);
        assertTrue(out.contains("PROXY layers removed"), out);
    }

    /**
     * The cheap read of every sensor: a deterministic group request through the proxy.
     * The first client's fills the cache; a second client (another bundle, another hop context)
     * with the same request is served from the cache alone, every member's response with its
     * Reply-From and the set's Group-ETag, verified end to end, with no multicast at all.
     */
    @Test
    void GPX_08_DET_aSecondClientsDeterministicGroupRequestIsServedFromTheCache() throws Exception {
        PrivateNetwork.Result r = cli();
        String out = r.out();
        String first = section(out, "deterministic 1");
        String second = section(out, "deterministic 2");
        assertTrue(first.contains("3 response(s)") && !first.contains("Group-ETag"), first);
        for (int lamp = 2; lamp <= 4; lamp++) {
            assertTrue(second.contains("Reply-From coap://127.0.0.1:" + (5700 + lamp) + ", member 0" + lamp + " (group mode), "
                    + "Group-ETag "), second);
        }
        assertTrue(second.contains("3 response(s)"), second);
        // five group requests went out (GET, PUT, T' = 0, stop after 1, deterministic 1; the one without a hop layer
        // was denied): the second deterministic read added none
        assertTrue(out.contains("PROXY cache hits by the second deterministic read 1, group requests sent 5"), out);
    }

    /** GPX-13 at the client: --follow-up with a lamp's Reply-From reaches that lamp alone, pairwise, directly and through the proxy. */
    @Test
    void GPX_13_followUpToOneServerNamedByItsReplyFrom_fromTheCommandLine() throws Exception {
        String out = cli().out();
        assertTrue(section(out, "group GET").contains("(this server alone: --follow-up 822082447f000001191646)"), out);
        String direct = section(out, "follow-up direct");
        assertTrue(out.contains("STATUS follow-up direct = 0")
                && direct.contains("from /127.0.0.1:5702 member 02 (pairwise mode):\n2.05 CONTENT"), direct);
        String via = section(out, "follow-up via proxy");
        assertTrue(out.contains("STATUS follow-up via proxy = 0")
                && via.contains("from /127.0.0.1:5600 member 02 (pairwise mode):\n2.05 CONTENT"), via);
    }

    private static PrivateNetwork.Result cliRun;

    private static synchronized PrivateNetwork.Result cli() throws Exception {
        if (cliRun == null) {
            cliRun = PrivateNetwork.run(PrivateNetwork.IPV4, GroupProxyCliScenario.class, 120);
            System.out.println(cliRun.out());
        }
        return cliRun;
    }

    private static String section(String out, String what) {
        int a = out.indexOf("BEGIN " + what + "\n");
        int b = out.indexOf("END " + what + "\n");
        return a < 0 || b < a ? "(no output for " + what + ")" : out.substring(a, b);
    }

    @Test
    void GPX_08_answeredFromTheCacheAloneOnlyWithEveryMemberFresh() {
        run.assertChecks("GPX_08 positive control: the first group request is forwarded and fills the cache",
                "GPX_08 every member fresh in the cache: answered from the cache alone, nothing multicast",
                "GPX_05 cached copies keep their Reply-From",
                "GPX_08 a silent member: forwarded again; the entry with L < T' sent at once, the other not (its server "
                        + "answered before T')");
    }

    @Test
    void GPX_09_groupEtag() {
        run.assertChecks("GPX_09 a cache-only answer offers one Group-ETag per response, the same for the set",
                "GPX_09 a matching Group-ETag: exactly one 2.03 with that one Group-ETag and no payload",
                "GPX_09 positive control: a Group-ETag that does not match gets the three responses",
                "GPX_09 no Group-ETag when the proxy could not answer from the cache alone",
                "GPX_09 a changed member entry gives the set a new Group-ETag");
    }

    @Test
    void GPX_10_GPX_11_aChainOfTwoCoterieProxies() {
        run.assertChecks("GPX_10 the non-last proxy sends T'' = T' - 1: at T' = 2 the 2.5 s response is past T'' (at 5 it is not)",
                "GPX_11 through the chain each Reply-From still names its server, with the client's Token",
                "GPX_10 no T'' below T' = 1: 5.05 with Multicast-Timeout 2, the least P1 accepts");
    }

    @Test
    void GPX_05_GPX_06_aGroupObservationThroughTheProxy() {
        run.assertChecks("GPX_05 a group observation: every notification relayed past T', each with Reply-From, the final 4.04 too",
                "GPX_06 notifications keep Observe; the final non-2.xx has none",
                "GPX_07 after an Early Stop the observation ends: later notifications are reset, not relayed");
    }

    @Test
    void GPX_05_GPX_06_reviewCases_nonMembersUnicastEntriesTPrimeZeroAndAnObservationThatNeverWas() {
        run.assertChecks("GPX_05 with the membership known, a non-member's response is not relayed",
                "GPX_05 positive control: without members configured the same response is relayed",
                "GPX_06 T' = 0 with every member fresh in the cache: nothing relayed",
                "GPX_05 entries cached from unicast requests never answer a group request (forwarded, each with Reply-From)",
                "GPX_06 a registration answered without Observe ends at T': no observation kept",
                "GPX_05 the proxy numbers the notifications on the client's relation (RFC 7641 5): increasing");
    }

    @Test
    void GPX_13_reverseProxyFlavoursAndFollowUps() {
        run.assertChecks("GPX_13 a reverse proxy standing in for the group: every server's response, Reply-From naming it",
                "GPX_03 a reverse proxy reveals itself: 4.00 with an empty Multicast-Timeout",
                "GPX_13 standing in for each server: Reply-From is the proxy's address with a reference to the server",
                "GPX_13 a follow-up with the reference's Uri-Host and Uri-Port reaches that one server through the proxy",
                "GPX_13 a follow-up to a server the proxy does not stand in for: 4.04");
    }

    @Test
    void GCB_07_aTokenReusedDuringACollectionIs400() {
        run.assertChecks("GCB_07 a reused Token during a collection: one 4.00, not forwarded, the old collection stopped",
                "GCB_07 under a reverse proxy a Token reused during a collection: 4.00, the old collection stopped");
    }
}
