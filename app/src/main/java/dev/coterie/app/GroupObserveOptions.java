package dev.coterie.app;

import dev.coterie.oscore.GroupObservedResource;
import dev.coterie.oscore.InformativeResponse;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import picocli.CommandLine.Option;

/**
 * The options of {@code coterie server} that offer one group-observed resource
 * (observe-multicast-notifications, digest 6): {@code --group-observe PATH} with the group it
 * notifies ({@code --notify-group}), how often its state changes ({@code --notify-period}) and the
 * Content-Format number of its informative responses ({@code --informative-format}). Every value
 * is checked by {@link #plan}, which names the option it refuses (exit 64). Options are strings so
 * that a value that is not even a number is refused the same way.
 */
final class GroupObserveOptions {
    /** The paths of {@link DemoResources}: a group-observed resource does not replace one of them. */
    static final Set<String> TAKEN = Set.of("hello", "observe", "echo", "large", "light", "temperature", "whoami");
    static final long MAX_PERIOD_MS = 86_400_000L;

    @Option(names = "--group-observe", paramLabel = "PATH", description = "also offer /PATH as a group observation "
            + "(observe-multicast-notifications, link attribute gp-obs): a text/plain \"state N\" whose N goes up every "
            + "--notify-period; registrations get the informative response and notifications go to --notify-group over "
            + "multicast. With --context the unprotected variant (only /PATH takes requests without OSCORE); with --bundle "
            + "the Group OSCORE variant (phantom and notifications in group mode). One path segment; UDP only")
    String path;

    @Option(names = "--notify-group", paramLabel = "ADDR:PORT", description = "with --group-observe: the multicast "
            + "address and port notifications are sent to (IPv6 as [ADDR]:PORT); never port 5684")
    String notifyGroup;

    @Option(names = "--notify-period", paramLabel = "MS", description = "with --group-observe: ms between changes of "
            + "the group-observed state, one multicast notification each (1 to 86400000, default 1000)")
    String notifyPeriod;

    @Option(names = "--informative-format", paramLabel = "N", description = "with --group-observe: the Content-Format "
            + "number of application/informative-response+cbor (0 to 65535; not assigned by IANA; default 65000)")
    String informativeFormat;

    /** What the options ask for, checked. */
    record Plan(String path, InetSocketAddress group, long periodMs, int contentFormat) {
    }

    /** Null without {@code --group-observe}; the checked plan otherwise. */
    Plan plan() {
        if (path == null) {
            if (notifyGroup != null || notifyPeriod != null || informativeFormat != null) {
                throw new IllegalArgumentException("--notify-group, --notify-period and --informative-format need --group-observe");
            }
            return null;
        }
        String p = path.startsWith("/") ? path.substring(1) : path;
        if (p.isEmpty() || p.contains("/") || !p.matches("[A-Za-z0-9._~-]+") || p.equals(".") || p.equals("..")) {
            throw new IllegalArgumentException("--group-observe: '" + path + "' is not one path segment of letters, digits "
                    + "and . _ ~ -");
        }
        if (TAKEN.contains(p)) {
            throw new IllegalArgumentException("--group-observe: /" + p + " is one of the server's own resources; choose "
                    + "another path");
        }
        if (notifyGroup == null) {
            throw new IllegalArgumentException("--group-observe needs --notify-group ADDR:PORT (the multicast group "
                    + "notifications go to)");
        }
        return new Plan(p, group(notifyGroup), number("--notify-period", notifyPeriod, 1000, 1, MAX_PERIOD_MS),
                (int) number("--informative-format", informativeFormat, InformativeResponse.DEFAULT_CONTENT_FORMAT, 0, 65535));
    }

    private static InetSocketAddress group(String v) {
        int i = v.lastIndexOf(':');
        String host = i < 0 ? "" : v.substring(0, i);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("--notify-group: write an IPv6 group as [ADDR]:PORT, not " + v);
        }
        // a literal only: a name would be looked up, and a group is an address
        if (host.isEmpty() || !(host.matches("[0-9.]+") || host.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?"))) {
            throw new IllegalArgumentException("--notify-group: expected a multicast ADDR:PORT, got " + v);
        }
        int port = (int) number("--notify-group", v.substring(i + 1), -1, 1, 65535);
        InetAddress a;
        try {
            a = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("--notify-group: not an address: " + host);
        }
        if (!a.isMulticastAddress()) {
            throw new IllegalArgumentException("--notify-group: " + a.getHostAddress() + " is not a multicast address");
        }
        if (port == 5684) {
            throw new IllegalArgumentException("--notify-group: port 5684 (coaps) must not carry group communication (GCB-10)");
        }
        return new InetSocketAddress(a, port);
    }

    private static long number(String option, String v, long dflt, long min, long max) {
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + v + "' is not a number");
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(option + ": " + n + " is out of range (" + min + " to " + max + ")");
        }
        return n;
    }

    /**
     * The group-observed resource of {@code coterie server}: GET reads text/plain "state N" with
     * Max-Age 60; {@link #tick} raises N and sends one multicast notification.
     */
    static final class StateResource extends GroupObservedResource {
        private final AtomicLong state = new AtomicLong();

        StateResource(Plan plan) {
            super(plan.path(), plan.group(), plan.contentFormat());
        }

        void tick() {
            state.incrementAndGet();
            changed();
        }

        @Override
        protected Response representation() {
            Response r = new Response(CoAP.ResponseCode.CONTENT);
            r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN).setMaxAge(60);
            r.setPayload("state " + state.get());
            return r;
        }
    }
}
