package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The multicast guard inside private network namespaces the test creates: link types decide,
 * not names. A veth pair called mc0/mc1 is inside; a bridge, or a veth whose peer is in another
 * namespace, is not. The opt-in is unset in every namespace, so it cannot be what lets multicast through.
 */
class MulticastGuardNamespaceTest {
    private static final String NO_OPT_IN = "unset COTERIE_MULTICAST_ON_NETWORK";
    private static final String MC_PAIR = "ip link set lo up && ip link add mc0 type veth peer name mc1"
            + " && ip link set mc0 up && ip link set mc1 up";

    private static String probe(String setup) throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(NO_OPT_IN + " && " + setup, GuardProbe.class, 60);
        System.out.println(r.out());
        assertEquals(0, r.status(), r.out());
        assertTrue(r.out().contains("OPT_IN null\n"), r.out());
        assertTrue(r.out().contains("NAMESPACE PRIVATE\n"), r.out());
        return r.out();
    }

    @Test
    void aVethPairNamedMc0Mc1InAPrivateNamespaceMayCarryMulticast() throws Exception {
        String out = probe(MC_PAIR);
        assertTrue(out.contains("LINK mc0 VETH up inside\n") && out.contains("LINK mc1 VETH up inside\n"), out);
        assertTrue(out.contains("GUARD ALLOWS 224.0.1.187\n") && out.contains("GUARD ALLOWS ff02::fd\n"), out);
        // without a fresh sysfs mount /sys/class/net lists the host's links: it must not be used
        assertTrue(out.contains("SYSFS absent\n") && out.contains("SOURCE netlink"), out);
        // the fallback for kernels before 6.18 agrees that this namespace is not the initial one
        assertTrue(out.contains("INIT_ONLY_SYSCTL false\n"), out);
    }

    @Test
    void aBridgeInAPrivateNamespaceIsARealNetworkAndRefused() throws Exception {
        String out = probe(MC_PAIR + " && ip link add br0 type bridge && ip link set br0 up");
        assertTrue(out.contains("GUARD REFUSES 224.0.1.187: "), out);
        assertTrue(out.contains("br0 is up and is a link of kind bridge"), out);
        assertTrue(!out.contains("mc0 is up"), "the veth pair itself is still inside:\n" + out);
    }

    /** What a container's eth0 is: a veth whose other end is in the host's namespace. */
    @Test
    void aVethWhosePeerIsInAnotherNamespaceIsRefused() throws Exception {
        String out = probe("ip link set lo up && { unshare --net sleep 60 >/dev/null 2>&1 & } && P=$!"
                + " && until [ \"$(readlink /proc/$P/ns/net)\" != \"$(readlink /proc/self/ns/net)\" ]; do sleep 0.05; done"
                + " && ip link add out0 type veth peer name out1 netns $P && ip link set out0 up && export PEER_HOLDER=$P");
        assertTrue(out.contains("LINK out0 VETH up outside: a veth whose peer is in another network namespace\n"), out);
        assertTrue(out.contains("GUARD REFUSES 224.0.1.187: ") && out.contains("out0 is up and is a veth whose peer"), out);
    }

    /** With a sysfs mounted in the namespace, sysfs is used when ip(8) is missing: it must say the same as netlink. */
    @Test
    void aFreshSysfsInThePrivateNamespaceSaysWhatNetlinkSays() throws Exception {
        String out = runWithFreshSysfs(NO_OPT_IN + " && " + MC_PAIR, GuardProbe.class, 60);
        System.out.println(out);
        assertTrue(out.contains("NAMESPACE PRIVATE\n") && out.contains("SYSFS present\n"), out);
        assertTrue(out.contains("SYSFS LINK mc0 VETH inside\n") && out.contains("SYSFS LINK mc1 VETH inside\n"), out);
        assertTrue(out.contains("SYSFS AGREES WITH NETLINK true\n"), out);
        assertTrue(out.contains("GUARD ALLOWS 224.0.1.187\n"), out);
    }

    /** As {@link PrivateNetwork#run}, with a mount namespace too and a sysfs of the new network namespace on /sys. */
    private static String runWithFreshSysfs(String setup, Class<?> main, long timeoutSeconds) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cmd = "mount -t sysfs sysfs /sys && " + setup + " && exec " + quote(java)
                + " -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp " + quote(System.getProperty("java.class.path")) + " " + main.getName();
        Process p = new ProcessBuilder(List.of("unshare", "--user", "--map-root-user", "--net", "--mount", "sh", "-c", cmd))
                .redirectErrorStream(true).start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            p.waitFor();
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) + "\n(timed out)";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
