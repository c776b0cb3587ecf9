package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.stack.AbstractLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OSCORE layer of a Californium stack. It sits below the block-wise layer (so blocks set
 * by the application are inner, end-to-end block-wise) and above the reliability layer and the
 * matcher's deduplication, so a retransmitted CON reaches it once and never trips the replay
 * window.
 *
 * <p>Outgoing: the message the upper layers hand down is left untouched; a protected copy goes
 * down, and the copy's transmission events (ACK, timeout, send error, ...) are relayed to it.
 * Incoming: the verified plain message replaces the protected one for the layers above.
 */
public final class OscoreLayer extends AbstractLayer {
    private static final Logger LOG = LoggerFactory.getLogger(OscoreLayer.class);

    private final OscoreProtection protection;
    private final ContextDb serverContexts;
    private final ClientContextBinding clientBinding;
    private final OscoreTrace trace;
    private final boolean echoRetry;

    public OscoreLayer(OscoreProtection protection, ContextDb serverContexts, ClientContextBinding clientBinding,
                       OscoreTrace trace, boolean echoRetry) {
        this.protection = protection;
        this.serverContexts = serverContexts;
        this.clientBinding = clientBinding;
        this.trace = trace;
        this.echoRetry = echoRetry;
    }

    /* ----------------------------------------------------------------- client side */

    @Override
    public void sendRequest(Exchange exchange, Request request) {
        OscoreContext ctx = clientBinding == null ? null : clientBinding.lookup(exchange.getRequest());
        if (ctx == null) {
            refuse(exchange, request, "no OSCORE security context bound to this request; not sent");
            return;
        }
        ProtectedRequest p;
        try {
            p = protection.protectRequest(request, ctx);
        } catch (OscoreException e) {
            refuse(exchange, request, e.getMessage());
            return;
        }
        sendProtected(exchange, request, p);
    }

    private void sendProtected(Exchange exchange, Request request, ProtectedRequest p) {
        TransmissionRelay.link(p, request);
        super.sendRequest(exchange, p);
        if (request.getToken() == null && p.getToken() != null) {
            request.setToken(p.getToken());
        }
        if (trace != null) {
            trace.onMessage(OscoreTrace.Event.REQUEST_PROTECTED, request, p, p.binding().context(), null);
        }
    }

    private void refuse(Exchange exchange, Request request, String why) {
        LOG.warn("refusing to send {} {}: {}", request.getCode(), request.getURI(), why);
        request.setSendError(new OscoreSendRefusedException(why));
        exchange.executeComplete();
    }

    @Override
    public void receiveResponse(Exchange exchange, Response response) {
        Request current = exchange.getCurrentRequest();
        if (!(current instanceof ProtectedRequest p)) {
            LOG.debug("dropping response to a request this layer did not protect ({})", current == null ? null : current.getClass());
            return;
        }
        if (response.isDuplicate()) {
            return;
        }
        if (!response.getOptions().hasOscore()) {
            if (response.isError()) {
                // an OSCORE error (digest table 1.6) is unprotected by design; the application sees it as such
                LOG.debug("unprotected error response {} to a protected request", response.getCode());
                if (trace != null) {
                    trace.onMessage(OscoreTrace.Event.RESPONSE_VERIFIED, response, response, p.binding().context(),
                            "unprotected error response");
                }
                super.receiveResponse(exchange, response);
            } else {
                LOG.debug("dropping unprotected {} response to a protected request", response.getCode());
            }
            return;
        }
        Response plain;
        try {
            plain = protection.verifyResponse(response, p.binding());
        } catch (OscoreException e) {
            LOG.debug("dropping response that failed OSCORE verification: {}", e.getMessage());
            if (trace != null) {
                trace.onMessage(OscoreTrace.Event.REJECTED, null, response, p.binding().context(), e.getMessage());
            }
            return;
        }
        if (response.getApplicationRttNanos() != null) {
            plain.setApplicationRttNanos(response.getApplicationRttNanos());
        }
        if (response.getTransmissionRttNanos() != null) {
            plain.setTransmissionRttNanos(response.getTransmissionRttNanos());
        }
        if (trace != null) {
            trace.onMessage(OscoreTrace.Event.RESPONSE_VERIFIED, plain, response, p.binding().context(), null);
        }
        if (echoRetry && plain.getCode() == ResponseCode.UNAUTHORIZED) {
            byte[] echo = echoOf(plain.getOptions());
            if (echo != null && echoOf(p.plain().getOptions()) == null) {
                retryWithEcho(exchange, p, echo);
                return;
            }
        }
        super.receiveResponse(exchange, plain);
    }

