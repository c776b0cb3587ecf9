package dev.coterie.oscore;

import java.io.IOException;
import java.io.InputStream;
import java.lang.ProcessBuilder.Redirect;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The network links of this process's network namespace, each with its type (loopback, veth or
 * other), and whether that namespace is the machine's initial one: what {@link MulticastGuard}
 * decides on. Names never count, only link types.
 *
 * <p>Sources, most reliable first. Netlink through {@code ip -details -oneline link show}: it
 * always answers for the caller's namespace, names the link kind ({@code veth}) and marks a veth
 * whose peer is in another namespace ({@code link-netnsid}). {@code /sys/class/net}, but only if
 * it lists this namespace's links: sysfs shows the namespace of whoever mounted it, so inside
 * {@code unshare --net} without a fresh sysfs mount it lists the host's links. Last,
 * {@link NetworkInterface}, which knows loopback but not veth, and lists only links that have an
 * address. A namespace whose links are all loopback needs nothing more than the last.
 */
public final class LinkSurvey {
    /** Whether this process's network namespace is the machine's initial one. */
    public enum Namespace { INITIAL, PRIVATE, UNKNOWN }

    /** A link's type; names do not count. */
    public enum Type { LOOPBACK, VETH, OTHER }

    /**
     * One link. {@code peerHere}: for a veth, the other end is in this namespace too.
     * {@code master}: the device it is enslaved to (a bridge, a bond), or null. {@code detail}
     * says what an OTHER link is, for messages.
     */
    public record Link(String name, int index, boolean up, Type type, boolean peerHere, String master, String detail) {
        /** Traffic on it cannot leave {@code ns}: loopback, or a veth pair with both ends in a private namespace. */
        public boolean inside(Namespace ns) {
            return type == Type.LOOPBACK
                    || type == Type.VETH && peerHere && master == null && ns == Namespace.PRIVATE;
        }

        /** Why it is not {@link #inside}, in words. */
        public String why(Namespace ns) {
            if (type == Type.OTHER) {
                return detail;
            }
            if (type == Type.LOOPBACK) {
                return "loopback";
            }
            if (!peerHere) {
                return "a veth whose peer is in another network namespace";
            }
            if (master != null) {
                return "a veth enslaved to " + master;
            }
            return ns == Namespace.INITIAL ? "a veth in the machine's initial network namespace"
                    : "a veth, in a network namespace that could not be told apart from the initial one";
        }
    }

    /** NET_NS_INIT_INO: the initial network namespace's inode, fixed since Linux 6.18 (dynamic ones start at 0xF0000000). */
    static final long INIT_NET_INODE = 0xEFFFFFF9L;
    /** A sysctl registered in the initial network namespace only (net.core's global table), since long before 6.18. */
    static final Path INIT_ONLY_SYSCTL = Path.of("/proc/sys/net/core/netdev_max_backlog");
    private static final Path PROC_NET_DEV = Path.of("/proc/self/net/dev");
    private static final Path SYS_CLASS_NET = Path.of("/sys/class/net");
    private static final int ARPHRD_ETHER = 1;
    private static final int ARPHRD_LOOPBACK = 772;
    private static final int IFF_UP = 0x1;
    private static final int IFF_LOOPBACK = 0x8;
    private static final Pattern IP_LINK_HEAD = Pattern.compile("^(\\d+):\\s+([^:\\s]+):\\s+<([^>]*)>(.*)$");

    private final Namespace namespace;
    private final String source;
    private final List<Link> links;

    LinkSurvey(Namespace namespace, String source, List<Link> links) {
        this.namespace = namespace;
        this.source = source;
        this.links = List.copyOf(links);
    }

    /** This process's links from the most reliable source available. */
    public static LinkSurvey ofThisProcess() {
        Namespace ns = currentNamespace();
        Set<String> names = namesHere();
        LinkSurvey java = fromJava(ns, names);
        if (names != null && java.external().isEmpty()) {
            return java; // every link is loopback or down: no link type to find out
        }
        return fromNetlink(ns, names).or(() -> fromSysfs(ns, names)).orElse(java);
    }

    /** The links as netlink reports them through ip(8); empty if ip is missing or fails. */
    public static Optional<LinkSurvey> fromNetlink() {
        return fromNetlink(currentNamespace(), namesHere());
    }

