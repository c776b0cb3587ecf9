package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.LinkSurvey.Link;
import dev.coterie.oscore.LinkSurvey.Namespace;
import dev.coterie.oscore.LinkSurvey.Type;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How {@link LinkSurvey} tells loopback and veth links from the rest, and a private namespace from the initial one. */
class LinkSurveyTest {

    private static String resource(String name) throws IOException {
        try (InputStream in = LinkSurveyTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, Link> byName(List<Link> links) {
        return links.stream().collect(Collectors.toMap(Link::name, Function.identity(), (a, b) -> a, TreeMap::new));
    }

    private static Set<String> names(List<Link> links) {
        return links.stream().map(Link::name).collect(Collectors.toCollection(TreeSet::new));
    }

    /** ip -d -o link of a namespace with a veth pair mc0/mc1, a bridge with a veth in it, a tap, and a veth whose peer was moved out. */
    @Test
    void ipLinkOutputTellsVethPairsByKindNotByName() throws IOException {
        Map<String, Link> l = byName(LinkSurvey.parseIpLinks(resource("ip-link-namespace.txt")));
        assertEquals(Set.of("lo", "mc0", "mc1", "vb0", "vb1", "br0", "tap0", "out0"), l.keySet());
        assertEquals(Type.LOOPBACK, l.get("lo").type());
        for (String pair : List.of("mc0", "mc1")) {
            assertEquals(Type.VETH, l.get(pair).type(), pair);
            assertTrue(l.get(pair).peerHere() && l.get(pair).up() && l.get(pair).master() == null, l.get(pair).toString());
        }
        assertEquals("br0", l.get("vb1").master());
        assertEquals(Type.OTHER, l.get("br0").type());
        assertEquals("a link of kind bridge", l.get("br0").detail());
        assertEquals("a link of kind tun", l.get("tap0").detail());
        assertTrue(l.get("tap0").up(), "IFF_UP counts, carrier or not");
        assertEquals(Type.VETH, l.get("out0").type());
        assertFalse(l.get("out0").peerHere(), "link-netnsid: the peer is in another namespace");
        assertEquals(2, l.get("mc1").index());
    }

    @Test
    void inAPrivateNamespaceOnlyLoopbackAndVethPairsWithBothEndsHereAreInside() throws IOException {
        LinkSurvey s = new LinkSurvey(Namespace.PRIVATE, "test", LinkSurvey.parseIpLinks(resource("ip-link-namespace.txt")));
        assertEquals(Set.of("vb1", "br0", "tap0", "out0"), names(s.external()));
        Map<String, Link> l = byName(s.links());
        assertEquals("a veth whose peer is in another network namespace", l.get("out0").why(Namespace.PRIVATE));
        assertEquals("a veth enslaved to br0", l.get("vb1").why(Namespace.PRIVATE));
    }

    @Test
    void aVethPairIsInsideInAPrivateNamespaceOnly() throws IOException {
        Link mc0 = byName(LinkSurvey.parseIpLinks(resource("ip-link-namespace.txt"))).get("mc0");
        assertTrue(mc0.inside(Namespace.PRIVATE));
        assertFalse(mc0.inside(Namespace.INITIAL));
        assertFalse(mc0.inside(Namespace.UNKNOWN));
        assertEquals("a veth in the machine's initial network namespace", mc0.why(Namespace.INITIAL));
    }

    /** ip -d -o link of this machine's own namespace: lo, two ifb links that are down, and a virtio NIC. */
    @Test
    void ipLinkOutputOfAHostMakesItsNicExternalAndIgnoresLinksThatAreDown() throws IOException {
        LinkSurvey s = new LinkSurvey(Namespace.INITIAL, "test", LinkSurvey.parseIpLinks(resource("ip-link-host.txt")));
        assertEquals(List.of("eth0"), s.external().stream().map(Link::name).toList());
        assertEquals("a hardware device (on virtio)", s.external().get(0).detail());
        assertFalse(byName(s.links()).get("ifb0").up());
    }

    /** A /sys/class/net laid out as the kernel does, with the files the survey reads. */
    private static Path sysfs(Path root) throws IOException {
        Path net = Files.createDirectories(root.resolve("class/net"));
        link(net, "lo", 1, 1, 772, "0x9", null);
        link(net, "mc1", 2, 3, 1, "0x1003", null);
        link(net, "mc0", 3, 2, 1, "0x1003", null);
        Path eth0 = link(net, "eth0", 4, 4, 1, "0x1003", null);
        Path driver = Files.createDirectories(root.resolve("bus/virtio/drivers/virtio_net"));
        Path device = Files.createDirectories(root.resolve("devices/virtio2"));
        Files.createSymbolicLink(device.resolve("driver"), driver);
        Files.createSymbolicLink(eth0.resolve("device"), device);
        Path br0 = link(net, "br0", 5, 5, 1, "0x1003", "DEVTYPE=bridge");
        Path vb1 = link(net, "vb1", 6, 7, 1, "0x1003", null);
        Files.createSymbolicLink(vb1.resolve("master"), br0);
        link(net, "vb0", 7, 6, 1, "0x1003", null);
        Files.writeString(link(net, "tap0", 8, 8, 1, "0x1003", null).resolve("tun_flags"), "0x1002\n");
        link(net, "out0", 9, 4, 1, "0x1003", null); // its peer is ifindex 4 of another namespace
        link(net, "ifb0", 10, 10, 1, "0x82", null);
        return net;
    }

    private static Path link(Path net, String name, int index, int iflink, int type, String flags, String devtype) throws IOException {
        Path d = Files.createDirectories(net.resolve(name));
        Files.writeString(d.resolve("ifindex"), index + "\n");
        Files.writeString(d.resolve("iflink"), iflink + "\n");
        Files.writeString(d.resolve("type"), type + "\n");
        Files.writeString(d.resolve("flags"), flags + "\n");
        Files.writeString(d.resolve("uevent"), (devtype != null ? devtype + "\n" : "") + "INTERFACE=" + name + "\nIFINDEX=" + index + "\n");
        return d;
    }

    private static final Set<String> SYSFS_NAMES = Set.of("lo", "mc0", "mc1", "eth0", "br0", "vb0", "vb1", "tap0", "out0", "ifb0");

    @Test
    void sysfsOfThisNamespaceTellsAVethPairByItsMutualIflink(@TempDir Path root) throws IOException {
        Optional<List<Link>> read = LinkSurvey.readSysfs(sysfs(root), SYSFS_NAMES);
        assertTrue(read.isPresent());
        Map<String, Link> l = byName(read.get());
        assertEquals(Type.LOOPBACK, l.get("lo").type());
        assertEquals(Type.VETH, l.get("mc0").type());
        assertEquals(Type.VETH, l.get("mc1").type());
        assertEquals("a hardware device (driver virtio_net)", l.get("eth0").detail());
        assertEquals("a link of kind bridge", l.get("br0").detail());
        assertEquals("a tun/tap link", l.get("tap0").detail());
        assertEquals(Type.OTHER, l.get("out0").type(), "iflink 4 is eth0 here, which does not point back");
        assertEquals("br0", l.get("vb1").master());
        LinkSurvey s = new LinkSurvey(Namespace.PRIVATE, "test", read.get());
        assertEquals(Set.of("eth0", "br0", "vb1", "tap0", "out0"), names(s.external()));
    }

    /** Inside unshare --net without a fresh sysfs mount, /sys/class/net lists the host's links. */
    @Test
    void sysfsListingOtherLinksThanThisNamespaceIsNotUsed(@TempDir Path root) throws IOException {
        Path net = sysfs(root);
        assertEquals(Optional.empty(), LinkSurvey.readSysfs(net, Set.of("lo", "mc0", "mc1")));
        assertEquals(Optional.empty(), LinkSurvey.readSysfs(net, null));
    }

    @Test
    void procNetDevNamesEveryLink() {
        assertEquals(Set.of("lo", "mc0", "mc1"), LinkSurvey.parseProcNetDev(List.of(
                "Inter-|   Receive                            |  Transmit",
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets",
                "    lo:       0       0    0    0    0     0          0         0        0       0",
                "   mc1:       0       0    0    0    0     0          0         0        0       0",
                "   mc0:    1234       9    0    0    0     0          0         0        0       0")));
    }

    @Test
    void namespaceIsToldByTheFixedInitialInodeThenTheInitOnlySysctlThenPid1() {
        String init = "net:[" + LinkSurvey.INIT_NET_INODE + "]";
        String other = "net:[4026532179]";
        assertEquals(Namespace.INITIAL, LinkSurvey.namespaceOf(init, "6.18.44-fc", true, null));
        assertEquals(Namespace.INITIAL, LinkSurvey.namespaceOf(init, "5.15.0", false, null), "a backported fixed inode counts");
        assertEquals(Namespace.PRIVATE, LinkSurvey.namespaceOf(other, "6.18.44-fc", true, null), "from 6.18 the inode decides");
        assertEquals(Namespace.PRIVATE, LinkSurvey.namespaceOf(other, "7.1.0", null, null));
        assertEquals(Namespace.INITIAL, LinkSurvey.namespaceOf("net:[4026531992]", "5.15.0-91-generic", true, null));
        assertEquals(Namespace.PRIVATE, LinkSurvey.namespaceOf(other, "5.15.0", false, null));
        assertEquals(Namespace.INITIAL, LinkSurvey.namespaceOf(other, "5.15.0", null, other));
        assertEquals(Namespace.PRIVATE, LinkSurvey.namespaceOf(other, "5.15.0", null, "net:[4026531992]"));
        assertEquals(Namespace.UNKNOWN, LinkSurvey.namespaceOf(other, "5.15.0", null, null));
        assertEquals(Namespace.UNKNOWN, LinkSurvey.namespaceOf(null, "6.18.0", null, null));
    }

    /** The sysctl fallback that older kernels rely on gives the same answer as the fixed inode, here. */
    @Test
    void theInitOnlySysctlAgreesWithTheFixedInodeOnThisKernel() throws IOException {
        Assumptions.assumeTrue(LinkSurvey.atLeast(System.getProperty("os.version"), 6, 18), "needs Linux 6.18 or later");
        String self = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        boolean initial = self.equals("net:[" + LinkSurvey.INIT_NET_INODE + "]");
        assertEquals(initial, Files.exists(LinkSurvey.INIT_ONLY_SYSCTL), self);
        assertEquals(initial ? Namespace.INITIAL : Namespace.PRIVATE, LinkSurvey.currentNamespace());
    }

    /**
     * This machine's own links (the test JVM runs outside any namespace it made): loopback is
     * inside, at least one link is a real network, and netlink and sysfs, which here both
     * describe this namespace, agree on every link.
     */
    @Test
    void thisHostsOwnLinksAreClassifiedAndItsNetworkIsExternal() {
        LinkSurvey s = LinkSurvey.ofThisProcess();
        System.out.println(s);
        assertFalse(s.external().isEmpty(), "expected this host to have a real network link: " + s);
        for (Link l : s.external()) {
            assertTrue(l.up() && !l.why(s.namespace()).isBlank(), l.toString());
        }
        Link lo = byName(s.links()).get("lo");
        assertTrue(lo != null && lo.type() == Type.LOOPBACK && lo.inside(s.namespace()), s.toString());
        Optional<LinkSurvey> netlink = LinkSurvey.fromNetlink();
        Optional<LinkSurvey> sysfs = LinkSurvey.fromSysfs();
        assertTrue(netlink.isPresent(), "ip(8) is expected on this host");
        assertTrue(sysfs.isPresent(), "this host's /sys/class/net is expected to be its own");
        assertEquals(verdicts(netlink.get()), verdicts(sysfs.get()));
    }

    private static Map<String, String> verdicts(LinkSurvey s) {
        Map<String, String> m = new TreeMap<>();
        for (Link l : s.links()) {
            m.put(l.name(), l.up() + "/" + (l.type() == Type.LOOPBACK) + "/" + l.inside(s.namespace()));
        }
        return m;
    }
}
