package dev.coterie.proxy;

import dev.coterie.oscore.SecurityTrace;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.interceptors.MessageInterceptor;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;

/**
 * Requests to origins that await their answer, by the Token the proxy gave them, so that an
 * answer the upstream endpoint throws away is remembered: the exchange goes on (RFC 8613 Section
 * 8.4: a forged datagram must not end it), and if no usable answer follows, the client gets 5.02
 * Bad Gateway with the reason (RFC 7252 Section 5.7.1: a response the proxy cannot process)
 * instead of a 5.04 when the upstream timeout runs out. Three kinds are thrown away below the forwarder:
 * <ul>
 * <li>a response that failed OSCORE verification on an origin hop: the OSCORE layer drops it
 * (RFC 8613 Section 8.4) and reports it as {@link SecurityTrace.Event#REJECTED};
 * <li>a response without OSCORE and not an error, to a request protected for the origin: the
 * layer drops it too, without a trace, so {@link #unprotectedResponses()} watches the wire;
 * <li>a response that could not be parsed: Californium discards it, and the upstream parser
 * reports its Token ({@link dev.coterie.oscore.ResponseParsing}).
 * </ul>
 * A response counts only when it comes from the origin the request went to (verification
 * failures and unprotected answers are checked against the source address); a datagram too
 * malformed to parse is matched by its Token alone, which is 8 random bytes.
 */
final class UpstreamFailures implements SecurityTrace {
    static final String FAILED_VERIFICATION = "origin response failed OSCORE verification";
    static final String UNPROTECTED = "origin response without OSCORE";
    static final String MALFORMED = "malformed origin response";

    private record Watch(InetSocketAddress origin, Consumer<String> fail) {
    }

    private final ConcurrentHashMap<Token, Watch> waiting = new ConcurrentHashMap<>();

    /** Until {@link #forget}: an unusable answer on {@code token} from {@code origin} calls {@code fail} once, with why. */
    void watch(Token token, InetSocketAddress origin, Consumer<String> fail) {
        waiting.put(token, new Watch(origin, fail));
    }

    void forget(Token token) {
        if (token != null) {
            waiting.remove(token);
        }
    }

    /** Requests watched (for tests: none may stay once answered). */
    int size() {
        return waiting.size();
    }

    /** The upstream parser's report: a response on {@code token} could not be parsed. */
    void malformed(Token token) {
        fail(token, null, MALFORMED);
    }

    @Override
    public void onMessage(Event event, Message plain, Message onWire, Info info) {
        if (event == Event.REJECTED && onWire instanceof Response r) {
            fail(r.getToken(), source(r), FAILED_VERIFICATION);
        }
    }

    /**
     * For the OSCORE upstream endpoint: a response that carries no OSCORE option and is not an
     * error is dropped by the OSCORE layer (an unprotected error is delivered, marked, and the
     * forwarder refuses it itself).
     */
    MessageInterceptor unprotectedResponses() {
        return new MessageInterceptorAdapter() {
            @Override
            public void receiveResponse(Response response) {
                // 2.31 Continue is outer block-wise's own hop-by-hop answer, unprotected by design (RFC 8613 4.1.3.4.2)
                if (!response.getOptions().hasOscore() && !response.isError() && response.getToken() != null
                        && response.getCode() != org.eclipse.californium.core.coap.CoAP.ResponseCode.CONTINUE) {
                    fail(response.getToken(), source(response), UNPROTECTED);
                }
            }
        };
    }

    private void fail(Token token, InetSocketAddress from, String why) {
        if (token == null) {
            return;
        }
        Watch w = waiting.get(token);
        if (w == null || (from != null && !w.origin().equals(from))) {
            return;
        }
        if (waiting.remove(token, w)) {
            w.fail().accept(why);
        }
    }

    private static InetSocketAddress source(Message m) {
        return m.getSourceContext() == null ? null : m.getSourceContext().getPeerAddress();
    }
}