    /** The links from /sys/class/net; empty if it is unreadable or lists another namespace's links. */
    public static Optional<LinkSurvey> fromSysfs() {
        return fromSysfs(currentNamespace(), namesHere());
    }

    public Namespace namespace() {
        return namespace;
    }

    /** Where the link types came from, for messages. */
    public String source() {
        return source;
    }

    public List<Link> links() {
        return links;
    }

    /** The links that are up and not {@link Link#inside}. */
    public List<Link> external() {
        return links.stream().filter(l -> l.up && !l.inside(namespace)).toList();
    }

    @Override
    public String toString() {
        return "namespace " + namespace + ", links from " + source + ": " + links;
    }

    // ---- namespace

    static Namespace currentNamespace() {
        Boolean initOnly = Files.isDirectory(INIT_ONLY_SYSCTL.getParent()) ? Files.exists(INIT_ONLY_SYSCTL) : null;
        return namespaceOf(readLink(Path.of("/proc/self/ns/net")), System.getProperty("os.version"), initOnly,
                readLink(Path.of("/proc/1/ns/net")));
    }

    /**
     * Decides from {@code /proc/self/ns/net} ("net:[N]"), the kernel release, whether the
     * initial-namespace-only sysctl is visible (null if /proc/sys/net is not), and
     * {@code /proc/1/ns/net} (null if unreadable, as it is inside {@code unshare --user}).
     */
    static Namespace namespaceOf(String self, String kernelRelease, Boolean initOnlySysctl, String pid1) {
        long inode = inode(self);
        if (inode == INIT_NET_INODE) {
            return Namespace.INITIAL;
        }
        if (inode > 0 && atLeast(kernelRelease, 6, 18)) {
            return Namespace.PRIVATE;
        }
        if (initOnlySysctl != null) {
            return initOnlySysctl ? Namespace.INITIAL : Namespace.PRIVATE;
        }
        if (self != null && pid1 != null) {
            return self.equals(pid1) ? Namespace.INITIAL : Namespace.PRIVATE;
        }
        return Namespace.UNKNOWN;
    }

