package dev.coterie.tests;

import dev.coterie.oscore.LinkSurvey;
import dev.coterie.oscore.MulticastGuard;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Runs inside a private network namespace (see {@link MulticastGuardNamespaceTest}) and prints
 * what {@link LinkSurvey} finds there and what {@link MulticastGuard} decides, one fact a line.
 * If the environment names a process that holds a namespace for the test (PEER_HOLDER), it ends it.
 */
public final class GuardProbe {
    private GuardProbe() {
    }

    public static void main(String[] args) throws Exception {
        try {
            System.out.println("OPT_IN " + System.getenv(MulticastGuard.OPT_IN));
            System.out.println("INIT_ONLY_SYSCTL " + Files.exists(Path.of("/proc/sys/net/core/netdev_max_backlog")));
            LinkSurvey s = LinkSurvey.ofThisProcess();
            System.out.println("NAMESPACE " + s.namespace());
            System.out.println("SOURCE " + s.source());
            for (LinkSurvey.Link l : s.links()) {
                System.out.println("LINK " + l.name() + " " + l.type() + (l.up() ? " up" : " down")
                        + (l.inside(s.namespace()) ? " inside" : " outside: " + l.why(s.namespace())));
            }
            Optional<LinkSurvey> netlink = LinkSurvey.fromNetlink();
            Optional<LinkSurvey> sysfs = LinkSurvey.fromSysfs();
            System.out.println("NETLINK " + (netlink.isPresent() ? "present" : "absent"));
            System.out.println("SYSFS " + (sysfs.isPresent() ? "present" : "absent"));
            sysfs.ifPresent(f -> {
                for (LinkSurvey.Link l : f.links()) {
                    System.out.println("SYSFS LINK " + l.name() + " " + l.type() + (l.inside(f.namespace()) ? " inside" : " outside"));
                }
                System.out.println("SYSFS AGREES WITH NETLINK " + netlink.map(n -> verdicts(n).equals(verdicts(f))).orElse(false));
            });
            for (String g : new String[] {"224.0.1.187", "ff02::fd"}) {
                try {
                    MulticastGuard.check(InetAddress.getByName(g));
                    System.out.println("GUARD ALLOWS " + g);
                } catch (IllegalStateException e) {
                    System.out.println("GUARD REFUSES " + g + ": " + e.getMessage());
                }
            }
        } finally {
            String holder = System.getenv("PEER_HOLDER");
            if (holder != null) {
                ProcessHandle.of(Long.parseLong(holder)).ifPresent(ProcessHandle::destroy);
            }
        }
    }

    private static Map<String, String> verdicts(LinkSurvey s) {
        Map<String, String> m = new TreeMap<>();
        for (LinkSurvey.Link l : s.links()) {
            m.put(l.name(), l.up() + "/" + l.type() + "/" + l.inside(s.namespace()));
        }
        return m;
    }
}
