package dev.coterie.grouposcore;

import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreProtection;
import dev.coterie.oscore.OscoreSendRefusedException;
import dev.coterie.oscore.TransmissionRelay;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.stack.AbstractLayer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Group OSCORE layer of a Californium stack, in the place of the OSCORE layer (between
 * block-wise and reliability). A client sends group-mode requests to the group (NON,
 * multicast) or pairwise requests to one member, and verifies every response, each tagged with
 * its sender ({@link GroupResponse}). A server verifies, answers in the mode its policy picks,
 * and stays silent towards group requests that fail (GRP-27, table 2.9).
 */
public final class GroupOscoreLayer extends AbstractLayer {
    private static final Logger LOG = LoggerFactory.getLogger(GroupOscoreLayer.class);

    /** How a server answers a group-mode request. */
    public enum ResponseModePolicy { SAME_AS_REQUEST, PAIRWISE_WHEN_POSSIBLE }

    private final GroupProtection protection;
    private final GroupContextDb serverGroups;
    private final GroupClientBinding clientBinding;
    private final GroupContextDb clientEpochs;
    private final ResponseModePolicy policy;
    private final GroupTrace trace;

    public GroupOscoreLayer(GroupProtection protection, GroupContextDb serverGroups, GroupClientBinding clientBinding,
                            GroupContextDb clientEpochs, ResponseModePolicy policy, GroupTrace trace) {
        this.protection = protection;
        this.serverGroups = serverGroups;
        this.clientBinding = clientBinding;
        this.clientEpochs = clientEpochs;
        this.policy = policy;
        this.trace = trace;
    }

    /* ----------------------------------------------------------------- client */

    @Override
    public void sendRequest(Exchange exchange, Request request) {
        GroupClientBinding.Target t = clientBinding == null ? null : clientBinding.lookup(exchange.getRequest());
        if (t == null) {
            refuse(exchange, request, "no group context bound to this request; not sent");
            return;
        }
        if (request.isMulticast()) {
            // the checks that need no network first, then the namespace guard
            if (t.mode() == GroupMode.PAIRWISE) {
                refuse(exchange, request, "a pairwise request is for one member, not for a multicast group");
                return;
            }
            try {
                GroupEndpointBuilder.checkGroupPort(request.getDestinationContext().getPeerAddress().getPort());
                MulticastGuard.check(request.getDestinationContext().getPeerAddress().getAddress());
            } catch (IllegalStateException | IllegalArgumentException e) {
                refuse(exchange, request, e.getMessage());
                return;
            }
        }
        GroupRequest p;
        try {
            p = protection.protectRequest(request, t.context(), t.mode(), t.member());
        } catch (OscoreException e) {
            refuse(exchange, request, e.getMessage());
            return;
        }
        TransmissionRelay.link(p, request);
        super.sendRequest(exchange, p);
        if (request.getToken() == null && p.getToken() != null) {
            request.setToken(p.getToken());
        }
        if (trace != null) {
            trace.onMessage(GroupTrace.Event.REQUEST_PROTECTED, request, p, t.context(), t.mode(), null);
        }
    }

    private void refuse(Exchange exchange, Request request, String why) {
        LOG.warn("refusing to send {}: {}", request.getCode(), why);
        request.setSendError(new OscoreSendRefusedException(why));
        exchange.executeComplete();
    }

    @Override
    public void receiveResponse(Exchange exchange, Response response) {
        if (!(exchange.getCurrentRequest() instanceof GroupRequest p)) {
            LOG.debug("dropping a response to a request this layer did not protect");
            return;
        }
        if (response.isDuplicate()) {
            return;
        }
        if (!response.getOptions().hasOscore()) {
            if (response.isError() && !exchange.getCurrentRequest().isMulticast()) {
                super.receiveResponse(exchange, response); // an unprotected OSCORE error from one member
            }
            return;
        }
        VerifiedGroupResponse v;
        try {
            v = protection.verifyResponse(response, p.binding(), clientEpochs);
        } catch (OscoreException e) {
            LOG.debug("dropping a response that failed Group OSCORE verification: {}", e.getMessage());
            if (trace != null) {
                trace.onMessage(GroupTrace.Event.REJECTED, null, response, p.binding().context(), null, e.getMessage());
            }
            return;
        }
        Response plain = v.response();
        GroupResponse out = new GroupResponse(plain.getCode(), v.serverKid(), v.mode());
        out.setType(plain.getType());
        out.setMID(plain.getMID());
        out.setToken(plain.getToken());
        out.setOptions(plain.getOptions());
        out.setPayload(plain.getPayload());
        out.setSourceContext(response.getSourceContext());
        if (trace != null) {
            trace.onMessage(GroupTrace.Event.RESPONSE_VERIFIED, out, response, v.context(), v.mode(), null);
        }
        super.receiveResponse(exchange, out);
    }