    private static long inode(String nsLink) {
        if (nsLink == null || !nsLink.startsWith("net:[") || !nsLink.endsWith("]")) {
            return -1;
        }
        try {
            return Long.parseLong(nsLink.substring(5, nsLink.length() - 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static boolean atLeast(String release, int major, int minor) {
        Matcher m = release == null ? null : Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (m == null || !m.find()) {
            return false;
        }
        int ma = Integer.parseInt(m.group(1));
        return ma > major || ma == major && Integer.parseInt(m.group(2)) >= minor;
    }

    private static String readLink(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    // ---- the links this namespace has, by name (all of them, with or without an address)

    /** Names in /proc/self/net/dev, which always lists the reader's namespace; null if unreadable. */
    static Set<String> namesHere() {
        try {
            return parseProcNetDev(Files.readAllLines(PROC_NET_DEV, StandardCharsets.US_ASCII));
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    static Set<String> parseProcNetDev(List<String> lines) {
        Set<String> names = new TreeSet<>();
        for (String line : lines) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.contains("|")) {
                names.add(line.substring(0, colon).trim());
            }
        }
        return names;
    }

    // ---- netlink through ip(8)

    static Optional<LinkSurvey> fromNetlink(Namespace ns, Set<String> names) {
        for (Path ip : ipCandidates()) {
            String out = run(ip);
            if (out != null) {
                List<Link> links = parseIpLinks(out);
                if (!links.isEmpty() && (names == null || names.equals(namesOf(links)))) {
                    return Optional.of(new LinkSurvey(ns, "netlink (" + ip + " -details link show)", links));
                }
            }
        }
        return Optional.empty();
    }

    private static List<Path> ipCandidates() {
        Set<Path> c = new LinkedHashSet<>();
        for (String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin")) {
            c.add(Path.of(dir, "ip"));
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(":")) {
                if (!dir.isEmpty()) {
                    c.add(Path.of(dir, "ip"));
                }
            }
        }
        return c.stream().filter(Files::isExecutable).toList();
    }

    private static String run(Path ip) {
        try {
            ProcessBuilder pb = new ProcessBuilder(ip.toString(), "-details", "-oneline", "link", "show")
                    .redirectError(Redirect.DISCARD).redirectInput(Redirect.PIPE);
            pb.environment().put("LC_ALL", "C");
            Process p = pb.start();
            p.getOutputStream().close();
            // read while it runs (a full pipe would stall it), but never wait on it for long
            CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
                try (InputStream in = p.getInputStream()) {
                    return in.readAllBytes();
                } catch (IOException e) {
                    return null;
                }
            });
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            byte[] bytes = out.get(5, TimeUnit.SECONDS);
            return p.exitValue() == 0 && bytes != null ? new String(bytes, StandardCharsets.UTF_8) : null;
        } catch (IOException | SecurityException | ExecutionException | TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * Parses {@code ip -details -oneline link show}: one line per link, "IDX: NAME[@PEER]: <FLAGS> ...",
     * the lines of the multi-line form joined by backslashes. The link kind opens the line after
     * "link/..." ("veth", "bridge", "tun"); a hardware device has none. "link-netnsid" means the
     * peer is in another namespace.
     */
    static List<Link> parseIpLinks(String output) {
        List<Link> links = new ArrayList<>();
        for (String line : output.split("\n")) {
            Matcher m = IP_LINK_HEAD.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            int index = Integer.parseInt(m.group(1));
            String field = m.group(2);
            String name = field.contains("@") ? field.substring(0, field.indexOf('@')) : field;
            Set<String> flags = Set.of(m.group(3).split(","));
            String[] segments = m.group(4).split("\\\\");
            List<String> first = tokens(segments[0]);
            String master = first.contains("master") && first.indexOf("master") + 1 < first.size()
                    ? first.get(first.indexOf("master") + 1) : null;
            boolean peerElsewhere = false;
            boolean loopback = flags.contains("LOOPBACK");
            String kind = null;
            String parentBus = null;
            for (int i = 0; i < segments.length; i++) {
                List<String> t = tokens(segments[i]);
                peerElsewhere |= t.contains("link-netnsid") || t.contains("link-netns");
                loopback |= !t.isEmpty() && t.get(0).equals("link/loopback");
                if (t.contains("parentbus") && t.indexOf("parentbus") + 1 < t.size()) {
                    parentBus = t.get(t.indexOf("parentbus") + 1);
                }
                if (i >= 2 && kind == null && !t.isEmpty() && !Set.of("altname", "alias", "vf").contains(t.get(0))) {
                    kind = t.get(0);
                }
            }
            boolean up = flags.contains("UP");
            if (loopback) {
                links.add(new Link(name, index, up, Type.LOOPBACK, false, null, "loopback"));
            } else if ("veth".equals(kind)) {
                links.add(new Link(name, index, up, Type.VETH, !peerElsewhere, master, "veth"));
            } else {
                String what = kind != null ? "a link of kind " + kind
                        : "a hardware device" + (parentBus != null ? " (on " + parentBus + ")" : "");
                links.add(new Link(name, index, up, Type.OTHER, false, master, what));
            }
        }
        return links;
    }

    private static List<String> tokens(String s) {
        String t = s.strip();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    // ---- sysfs

    static Optional<LinkSurvey> fromSysfs(Namespace ns, Set<String> names) {
        return readSysfs(SYS_CLASS_NET, names).map(l -> new LinkSurvey(ns, "sysfs (" + SYS_CLASS_NET + ")", l));
    }

    /**
     * Reads {@code classNet} (a /sys/class/net); empty unless its names are exactly {@code names}
     * (the links of this namespace). A veth is told by what sysfs has: an Ethernet link with no
     * hardware device, no DEVTYPE and no tun flags, whose iflink names another such link that
     * names it back: both ends of the pair are here. Sysfs does not tell a veth whose peer is
     * elsewhere from a vlan or macvlan; all of them are OTHER.
     */
    static Optional<List<Link>> readSysfs(Path classNet, Set<String> names) {
        if (names == null) {
            return Optional.empty();
        }
        record Raw(String name, int index, int iflink, int type, int flags, boolean hardware, String driver,
                   String master, String devtype, boolean tun) {
        }
        List<Raw> raws = new ArrayList<>();
        try (Stream<Path> dirs = Files.list(classNet)) {
            for (Path d : dirs.sorted().toList()) {
                String devtype = null;
                for (String u : Files.readAllLines(d.resolve("uevent"), StandardCharsets.US_ASCII)) {
                    if (u.startsWith("DEVTYPE=")) {
                        devtype = u.substring("DEVTYPE=".length());
                    }
                }
                Path driver = d.resolve("device").resolve("driver");
                raws.add(new Raw(d.getFileName().toString(), intIn(d, "ifindex"), intIn(d, "iflink"), intIn(d, "type"),
                        Integer.decode(Files.readString(d.resolve("flags")).strip()), Files.exists(d.resolve("device")),
                        Files.exists(driver) ? driver.toRealPath().getFileName().toString() : null,
                        Files.exists(d.resolve("master")) ? d.resolve("master").toRealPath().getFileName().toString() : null,
                        devtype, Files.exists(d.resolve("tun_flags"))));
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        Set<String> seen = new TreeSet<>();
        raws.forEach(r -> seen.add(r.name()));
        if (!seen.equals(names)) {
            return Optional.empty(); // another namespace's sysfs
        }
        Map<Integer, Raw> byIndex = new HashMap<>();
        raws.forEach(r -> byIndex.put(r.index(), r));
        List<Link> links = new ArrayList<>();
        for (Raw r : raws) {
            boolean up = (r.flags() & IFF_UP) != 0;
            boolean plainVirtualEther = r.type() == ARPHRD_ETHER && !r.hardware() && r.devtype() == null && !r.tun();
            Raw peer = byIndex.get(r.iflink());
            if (r.type() == ARPHRD_LOOPBACK || (r.flags() & IFF_LOOPBACK) != 0) {
                links.add(new Link(r.name(), r.index(), up, Type.LOOPBACK, false, null, "loopback"));
            } else if (plainVirtualEther && r.iflink() != r.index() && peer != null && peer.iflink() == r.index()) {
                links.add(new Link(r.name(), r.index(), up, Type.VETH, true, r.master(), "veth"));
            } else {
                String what = r.hardware() ? "a hardware device" + (r.driver() != null ? " (driver " + r.driver() + ")" : "")
                        : r.tun() ? "a tun/tap link"
                        : r.devtype() != null ? "a link of kind " + r.devtype()
                        : r.iflink() != r.index() ? "a virtual link over a link not in this namespace (a veth whose peer is elsewhere?)"
                        : "a virtual link of type " + r.type();
                links.add(new Link(r.name(), r.index(), up, Type.OTHER, false, r.master(), what));
            }
        }
        return Optional.of(links);
    }

    private static int intIn(Path dir, String file) throws IOException {
        return Integer.parseInt(Files.readString(dir.resolve(file)).strip());
    }

    // ---- java.net

    static LinkSurvey fromJava(Namespace ns, Set<String> names) {
        List<Link> links = new ArrayList<>();
        Set<String> listed = new TreeSet<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                listed.add(ni.getName());
                links.add(ni.isLoopback()
                        ? new Link(ni.getName(), ni.getIndex(), ni.isUp(), Type.LOOPBACK, false, null, "loopback")
                        : new Link(ni.getName(), ni.getIndex(), ni.isUp(), Type.OTHER, false, null,
                                "a link of unknown type (no ip(8), and /sys/class/net is not this namespace's)"));
            }
        } catch (SocketException e) {
            links.add(new Link("(links unreadable: " + e.getMessage() + ")", -1, true, Type.OTHER, false, null,
                    "unreadable"));
        }
        if (names != null) {
            for (String n : names) {
                if (!listed.contains(n)) {
                    // java.net lists only links with an address: state and type unknown, so counted as up
                    links.add(new Link(n, -1, true, Type.OTHER, false, null, "a link of unknown type and state"));
                }
            }
        }
        return new LinkSurvey(ns, "java.net.NetworkInterface", links);
    }

    private static Set<String> namesOf(List<Link> links) {
        Set<String> s = new TreeSet<>();
        links.forEach(l -> s.add(l.name()));
        return s;
    }
}
