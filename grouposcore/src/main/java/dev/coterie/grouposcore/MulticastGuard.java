package dev.coterie.grouposcore;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;

/**
 * Refuses to send multicast unless the process runs in a private network namespace (every
 * interface that is up is loopback or a veth the namespace created), so that tests and demos
 * never put multicast on a real network. A deployment opts in explicitly with the environment
 * variable or system property {@code COTERIE_MULTICAST_ON_NETWORK=allow}.
 */
public final class MulticastGuard {
    public static final String OPT_IN = "COTERIE_MULTICAST_ON_NETWORK";

    private MulticastGuard() {
    }

    /** Throws {@link IllegalStateException} saying why if multicast to {@code group} is not allowed here. */
    public static void check(InetAddress group) {
        if (!group.isMulticastAddress()) {
            return;
        }
        if ("allow".equals(System.getenv(OPT_IN)) || "allow".equals(System.getProperty(OPT_IN))) {
            return;
        }
        List<String> external = externalInterfaces();
        if (!external.isEmpty()) {
            throw new IllegalStateException("refusing to send multicast to " + group.getHostAddress()
                    + ": this host has network interfaces " + external + " outside a private namespace. "
                    + "Run inside one (unshare -rn) or set " + OPT_IN + "=allow on a network meant for it.");
        }
    }

    /** The interfaces that are up and are neither loopback nor veth. */
    public static List<String> externalInterfaces() {
        List<String> out = new ArrayList<>();
        try {
            Enumeration<NetworkInterface> all = NetworkInterface.getNetworkInterfaces();
            while (all != null && all.hasMoreElements()) {
                NetworkInterface ni = all.nextElement();
                if (ni.isUp() && !ni.isLoopback() && !ni.getName().startsWith("veth")) {
                    out.add(ni.getName());
                }
            }
        } catch (SocketException e) {
            out.add("(interfaces unreadable: " + e.getMessage() + ")");
        }
        return out;
    }
}
