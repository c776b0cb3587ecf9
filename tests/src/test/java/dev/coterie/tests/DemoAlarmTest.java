package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.Coterie;
import org.junit.jupiter.api.Test;

/**
 * Part 5 of {@code coterie demo} (issue 9's demo) in a private network namespace: eight panels
 * observe the fire alarm through the proxy, the server counts one observer, each change is one
 * multicast datagram from the server and reaches every panel.
 */
class DemoAlarmTest {
    @Test
    void theAlarmDemo_oneDatagramPerChange_everyPanelNotified() throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, Coterie.class, 120, "demo-alarm");
        String out = r.out();
        System.out.println(out);
        assertEquals(0, r.status(), out);
        assertTrue(out.contains("=> every panel has \"quiet\", the server counts 1 observer (the proxy)"), out);
        assertTrue(out.contains("=> every panel got \"FIRE\" and then \"quiet\""), out);
        assertTrue(out.contains("Alarm summary: 2 notifications sent by the server (multicast), 2 received by the proxy, 24 "
                + "delivered to 8 panels (the first from last_notif), 1 registration at the server, 0 unexpected result(s)"), out);
    }
}
