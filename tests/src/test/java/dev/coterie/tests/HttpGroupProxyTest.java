package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Group requests through the proxy's HTTP front end (groupcomm-proxy Section 9, GPX-12) over real
 * IPv4 multicast in a private network namespace ({@link HttpGroupProxyScenario}: three servers, a
 * Coterie proxy, curl inside the namespace as the HTTP client). curl is installed first, outside
 * the namespace, by scripts/ensure-curl.sh.
 */
class HttpGroupProxyTest {
    private static PrivateNetwork.Result run;

    @BeforeAll
    static void runScenario() throws Exception {
        run = PrivateNetwork.run(PrivateNetwork.IPV4, HttpGroupProxyScenario.class, 120, ensureCurl());
        System.out.println(run.out());
    }

    /** scripts/ensure-curl.sh (from the module directory or the reactor root): curl's path, or the test fails. */
    static String ensureCurl() throws Exception {
        Path script = null;
        for (Path p : List.of(Path.of("scripts", "ensure-curl.sh"), Path.of("tests", "scripts", "ensure-curl.sh"))) {
            if (Files.isRegularFile(p)) {
                script = p.toAbsolutePath();
            }
        }
        if (script == null) {
            fail("tests/scripts/ensure-curl.sh not found from " + Path.of("").toAbsolutePath());
        }
        Process p = new ProcessBuilder("bash", script.toString()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        try {
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                fail("ensure-curl.sh did not finish in 10 minutes");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String path = out.lines().filter(l -> l.startsWith("CURL=")).map(l -> l.substring(5).trim()).findFirst().orElse(null);
            if (p.exitValue() != 0 || path == null) {
                fail("curl is needed for the HTTP front end scenario and could not be installed:\n" + out);
            }
            return path;
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void scenarioCompleted() {
        run.assertCompleted();
    }

    @Test
    void GPX_12_aGroupRequestOverHttpIsOneMultipartMixedWithAPartPerServer() {
        run.assertChecks("GPX_12 one 200 multipart/mixed with three application/http parts, each with its server's Reply-From",
                "GPX_12 each part's Reply-From is a List of Byte Sequences that decodes to the server's CRI",
                "GPX_12 the group got the request once per server, without Multicast-Timeout",
                "GPX_12 a Reply-From field in a request (here a malformed one) is ignored",
                "GPX_12 every collection ended");
    }

    @Test
    void GPX_12_noResponseOrTPrimeZeroIs204() {
        run.assertChecks("GPX_12 no response within T': 204",
                "GPX_12 T' = 0 (and an empty Multicast-Timeout): 204 right after the request went out",
                "GPX_12 with T' = 0 the group still got the request");
    }

    @Test
    void GPX_12_aMissingOrMalformedMulticastTimeoutIs400WithMulticastTimeout0() {
        run.assertChecks("GPX_12 no Multicast-Timeout: 400 with Multicast-Timeout: 0 and the diagnostic",
                "GPX_12 a malformed Multicast-Timeout is ignored as a whole (then it is missing: 400)",
                "GPX_12 none of them reached the group");
    }

    @Test
    void GPX_12_revalidationWithGroupEtagIs304_aMalformedGroupEtagIsIgnored() {
        run.assertChecks("GPX_12 positive control: the first request is forwarded, three parts without Group-ETag",
                "GPX_12 from the cache alone: every part carries the set's one Group-ETag",
                "GPX_12 a matching Group-ETag: 304 with that one Group-ETag member and no body",
                "GPX_12 a malformed Group-ETag field (a member that is no Byte Sequence) is ignored as a whole: 200, three parts",
                "GPX_12 a Group-ETag member of 9 bytes makes the field ignored as a whole: 200, three parts");
    }

    @Test
    void HC_06_withGroupsAMulticastAddressThatIsNoConfiguredGroupIs403() {
        run.assertChecks("HC_06 a multicast address that is not a configured group: 403 (the proxy's 4.01)");
    }
}