    /* ----------------------------------------------------------------- server */

    @Override
    public void receiveRequest(Exchange exchange, Request request) {
        if (serverGroups == null) {
            return;
        }
        if (!request.getOptions().hasOscore()) {
            if (!request.isMulticast()) {
                sendError(exchange, request, ResponseCode.UNAUTHORIZED, "OSCORE required");
            }
            return;
        }
        VerifiedGroupRequest verified;
        try {
            verified = protection.verifyRequest(request, serverGroups);
        } catch (OscoreException e) {
            if (trace != null) {
                trace.onMessage(GroupTrace.Event.REJECTED, null, request, null, null, e.diagnostic());
            }
            LOG.debug("rejecting {} request: {}", request.isMulticast() ? "group" : "unicast", e.getMessage());
            if (!request.isMulticast()) {
                super.sendResponse(exchange, OscoreProtection.errorResponse(e, request));
            }
            return; // silence towards a failed group request
        } catch (GroupEchoRequired e) {
            if (!request.isMulticast()) {
                challenge(exchange, request, e);
            }
            return;
        }
        if (trace != null) {
            trace.onMessage(GroupTrace.Event.REQUEST_VERIFIED, verified, request, verified.binding().context(),
                    verified.binding().mode(), null);
        }
        exchange.setRequest(verified);
        exchange.setCurrentRequest(verified);
        super.receiveRequest(exchange, verified);
    }

    private void challenge(Exchange exchange, Request request, GroupEchoRequired e) {
        Response r = new Response(ResponseCode.UNAUTHORIZED);
        r.setType(request.isConfirmable() ? Type.ACK : Type.NON);
        r.setToken(request.getToken());
        r.setDestinationContext(request.getSourceContext());
        r.getOptions().addOption(StandardOptionRegistry.ECHO.create(e.echo()));
        GroupServerBinding b = e.binding();
        try {
            // GRP-25: the server MUST use its own Partial IV in the Echo challenge
            Response p = protection.protectResponse(r, b, b.context(), b.mode(), true);
            super.sendResponse(exchange, p);
        } catch (OscoreException ex) {
            LOG.warn("cannot protect the Echo challenge: {}", ex.getMessage());
            exchange.executeComplete();
        }
    }

    private void sendError(Exchange exchange, Request request, ResponseCode code, String diagnostic) {
        super.sendResponse(exchange, OscoreProtection.unprotectedError(request, code, diagnostic));
    }

    @Override
    public void sendResponse(Exchange exchange, Response response) {
        GroupServerBinding b = bindingOf(exchange);
        if (b == null) {
            LOG.warn("refusing to send an unprotected {} response", response.getCode());
            response.setSendError(new OscoreSendRefusedException("no Group OSCORE binding for this response"));
            exchange.executeComplete();
            return;
        }
        GroupMode mode = b.mode();
        if (mode == GroupMode.GROUP && policy == ResponseModePolicy.PAIRWISE_WHEN_POSSIBLE
                && b.context().algorithms().pairwiseMode()) {
            mode = GroupMode.PAIRWISE;
        }
        // GRP-20/21: after a rekey, responses of long exchanges go out under the current epoch
        GroupContext ctx = serverGroups == null ? b.context() : serverGroups.current(b.context());
        Response p;
        try {
            p = protection.protectResponse(response, b, ctx, mode, false);
        } catch (OscoreException e) {
            LOG.warn("cannot protect a response: {}", e.getMessage());
            response.setSendError(new OscoreSendRefusedException(e.getMessage()));
            exchange.executeComplete();
            return;
        }
        TransmissionRelay.link(p, response);
        super.sendResponse(exchange, p);
        if (trace != null) {
            trace.onMessage(GroupTrace.Event.RESPONSE_PROTECTED, response, p, ctx, mode, null);
        }
    }

    private static GroupServerBinding bindingOf(Exchange exchange) {
        if (exchange.getCurrentRequest() instanceof VerifiedGroupRequest v) {
            return v.binding();
        }
        if (exchange.getRequest() instanceof VerifiedGroupRequest v) {
            return v.binding();
        }
        return null;
    }
}
