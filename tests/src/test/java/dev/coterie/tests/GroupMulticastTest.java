package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * GCB-01, GCB-02, GCB-08 and the Group OSCORE modes over real UDP multicast, inside a private
 * network namespace the test creates (never skipped: a machine that cannot create one fails).
 */
class GroupMulticastTest {

    private static final String[] CHECKS = {
        "three lights answered the group request",
        "a3 answered the group request in pairwise mode",
        "pairwise GET to a2",
        "a group request for a missing resource gets no 4.04 from any member",
        "replayed group request: no member answers",
        "forged signature: no member answers",
        "stale Gid: no member answers",
        "unknown kid without credential: no member answers",
        "no replay window changed",
        "every member rejected each of the 4 silent requests",
        "a valid group request over the same path is answered",
        "notifications went on after the rekey",
        "every notification delivered is newer than the one before",
        "notifications under the old and then the new Gid",
    };

    private static void assertScenario(PrivateNetwork.Result r) {
        System.out.println(r.out());
        assertEquals(0, r.status(), r.out());
        for (String c : CHECKS) {
            assertTrue(r.out().contains("CHECK ok   " + c), "missing check '" + c + "':\n" + r.out());
        }
        assertTrue(r.out().contains("SCENARIO OK"), r.out());
    }

    /** GCB-01/02/08, GRP-13, GRP-27 and table 2.9 (silence) over IPv4 multicast on the namespace's loopback. */
    @Test
    void GCB_01_oneClientThreeServers_ipv4Multicast_groupAndPairwiseModes() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV4, GroupScenario.class, 120, "ipv4"));
    }

    /** The same over IPv6 multicast (ff02::fd) on a veth pair. */
    @Test
    void GCB_01_oneClientThreeServers_ipv6Multicast_groupAndPairwiseModes() throws Exception {
        assertScenario(PrivateNetwork.run(PrivateNetwork.IPV6, GroupScenario.class, 120, "ipv6"));
    }

    /** GRP-13 over the network: the other combinations of the two signature algorithms and two AEADs (IPv4). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"EdDSA, A128GCM", "ES256, AES-CCM-16-64-128", "ES256, A128GCM"})
    void GRP_13_everySignatureAlgorithmWithTwoAeads_ipv4Multicast(String signature, String aead) throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, GroupScenario.class, 120, "ipv4", signature, aead);
        assertTrue(r.out().contains("ALGORITHMS " + signature), r.out());
        assertScenario(r);
    }

    /** Provisioning with coterie group, bundles loaded by coterie server and coterie client (GCB-01, GCB-02). */
    @Test
    void commissionedLightingGroupSwitchedFromTheCommandLine() throws Exception {
        PrivateNetwork.Result r = cliScenario();
        String out = r.out();
        assertEquals(0, r.status(), out);
        for (String s : new String[] {"create = 0", "add client = 0", "add lamp 1 = 0", "add lamp 2 = 0", "show = 0",
            "group PUT = 0", "pairwise GET = 0"}) {
            assertTrue(out.contains("STATUS " + s), "expected STATUS " + s + ":\n" + out);
        }
        assertTrue(out.contains("member 02 (group mode):"), out);
        assertTrue(out.contains("member 03 (pairwise mode):"), out);
        assertTrue(out.contains("2 response(s)"), out);
        assertTrue(out.contains("2.05 CONTENT\n  Content-Format: \"text/plain\"\non"), "pairwise read of lamp 02:\n" + out);
        assertTrue(out.contains("STATUS plain OSCORE bundle misuse = 64"), "--bundle needs --group or --member:\n" + out);
        assertTrue(!out.contains("master_secret") && !out.matches("(?s).*[0-9a-f]{32}.*master.*"), "no secrets printed");
    }

    private static PrivateNetwork.Result cliScenario;

    /** GroupCliScenario runs once (a namespace, two servers and every client case); its tests read the one output. */
    private static synchronized PrivateNetwork.Result cliScenario() throws Exception {
        if (cliScenario == null) {
            cliScenario = PrivateNetwork.run(PrivateNetwork.IPV4, GroupCliScenario.class, 180);
            System.out.println(cliScenario.out());
        }
        return cliScenario;
    }

    /** The lines a scenario step printed: after the previous STATUS line, up to its own (which must say {@code status}). */
    private static List<String> step(String out, String name, int status) {
        List<String> lines = out.lines().collect(Collectors.toList());
        int end = lines.indexOf("STATUS " + name + " = " + status);
        assertTrue(end >= 0, "expected STATUS " + name + " = " + status + ":\n" + out);
        int start = end - 1;
        while (start >= 0 && !lines.get(start).startsWith("STATUS ")) {
            start--;
        }
        return lines.subList(start + 1, end);
    }

    /**
     * The client's group cases from the command line (issue: client): group mode to a unicast
     * address only with --group-mode-unicast (GRP-28); --expect; an observation of the group with
     * every member's notifications and one deregistration to the group (GCB-09); a pairwise
     * observation; one deterministic request answered by every member and the same request to one.
     */
    @Test
    void clientGroupCasesFromTheCommandLine() throws Exception {
        PrivateNetwork.Result r = cliScenario();
        String out = r.out();
        assertEquals(0, r.status(), out);
        assertTrue(out.contains("SCENARIO DONE"), out);

        assertEquals(List.of("coterie client: --group: 127.0.0.1 is a unicast address; unicast requests use pairwise mode "
                + "(--member SID, GRP-28); add --group-mode-unicast to send group mode to it anyway"),
                step(out, "group to unicast", 64));
        assertEquals(List.of("coterie client: warning: --group-mode-unicast: any member of the group can answer in the name of "
                + "127.0.0.1; the member that did is printed with each answer (GRP-28)",
                "from /127.0.0.1:5702 member 02 (group mode):", "2.05 CONTENT", "  Content-Format: \"text/plain\"",
                "on"), step(out, "group mode unicast", 0));

        // a 30 s timeout: only --expect 1 explains a single answer from a group of two
        List<String> one = step(out, "expect 1", 0);
        assertEquals("1 response(s)", one.get(one.size() - 1), one.toString());
        assertEquals(1, one.stream().filter(l -> l.startsWith("from /127.0.0.1:570")).count(), one.toString());
        List<String> short1 = step(out, "expect 3 of 2", 2);
        assertEquals(List.of("2 response(s)", "coterie client: 2 of 3 expected members answered within 2 s"),
                short1.subList(short1.size() - 2, short1.size()));

        List<String> observe = step(out, "group observe", 0);
        String m02 = "from /127.0.0.1:5702 member 02 (group mode)";
        String m03 = "from /127.0.0.1:5703 member 03 (pairwise mode)";
        assertEquals(Set.of("notification 1 " + m02 + ":", "notification 2 " + m02 + ":", "notification 1 " + m03 + ":",
                "notification 2 " + m03 + ":"), observe.stream().filter(l -> l.startsWith("notification")).collect(Collectors.toSet()));
        assertEquals(4, observe.stream().filter(l -> l.startsWith("notification")).count(), observe.toString());
        List<String> dereg = observe.stream().filter(l -> l.startsWith("deregist")).collect(Collectors.toList());
        assertEquals(3, dereg.size(), observe.toString());
        assertTrue(dereg.get(0).matches("deregistering: GET with Observe 1 and the same Token [0-9A-F]+ to the group "
                + "/224\\.0\\.1\\.187:5683 \\(RFC 7641 3\\.6, GCB-09\\): every member holding the observation answers"), dereg.get(0));
        assertEquals(Set.of("deregistration answered " + m02 + ": 2.05 CONTENT", "deregistration answered " + m03 + ": 2.05 CONTENT"),
                Set.copyOf(dereg.subList(1, 3)));
        assertTrue(observe.indexOf(dereg.get(0)) > observe.lastIndexOf(observe.stream().filter(l -> l.startsWith("notification"))
                .reduce((a, b) -> b).orElseThrow()), "no notification is counted after the deregistration started");

        List<String> pairwise = step(out, "pairwise observe", 0);
        assertEquals(List.of("notification 1 " + m03 + ":", "notification 2 " + m03 + ":"),
                pairwise.stream().filter(l -> l.startsWith("notification")).collect(Collectors.toList()));
        assertTrue(pairwise.contains("deregistration answered " + m03 + ": 2.05 CONTENT"), pairwise.toString());

        List<String> det = step(out, "deterministic group", 0);
        List<String> hashes = det.stream().filter(l -> l.startsWith("deterministic request, Request-Hash ")).collect(Collectors.toList());
        assertEquals(1, hashes.size(), det.toString());
        assertTrue(hashes.get(0).matches("deterministic request, Request-Hash [0-9a-f]{64}"), hashes.get(0));
        for (String m : List.of("from /127.0.0.1:5702 member 02 (group mode)", "from /127.0.0.1:5703 member 03 (group mode)")) {
            int i = det.indexOf(m + ":");
            assertTrue(i >= 0, "a deterministic request is answered in group mode by every member: " + det);
            assertEquals(List.of("outer Max-Age: 60", "2.05 CONTENT", "  Content-Format: \"text/plain\"", "Hello World!"),
                    det.subList(i + 1, i + 5));
        }
        assertEquals("2 response(s)", det.get(det.size() - 1));
        // the same request from the same group is the same deterministic request, whoever it goes to
        assertEquals(List.of(hashes.get(0), "from /127.0.0.1:5702 member 02 (group mode):", "outer Max-Age: 60", "2.05 CONTENT",
                "  Content-Format: \"text/plain\"", "Hello World!"), step(out, "deterministic unicast", 0));

        List<String> large = step(out, "group large", 0);
        assertTrue(large.contains("(block 0 only: answers to a group request are not reassembled; ask this member alone with "
                + "--member 02)"), large.toString());
    }

    @Test
    void multicastIsRefusedOutsideAPrivateNamespace() {
        // this test JVM runs in the machine's own namespace, which has real interfaces
        if (dev.coterie.oscore.MulticastGuard.externalInterfaces().isEmpty()) {
            throw new AssertionError("expected the test host to have a real interface");
        }
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> dev.coterie.oscore.MulticastGuard.check(java.net.InetAddress.getByName("224.0.1.187")));
        assertTrue(e.getMessage().contains("private namespace"), e.getMessage());
    }
}
