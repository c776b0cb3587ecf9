package dev.coterie.proxy;

import dev.coterie.oscore.FeedbackAnswer;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.AddressEndpointContext;

/**
 * Feedback-Divider at the proxy next to the server (multicast-notifications-proxy Section 5,
 * digest 7.5, MNP-07). The option is not Safe-to-Forward: a Coterie proxy with
 * group_observations understands it. In an unprotected multicast notification it is visible, so
 * the proxy answers the server on its own, as an origin client would (observe-multicast-notifications
 * Section 8.2: with probability 2^-Q, after a random part of the Leisure, a NON GET with
 * Observe 0, No-Response 26 and an empty Feedback-Divider to the server's unicast address, for
 * the phantom's resource), and is counted as one client; it removes the option before relaying
 * the notification to any observer. In a protected group observation the option is inner (class
 * E), hidden from the proxy: each origin client answers itself, and the proxy has nothing to
 * protect an answer with, so it never sends one (fail closed); an outer Feedback-Divider there is
 * removed all the same.
 */
final class ProxyFeedback {
    private ProxyFeedback() {
    }

    /**
     * The answer for a group observation whose notifications match {@code phantom} (its options
     * name the resource) and come from {@code server}, or null when the phantom is protected: then
     * the proxy never answers.
     */
    static FeedbackAnswer answer(Request phantom, InetSocketAddress server, int feedbackDivider, int leisureMs) {
        if (phantom.getOptions().hasOscore()) {
            return null;
        }
        Request registration = new Request(phantom.getCode());
        for (Option o : phantom.getOptions().asSortedList()) {
            registration.getOptions().addOption(o);
        }
        registration.setDestinationContext(new AddressEndpointContext(server));
        return new FeedbackAnswer(registration, feedbackDivider, leisureMs, new SecureRandom(), null);
    }
}
