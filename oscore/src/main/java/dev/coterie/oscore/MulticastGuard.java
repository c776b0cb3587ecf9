package dev.coterie.oscore;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Refuses to send multicast unless the process runs in a private network namespace whose links
 * that are up are all loopback or veth pairs with both ends in it, so that tests and demos never
 * put multicast on a real network. Link types decide, never names (see {@link LinkSurvey}). A
 * deployment opts in explicitly with the environment variable or system property
 * {@code COTERIE_MULTICAST_ON_NETWORK=allow}.
 *
 * <p>It lives in the OSCORE module so that {@link ProtectionPipeline#protectRequest} can apply it
 * to every request whatever its view (OSCORE, group, pairwise, deterministic): a multicast
 * destination is checked once, there, and not by each view. An application that sends
 * unprotected requests calls {@link #checkDestination} itself.
 */
public final class MulticastGuard {
    public static final String OPT_IN = "COTERIE_MULTICAST_ON_NETWORK";

    /** How long a survey of the links is trusted: surveying may start an ip process, too costly per message. */
    private static final long SURVEY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
    private static volatile LinkSurvey lastSurvey;
    private static volatile long lastSurveyAt;

    private MulticastGuard() {
    }

    private static LinkSurvey survey() {
        long now = System.nanoTime();
        LinkSurvey s = lastSurvey;
        if (s == null || now - lastSurveyAt > SURVEY_NANOS) {
            s = LinkSurvey.ofThisProcess();
            lastSurvey = s;
            lastSurveyAt = now;
        }
        return s;
    }

    /**
     * What every request to a multicast destination must pass: never port 5684 (GCB-10: coaps
     * carries no group communication), and the guard. Does nothing for a unicast destination.
     *
     * @throws IllegalArgumentException for port 5684
     * @throws IllegalStateException if multicast is not allowed here
     */
    public static void checkDestination(InetSocketAddress destination) {
        if (destination == null || destination.isUnresolved() || !destination.getAddress().isMulticastAddress()) {
            return;
        }
        checkGroupPort(destination.getPort());
        check(destination.getAddress());
    }

    /** RFC 7252 / groupcomm-bis: 5684 (coaps) must not carry group communication (GCB-10). */
    public static void checkGroupPort(int port) {
        if (port == 5684) {
            throw new IllegalArgumentException("port 5684 must not be used for group communication (GCB-10)");
        }
    }

    /** Throws {@link IllegalStateException} saying why if multicast to {@code group} is not allowed here. */
    public static void check(InetAddress group) {
        if (!group.isMulticastAddress()) {
            return;
        }
        String env = System.getenv(OPT_IN);
        String property = System.getProperty(OPT_IN);
        if ("allow".equals(env) || "allow".equals(property)) {
            return;
        }
        check(group, survey(), env != null ? env : property);
    }

    /** The decision for a given survey; {@code optIn} is the opt-in's value (null if unset, and not "allow"). */
    static void check(InetAddress group, LinkSurvey survey, String optIn) {
        List<LinkSurvey.Link> external = survey.external();
        if (external.isEmpty()) {
            return;
        }
        String why = external.stream().map(l -> l.name() + " is up and is " + l.why(survey.namespace()))
                .collect(Collectors.joining("; "));
        throw new IllegalStateException("refusing to send multicast to " + group.getHostAddress()
                + ": this process is outside a private namespace of loopback and veth links only: " + why
                + " (links from " + survey.source() + ", network namespace " + survey.namespace().name().toLowerCase()
                + "). Run inside one (unshare --user --map-root-user --net, with only lo and veth pairs up) or, on a "
                + "network meant for multicast, set " + OPT_IN + "=allow (environment variable or system property)"
                + (optIn != null ? "; it is set to '" + optIn + "', which is not 'allow'" : "") + ".");
    }

    /** The names of the links that are up and are neither loopback nor a veth pair in a private namespace. */
    public static List<String> externalInterfaces() {
        return LinkSurvey.ofThisProcess().external().stream().map(LinkSurvey.Link::name).toList();
    }
}
