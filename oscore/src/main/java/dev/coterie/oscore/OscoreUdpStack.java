package dev.coterie.oscore;

import org.eclipse.californium.core.network.Outbox;
import org.eclipse.californium.core.network.stack.BaseCoapStack;
import org.eclipse.californium.core.network.stack.BlockwiseLayer;
import org.eclipse.californium.core.network.stack.CongestionControlLayer;
import org.eclipse.californium.core.network.stack.ExchangeCleanupLayer;
import org.eclipse.californium.core.network.stack.Layer;
import org.eclipse.californium.core.network.stack.ObserveLayer;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Californium's UDP stack with the OSCORE layer between two block-wise layers: exchange
 * clean-up, Observe, block-wise (inner, end to end: Californium's, on plain messages), OSCORE,
 * outer block-wise (hop by hop, on protected messages: {@link OuterBlockwiseLayer}, RFC 8613
 * Section 4.1.3.4.2), reliability. The matcher's deduplication runs below all of them.
 */
public final class OscoreUdpStack extends BaseCoapStack {

    /** @param security the OSCORE layer, or the Group OSCORE layer */
    public OscoreUdpStack(String tag, Configuration config, Outbox outbox, Layer security) {
        super(outbox);
        Layer[] layers = {
            new ExchangeCleanupLayer(config),
            new ObserveLayer(config),
            new BlockwiseLayer(tag, false, config),
            security,
            new OuterBlockwiseLayer(config),
            CongestionControlLayer.newImplementation(tag, config)
        };
        setLayers(layers);
    }
}
