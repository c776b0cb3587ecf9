package dev.coterie.tests;

import dev.coterie.oscore.OscoreEndpointBuilder;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;

/** The Californium settings of the end-to-end tests (those of the coterie command). */
final class TestConfig {
    private TestConfig() {
    }

    static Configuration standard() {
        Configuration c = OscoreEndpointBuilder.defaultConfiguration();
        c.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 512);
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 1024);
        return c;
    }
}
