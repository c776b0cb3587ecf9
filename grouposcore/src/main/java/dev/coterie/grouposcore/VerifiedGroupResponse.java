package dev.coterie.grouposcore;

import org.eclipse.californium.core.coap.Response;

/**
 * A verified response, the member that sent it (a group request collects several), its mode and
 * the epoch it was protected with (newer than the request's after a rekey, GRP-21).
 */
public record VerifiedGroupResponse(Response response, byte[] serverKid, GroupMode mode, GroupContext context) {
}