    /** RFC 9175 Section 2.4 / RFC 8613 Appendix B.1.2: repeat the request once with the server's Echo value. */
    private void retryWithEcho(Exchange exchange, ProtectedRequest previous, byte[] echo) {
        Request original = previous.plain();
        Request retry = new Request(original.getCode(), original.getType());
        retry.setOptions(new OptionSet(original.getOptions()));
        retry.getOptions().addOption(StandardOptionRegistry.ECHO.create(echo));
        retry.setPayload(original.getPayload());
        retry.setToken(previous.getToken());
        retry.setDestinationContext(previous.getDestinationContext());
        ProtectedRequest p;
        try {
            p = protection.protectRequest(retry, previous.binding().context());
        } catch (OscoreException e) {
            refuse(exchange, original, e.getMessage());
            return;
        }
        LOG.debug("server asked for freshness; repeating the request with its Echo value");
        sendProtected(exchange, original, p);
    }

    /* ----------------------------------------------------------------- server side */

    @Override
    public void receiveRequest(Exchange exchange, Request request) {
        if (serverContexts == null) {
            LOG.debug("ignoring request on a client-only OSCORE endpoint");
            return;
        }
        if (!request.getOptions().hasOscore()) {
            // OSCORE-only resources: 4.01, unprotected (there is no context to protect it with)
            sendError(exchange, request, ResponseCode.UNAUTHORIZED, "OSCORE required");
            return;
        }
        VerifiedRequest verified;
        try {
            verified = protection.verifyRequest(request, serverContexts);
        } catch (OscoreException e) {
            if (trace != null) {
                trace.onMessage(OscoreTrace.Event.REJECTED, null, request, null, e.diagnostic());
            }
            LOG.debug("rejecting request from {}: {}", request.getSourceContext().getPeerAddress(), e.getMessage());
            Response r = OscoreProtection.errorResponse(e, request);
            super.sendResponse(exchange, r);
            return;
        } catch (EchoRequired e) {
            challenge(exchange, request, e);
            return;
        }
        if (trace != null) {
            trace.onMessage(OscoreTrace.Event.REQUEST_VERIFIED, verified, request, verified.binding().context(), null);
        }
        exchange.setRequest(verified);
        exchange.setCurrentRequest(verified);
        super.receiveRequest(exchange, verified);
    }

    private void challenge(Exchange exchange, Request request, EchoRequired e) {
        Response r = OscoreProtection.echoChallenge(request, e.echo());
        try {
            Response p = protection.protectResponse(r, e.binding(), false);
            super.sendResponse(exchange, p);
            if (trace != null) {
                trace.onMessage(OscoreTrace.Event.RESPONSE_PROTECTED, r, p, e.binding().context(),
                        "replay window not initialised: Echo challenge (RFC 8613 Appendix B.1.2)");
            }
        } catch (OscoreException ex) {
            LOG.warn("cannot protect Echo challenge: {}", ex.getMessage());
            exchange.executeComplete();
        }
    }

    private void sendError(Exchange exchange, Request request, ResponseCode code, String diagnostic) {
        super.sendResponse(exchange, OscoreProtection.unprotectedError(request, code, diagnostic));
    }

    @Override
    public void sendResponse(Exchange exchange, Response response) {
        RequestBinding binding = bindingOf(exchange);
        if (binding == null) {
            // fail closed: no context means this response would go out in plaintext
            LOG.warn("refusing to send unprotected {} response", response.getCode());
            response.setSendError(new OscoreSendRefusedException("no OSCORE binding for this response"));
            exchange.executeComplete();
            return;
        }
        Response p;
        try {
            p = protection.protectResponse(response, binding, false);
        } catch (OscoreException e) {
            LOG.warn("cannot protect response: {}", e.getMessage());
            response.setSendError(new OscoreSendRefusedException(e.getMessage()));
            exchange.executeComplete();
            return;
        }
        TransmissionRelay.link(p, response);
        super.sendResponse(exchange, p);
        if (trace != null) {
            trace.onMessage(OscoreTrace.Event.RESPONSE_PROTECTED, response, p, binding.context(), null);
        }
    }

    private static RequestBinding bindingOf(Exchange exchange) {
        if (exchange.getCurrentRequest() instanceof VerifiedRequest v) {
            return v.binding();
        }
        if (exchange.getRequest() instanceof VerifiedRequest v) {
            return v.binding();
        }
        return null;
    }

    private static byte[] echoOf(OptionSet options) {
        for (Option o : options.getOthers()) {
            if (o.getNumber() == StandardOptionRegistry.ECHO.getNumber()) {
                return o.getValue();
            }
        }
        return null;
    }

}
