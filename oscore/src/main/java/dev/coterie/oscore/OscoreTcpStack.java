package dev.coterie.oscore;

import org.eclipse.californium.core.network.Outbox;
import org.eclipse.californium.core.network.stack.BaseCoapStack;
import org.eclipse.californium.core.network.stack.BlockwiseLayer;
import org.eclipse.californium.core.network.stack.Layer;
import org.eclipse.californium.core.network.stack.TcpAdaptionLayer;
import org.eclipse.californium.core.network.stack.TcpExchangeCleanupLayer;
import org.eclipse.californium.core.network.stack.TcpObserveLayer;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Californium's TCP stack (CoapTcpStack) with the OSCORE layer under the block-wise layer:
 * exchange clean-up, Observe (reliable transport: no CON notifications), block-wise (inner, end
 * to end, never BERT: SZX 0-6 only), OSCORE, TCP adaption. There is no Type, Message ID or
 * reliability layer on a reliable transport (RFC 8323 Section 3, RFC 8613 Section 4.2), and no
 * outer block-wise: a protected message must fit the peer's Max-Message-Size.
 */
public final class OscoreTcpStack extends BaseCoapStack {

    /** @param security the OSCORE layer */
    public OscoreTcpStack(String tag, Configuration config, Outbox outbox, Layer security) {
        super(outbox);
        Layer[] layers = {
            new TcpExchangeCleanupLayer(),
            new TcpObserveLayer(config),
            // no BERT whatever the configuration says (TcpConnectors.noBert): Californium would use it for every peer
            new BlockwiseLayer(tag, true, dev.coterie.oscore.tcp.TcpConnectors.noBert(new Configuration(config))),
            security,
            new TcpAdaptionLayer()
        };
        setLayers(layers);
    }
}
