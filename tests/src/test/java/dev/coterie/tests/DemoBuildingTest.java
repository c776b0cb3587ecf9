package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.Coterie;
import org.junit.jupiter.api.Test;

/**
 * The building part of {@code coterie demo} (ARCHITECTURE.md's main job, issue 8's demo) in a
 * private network namespace: the wall switch's one request reaches every lamp, each answer comes
 * back with its Reply-From and verifies end to end; the second reader's deterministic read is
 * served from the proxy's cache alone; the unlisted device is denied; the HTTP client's Group
 * OSCORE request crosses the front end and every sensor's part verifies end to end.
 */
class DemoBuildingTest {
    @Test
    void theBuildingDemo_switchesEveryLamp_servesTheSecondReadFromTheCache_deniesTheIntruder_readsOverHttp() throws Exception {
        PrivateNetwork.Result r = PrivateNetwork.run(PrivateNetwork.IPV4, Coterie.class, 120, "demo-building");
        String out = r.out();
        System.out.println(out);
        assertEquals(0, r.status(), out);
        for (int lamp = 2; lamp <= 4; lamp++) {
            assertTrue(out.contains("|<-- 2.04 CHANGED \"on\", Reply-From coap://127.0.0.1:570" + lamp + "\n      |        member 0"
                    + lamp + " (group mode), verified end to end"), out);
        }
        for (int sensor = 2; sensor <= 4; sensor++) {
            assertTrue(out.contains("Reply-From coap://127.0.0.1:571" + sensor + ", Group-ETag "), "reader B from the cache:\n" + out);
        }
        assertTrue(out.contains("=> served from the cache alone: no multicast for reader B"), out);
        assertTrue(out.contains("|<-- 4.01 UNAUTHORIZED \"Forwarding not authorised\""), out);
        assertTrue(out.contains("=> denied: 4.01 from the proxy, nothing multicast"), out);
        for (int sensor = 2; sensor <= 4; sensor++) {
            assertTrue(out.contains("|<-- part: 2.05 CONTENT \"2"), out);
            assertTrue(out.contains("Reply-From coap://127.0.0.1:571" + sensor + "\n      |        member 0" + (sensor + 2)
                    + " (group mode), verified end to end"), "the hall panel over HTTP:\n" + out);
        }
        assertTrue(out.contains("|<-- HTTP 200 multipart/mixed; boundary="), out);
        assertTrue(out.contains("=> 3 parts of one multipart/mixed answer, each verified end to end"), out);
        assertTrue(out.contains("5 group requests at the proxy (1 over HTTP), 3 multicast, 1 served from its cache, 12 responses "
                + "relayed"), out);
        assertTrue(out.contains(" 0 unexpected result(s)"), out);
    }
}
