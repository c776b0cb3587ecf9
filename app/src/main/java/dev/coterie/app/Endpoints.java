package dev.coterie.app;

import java.net.InetSocketAddress;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.Configuration;

/** Californium settings shared by the commands. */
final class Endpoints {
    private Endpoints() {
    }

    static Configuration configuration() {
        Configuration c = dev.coterie.oscore.OscoreEndpointBuilder.defaultConfiguration();
        c.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        c.set(CoapConfig.PREFERRED_BLOCK_SIZE, 512);
        c.set(CoapConfig.MAX_MESSAGE_SIZE, 1024);
        return c;
    }

    static InetSocketAddress parse(String addr) {
        int i = addr.lastIndexOf(':');
        if (i < 0) {
            throw new IllegalArgumentException("expected ADDR:PORT, got " + addr);
        }
        String host = addr.substring(0, i);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, Integer.parseInt(addr.substring(i + 1)));
    }
}
