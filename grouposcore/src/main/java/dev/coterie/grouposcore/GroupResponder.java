package dev.coterie.grouposcore;

import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.ResponseProtector;
import dev.coterie.oscore.SealingNonce;

/**
 * A server's view for the responses to one verified group request (Sections 7.3, 8.3;
 * cacheable-oscore 3.4.4). Responses go out under the group's current epoch (GRP-20, GRP-21:
 * a long exchange moves to the new Gid, the first response says so with kid context) in the mode
 * the server's policy picks. Only a pairwise request's first response in the same epoch may
 * reuse the request nonce; every other response, and every response to a group-mode or
 * deterministic request, carries the server's own Partial IV.
 */
final class GroupResponder implements ResponseProtector {
    private final GroupContext requestEpoch;
    private final RecipientContext client;
    private final ProtectionMode requestMode;
    private final GroupContextDb db;

    /**
     * @param client the requester's Recipient Context; null for the Deterministic Client and for
     *     this server's own phantom request, which have none
     */
    GroupResponder(GroupContext requestEpoch, RecipientContext client, ProtectionMode requestMode, GroupContextDb db) {
        this.requestEpoch = requestEpoch;
        this.client = client;
        this.requestMode = requestMode;
        this.db = db;
    }

    @Override
    public SealedResponse seal(RequestIdentifiers request, byte[] classI, byte[] plaintext, boolean notification)
            throws OscoreException {
        GroupContext ctx = db == null ? requestEpoch : db.current(requestEpoch);
        boolean newEpoch = ctx != requestEpoch;
        if (ctx.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent server sends no responses");
        }
        ProtectionMode mode = responseMode(ctx);
        RecipientContext peer = null;
        if (mode == ProtectionMode.PAIRWISE) {
            // in a new epoch the client's kid may now be another member's: find it by its credential
            peer = newEpoch ? ctx.recipientByCredential(client.credential()) : client;
            if (peer == null) {
                if (!ctx.algorithms().groupMode()) {
                    throw new OscoreException.ProtectionRefused("the client is not a member of the current epoch");
                }
                mode = ProtectionMode.GROUP;
            }
        }
        GroupCose.checkModeSupported(ctx, mode);
        ctx.useSenderKeys();
        SealingNonce n = notification || newEpoch ? null : request.claimReusableNonce();
        if (n == null) {
            n = SealingNonce.draw(ctx.senderSequence(), ctx.senderIdRaw());
        }
        boolean withKid = requestMode != ProtectionMode.PAIRWISE || mode == ProtectionMode.GROUP || newEpoch;
        byte[] option = new OscoreOptionValue(n.partialIvToSend(), newEpoch ? ctx.gidRaw() : null,
                withKid ? ctx.senderIdRaw() : null, mode == ProtectionMode.GROUP).encode();
        byte[] aad = GroupCose.aadArray(ctx, request.kid(), request.partialIv(), classI, request.kidContext(), option,
                ctx.ownCredRaw());
        byte[] payload = mode == ProtectionMode.GROUP
                ? GroupCose.sealAndSign(ctx, n, false, aad, plaintext)
                : GroupCose.seal(ctx, peer.pairwiseSenderKey(), ctx.algorithms().aead(), n, aad, plaintext);
        return new SealedResponse(option, payload, mode, ctx.name(), GroupViews.describe(ctx, mode));
    }

    /** The mode of the response: group mode for deterministic requests (DET-07), else the group's policy. */
    private ProtectionMode responseMode(GroupContext ctx) {
        if (requestMode == ProtectionMode.DETERMINISTIC || client == null) {
            // no requester to pair with: a deterministic request, or a phantom request, whose responses go to every
            // member (observe-multicast-notifications Section 9.2.3: group mode)
            return ProtectionMode.GROUP;
        }
        GroupContextDb.ResponseMode policy = db == null ? GroupContextDb.ResponseMode.SAME_AS_REQUEST : db.responseMode();
        if (requestMode == ProtectionMode.GROUP && policy == GroupContextDb.ResponseMode.PAIRWISE_WHEN_POSSIBLE
                && ctx.algorithms().pairwiseMode()) {
            return ProtectionMode.PAIRWISE;
        }
        if (policy == GroupContextDb.ResponseMode.GROUP_WHEN_POSSIBLE && ctx.algorithms().groupMode()) {
            return ProtectionMode.GROUP;
        }
        return requestMode;
    }
}
