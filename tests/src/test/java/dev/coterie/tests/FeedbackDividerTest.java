package dev.coterie.tests;


import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Feedback-Divider rough counting (observe-multicast-notifications Section 8, digest 6.5,
 * OMN-09) in a private network namespace ({@link FeedbackDividerScenario}): the server's count
 * on an injected clock, the client's answer with an injected draw, and both end to end.
 */
class FeedbackDividerTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, FeedbackDividerScenario.class, 120);
        System.out.println(run.out());
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void OMN_09_serverPutsQInOneNotification_countsWithinTheWindow_updatesTheCount() {
        run.assertChecks("OMN_09 defaults: D = 4, MAX_CONFIRMATION_WAIT 452 s, option 18",
                "OMN_09 control: no count asked for, no Feedback-Divider in the notification",
                "OMN_09 a confirmation with no window open: not counted, not a new observer",
                "OMN_09 the next successful notification carries Feedback-Divider Q = max(ceil(log2(N / M)), 0) = 2 "
                        + "(N 8, M 2): option 18, value 0x02",
                "OMN_09 the window opened when it was sent",
                "OMN_09 only that one notification carries it: the next one has no Feedback-Divider",
                "OMN_09 a new observer during the window is counted (COUNT' = 9); last_notif carries no Feedback-Divider",
                "OMN_09 four confirmations within the window counted (empty value and 0x00), none a new observer",
                "OMN_09 No-Response 26: the confirmations get no response",
                "OMN_09 a confirmation at MAX_CONFIRMATION_WAIT after the notification is not counted; control: "
                        + "one just before was",
                "OMN_09 COUNT' + (E - N) / D: 11 + (4 * 2^2 - 8) / 4 = 13 becomes the observer counter",
                "OMN_09 one update per window");
    }

    @Test
    void OMN_09_malformedFeedbackDividerRequests_countUnchanged() {
        run.assertChecks("OMN_09 a Feedback-Divider of value 1 is no confirmation: an ordinary registration (informative "
                        + "response, counted), R unchanged",
                "OMN_09 a two-byte Feedback-Divider (outside 0-1 bytes, RFC 7252 5.4.3: an ignored elective option) is no "
                        + "confirmation: an ordinary registration, R unchanged",
                "OMN_09 a POST with an empty Feedback-Divider: 4.05, not counted",
                "OMN_09 a GET without Observe with an empty Feedback-Divider: the representation, not counted",
                "OMN_09 a deregistration (Observe 1) with an empty Feedback-Divider: the representation, not counted");
    }

    @Test
    void OMN_09_confirmationsPerWindowLimited() {
        run.assertChecks("OMN_09 four confirmations within the window counted (empty value and 0x00), none a new observer",
                "OMN_09 limit: beyond max confirmations per window (4) a confirmation is dropped and counted as such");
    }

    @Test
    void OMN_09_clientAnswersWithProbabilityTwoToTheMinusQ_oneNonGetNoResponse26EmptyFeedbackDivider() {
        run.assertChecks("OMN_09 Q = 3: one draw of I from [0, 2^3)",
                "OMN_09 the draw gave I = 5, not 0: the client sends nothing",
                "OMN_09 the draw gave I = 0: one NON GET, Observe 0 (empty), Uri-Path alarm, Uri-Query floor=2, "
                        + "Feedback-Divider empty (option 18, length 0), No-Response 0x1a, to the server's unicast address",
                "OMN_09 the answer's bytes: NON (0x5_), GET (0x01), options 60 55'alarm' 47'floor=2' 30 d1e31a, no payload",
                "OMN_09 exactly one answer",
                "OMN_09 a notification with a two-byte Feedback-Divider: delivered, the option ignored (no draw)",
                "OMN_09 fail closed: no unprotected answer for an OSCORE-protected registration");
    }

    @Test
    void OMN_09_commandLineClientAnswersFeedbackDivider() {
        run.assertChecks("OMN_09 coterie client --observe answers a Feedback-Divider (Q = 0) once and prints it; the server "
                + "counted it, no new observer");
    }

    @Test
    void OMN_08_feedbackDividerInLastNotifIgnored() {
        run.assertChecks("OMN_09 a Feedback-Divider in last_notif is ignored: no draw, nothing sent");
    }

    @Test
    void OMN_09_endToEnd_eightObservers_deterministicDraw_estimateNine() {
        run.assertChecks("OMN_09 end to end: eight observers",
                "OMN_09 end to end: every observer got the notification with Q = 2 and drew once from [0, 4)",
                "OMN_09 end to end: the three observers whose draw gave 0 answered once each, the server counted R = 3, "
                        + "no new observer",
                "OMN_09 end to end: the new estimate 8 + (3 * 2^2 - 8) / 4 = 9");
    }
}
