package dev.coterie.oscore.tcp;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.observe.ObserveRelation;
import org.eclipse.californium.core.server.MessageDeliverer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends a server's observations with the TCP/TLS connection they came on (RFC 8323 Section 7.2:
 * all observations of a connection die with it; TCP-08). Californium 3.13 keeps an
 * {@link ObserveRelation} after its connection closed until a later notification fails to go
 * out, if ever. Install {@link #deliverer} on the {@code CoapServer} and give
 * {@link #connectionClosed} to the TCP connectors ({@link TcpConnectors#server(InetSocketAddress,
 * org.eclipse.californium.elements.config.Configuration, TcpLimits, TcpObservations)}): each
 * relation established through a TCP endpoint is remembered under the endpoint's local port and
 * the peer's address, and cancelled (removed from its resource and the observe manager) when
 * that connection closes. Relations ended earlier (deregistration, an error notification) are
 * dropped from the record the next time it is touched.
 */
public final class TcpObservations {
    private static final Logger LOG = LoggerFactory.getLogger(TcpObservations.class);

    private final Map<String, Set<ObserveRelation>> byConnection = new ConcurrentHashMap<>();

    private static String key(int localPort, InetSocketAddress peer) {
        return localPort + "|" + peer;
    }

    /** {@code inner} (the server's own deliverer) remembering the observations of TCP exchanges. */
    public MessageDeliverer deliverer(MessageDeliverer inner) {
        return new MessageDeliverer() {
            @Override
            public void deliverRequest(Exchange exchange) {
                inner.deliverRequest(exchange); // the relation, if any, is made before the resource answers
                remember(exchange);
            }

            @Override
            public void deliverResponse(Exchange exchange, Response response) {
                inner.deliverResponse(exchange, response);
            }
        };
    }

    /**
     * Remembers the observation of {@code exchange}, if it has one and came through a TCP
     * endpoint: for a deliverer that makes relations later than {@link #deliverer} sees (the
     * proxy attaches an observer when the first notification arrives).
     */
    public void remember(Exchange exchange) {
        ObserveRelation relation = exchange.getRelation();
        if (relation != null && exchange.getEndpoint() != null
                && org.eclipse.californium.core.coap.CoAP.isTcpScheme(exchange.getEndpoint().getUri().getScheme())) {
            Set<ObserveRelation> set = byConnection.computeIfAbsent(
                    key(exchange.getEndpoint().getAddress().getPort(), relation.getSource()), k -> ConcurrentHashMap.newKeySet());
            set.removeIf(ObserveRelation::isCanceled);
            set.add(relation);
        }
    }

    /** The connection from {@code peer} to local port {@code localPort} closed: its observations end. */
    public void connectionClosed(int localPort, InetSocketAddress peer) {
        Set<ObserveRelation> set = byConnection.remove(key(localPort, peer));
        if (set == null) {
            return;
        }
        int n = 0;
        for (ObserveRelation r : set) {
            if (!r.isCanceled()) {
                r.cancel();
                n++;
            }
        }
        if (n > 0) {
            LOG.debug("{}: connection closed, {} observation(s) ended", peer, n);
        }
    }

    /** Connections with a remembered observation (for tests and bounds). */
    public int connections() {
        return byConnection.size();
    }
}
