package dev.coterie.tests;

import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;

final class TestConfig {
    static {
        CoapConfig.register();
        UdpConfig.register();
    }

    private TestConfig() {
    }

    static Configuration standard() {
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 512);
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 1024);
        return c;
    }
}
