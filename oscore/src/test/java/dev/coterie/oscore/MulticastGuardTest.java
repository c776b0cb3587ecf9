package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.LinkSurvey.Link;
import dev.coterie.oscore.LinkSurvey.Namespace;
import dev.coterie.oscore.LinkSurvey.Type;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard on this machine's own network (the test JVM is in no namespace it made) and on given surveys. */
class MulticastGuardTest {
    private static final Link LO = new Link("lo", 1, true, Type.LOOPBACK, false, null, "loopback");
    private static final Link MC0 = new Link("mc0", 3, true, Type.VETH, true, null, "veth");
    private static final Link MC1 = new Link("mc1", 2, true, Type.VETH, true, null, "veth");

    @AfterEach
    void clearOptIn() {
        System.clearProperty(MulticastGuard.OPT_IN);
    }

    private static InetAddress group() throws Exception {
        return InetAddress.getByName("224.0.1.187");
    }

    @Test
    void multicastIsRefusedOnThisHostWithoutTheOptIn() throws Exception {
        assertNull(System.getenv(MulticastGuard.OPT_IN), "unset " + MulticastGuard.OPT_IN + " to run this test");
        List<String> external = MulticastGuard.externalInterfaces();
        assertTrue(!external.isEmpty(), "expected this host to have a real network link");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MulticastGuard.check(group()));
        String m = e.getMessage();
        for (String name : external) {
            assertTrue(m.contains(name + " is up and is "), m);
        }
        assertTrue(m.contains("outside a private namespace") && m.contains("unshare --user --map-root-user --net")
                && m.contains(MulticastGuard.OPT_IN + "=allow"), m);
    }

    @Test
    void theOptInPropertyLetsMulticastOntoThisHostsNetwork() {
        System.setProperty(MulticastGuard.OPT_IN, "allow");
        assertDoesNotThrow(() -> MulticastGuard.check(group()));
    }

    @Test
    void anOptInOtherThanAllowIsRefusedAndNamed() {
        assertNull(System.getenv(MulticastGuard.OPT_IN), "unset " + MulticastGuard.OPT_IN + " to run this test");
        System.setProperty(MulticastGuard.OPT_IN, "yes");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MulticastGuard.check(group()));
        assertTrue(e.getMessage().contains("it is set to 'yes', which is not 'allow'"), e.getMessage());
    }

    @Test
    void unicastIsNotTheGuardsBusiness() {
        assertDoesNotThrow(() -> MulticastGuard.check(InetAddress.getByName("192.0.2.1")));
    }

    @Test
    void aVethPairNamedMc0Mc1InAPrivateNamespaceIsAllowed() throws Exception {
        MulticastGuard.check(group(), new LinkSurvey(Namespace.PRIVATE, "test", List.of(LO, MC0, MC1)), null);
    }

    @Test
    void theSameVethPairInTheInitialNamespaceIsRefused() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MulticastGuard.check(group(),
                new LinkSurvey(Namespace.INITIAL, "test", List.of(LO, MC0, MC1)), null));
        assertTrue(e.getMessage().contains("mc0 is up and is a veth in the machine's initial network namespace"), e.getMessage());
    }

    @Test
    void aLinkThatIsDownDoesNotCount() throws Exception {
        Link eth0Down = new Link("eth0", 4, false, Type.OTHER, false, null, "a hardware device");
        MulticastGuard.check(group(), new LinkSurvey(Namespace.PRIVATE, "test", List.of(LO, MC0, MC1, eth0Down)), null);
        Link eth0 = new Link("eth0", 4, true, Type.OTHER, false, null, "a hardware device");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MulticastGuard.check(group(),
                new LinkSurvey(Namespace.PRIVATE, "test", List.of(LO, MC0, MC1, eth0)), null));
        assertTrue(e.getMessage().contains("eth0 is up and is a hardware device"), e.getMessage());
    }
}
