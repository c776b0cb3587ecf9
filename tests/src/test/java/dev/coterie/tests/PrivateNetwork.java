package dev.coterie.tests;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a Java main class in a fresh private network namespace (ARCHITECTURE.md: "Multicast
 * without leaving the machine"): {@code unshare --user --map-root-user --net}, then the set-up
 * commands, then the JVM. Nothing it sends can leave the namespace. Bounded by a timeout.
 */
final class PrivateNetwork {
    /** IPv4 multicast on the namespace's loopback. */
    static final String IPV4 = "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo";
    /** IPv6 multicast does not loop on lo: a veth pair with unique-local addresses (no DAD delay). */
    static final String IPV6 = "ip link set lo up && ip link add veth0 type veth peer name veth1"
            + " && ip link set veth0 up && ip link set veth1 up"
            + " && ip -6 addr add fd00::1/64 dev veth0 nodad && ip -6 addr add fd00::2/64 dev veth1 nodad";

    record Result(int status, String out) {
        /** Each named check printed "CHECK ok" (a scenario's checks are named after the rule they prove). */
        void assertChecks(String... names) {
            for (String n : names) {
                org.junit.jupiter.api.Assertions.assertTrue(out.contains("CHECK ok   " + n),
                        "missing check '" + n + "':\n" + out);
            }
        }

        /** The scenario ran to its end: exit status 0 and "SCENARIO OK". */
        void assertCompleted() {
            org.junit.jupiter.api.Assertions.assertEquals(0, status, out);
            org.junit.jupiter.api.Assertions.assertTrue(out.contains("SCENARIO OK"), out);
        }
    }

    private PrivateNetwork() {
    }

    static Result run(String setup, Class<?> main, long timeoutSeconds, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        StringBuilder cmd = new StringBuilder(setup).append(" && exec ").append(quote(java))
                .append(" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp ").append(quote(System.getProperty("java.class.path")))
                .append(' ').append(main.getName());
        for (String a : args) {
            cmd.append(' ').append(quote(a));
        }
        List<String> argv = new ArrayList<>(List.of("unshare", "--user", "--map-root-user", "--net", "sh", "-c", cmd.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        byte[] out;
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            out = p.getInputStream().readAllBytes();
            return new Result(-1, new String(out, StandardCharsets.UTF_8) + "\n(timed out after " + timeoutSeconds + " s)");
        }
        out = p.getInputStream().readAllBytes();
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
