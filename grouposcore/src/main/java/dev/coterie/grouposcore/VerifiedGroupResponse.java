package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.Response;

/** A verified response and the member that sent it (a group request collects several). */
public record VerifiedGroupResponse(Response response, byte[] serverKid, GroupMode mode) {
}
