package dev.coterie.grouposcore;

import dev.coterie.keystore.Credential;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ReceivedCose;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.ResponseVerifier;
import dev.coterie.oscore.SealingNonce;
import java.util.Arrays;

/**
 * A client's view for the responses to one Group OSCORE request (Sections 7.4, 8.4; cacheable-
 * oscore 3.4.4): it finds the epoch (a newer one of the same group after a rekey, GRP-21; never
 * another group in the same database nor an older epoch), the responder and its
 * mode, and checks that a response to a request for one member comes from that member. The
 * member is identified by its credential, not only its kid, so a Sender ID that changed with a
 * rekey is still the same server, and another member that now holds the old kid is not (GRP-22).
 */
final class GroupResponseVerifier implements ResponseVerifier {
    private final GroupContext requestEpoch;
    private final GroupContextDb epochs;
    private final ProtectionMode requestMode;
    private final RecipientContext target;
    private final Credential targetCredential;

    /**
     * @param target the member a pairwise (or unicast deterministic) request was for, or null
     * @param targetCredential that member's credential, or null
     */
    GroupResponseVerifier(GroupContext requestEpoch, GroupContextDb epochs, ProtectionMode requestMode,
                          RecipientContext target, Credential targetCredential) {
        this.requestEpoch = requestEpoch;
        this.epochs = epochs;
        this.requestMode = requestMode;
        this.target = target;
        this.targetCredential = targetCredential;
    }

    @Override
    public boolean understandsGroupFlag() {
        return true;
    }

    @Override
    public OpenedResponse open(RequestIdentifiers request, ReceivedCose in) throws OscoreException {
        OscoreOptionValue v = in.option();
        GroupContext ctx = requestEpoch;
        if (v.kidContext() != null && !Arrays.equals(v.kidContext(), requestEpoch.gidRaw())) {
            ctx = epochs == null ? null : epochs.find(v.kidContext());
            if (ctx == null) {
                throw new OscoreException.ContextNotFound("response protected with an unknown Gid");
            }
            // GRP-21: another Gid only for a newer epoch of the request's own group, never another group
            // the database also holds, nor an older epoch (which a member removed by the rekey still has)
            if (!ctx.name().equals(requestEpoch.name())) {
                throw new OscoreException.ContextNotFound("response protected with the Gid of another group");
            }
            int requestOrder = epochs.order(requestEpoch);
            if (requestOrder == 0 || epochs.order(ctx) <= requestOrder) {
                throw new OscoreException.ContextNotFound("response protected with the Gid of an older epoch (GRP-21: only a newer one)");
            }
        }
        ProtectionMode mode = v.groupFlag() ? ProtectionMode.GROUP : ProtectionMode.PAIRWISE;
        GroupCose.checkModeSupported(ctx, mode);
        if (requestMode == ProtectionMode.DETERMINISTIC && mode != ProtectionMode.GROUP) {
            throw new OscoreException.DecodeFailure("a response to a deterministic request is in group mode (DET-07)");
        }
        byte[] kid = v.kid();
        if (kid == null) {
            // only the addressed member of a request for one member may leave its kid out (GRP-10, DET-08)
            if (target == null || ctx != requestEpoch) {
                throw new OscoreException.DecodeFailure("this response must carry the responder's kid");
            }
            kid = target.idRaw();
        }
        RecipientContext server = ctx.recipient(kid);
        if (server == null) {
            throw new OscoreException.ContextNotFound("no credential for the responding member");
        }
        if (targetCredential != null && !Arrays.equals(server.credential().encodedUnsafe(), targetCredential.encodedUnsafe())) {
            throw new OscoreException.ContextNotFound("response from a member other than the addressed server (GRP-22)");
        }
        byte[] piv = v.partialIv();
        byte[] idPiv;
        byte[] pivForNonce;
        if (piv != null) {
            idPiv = kid;
            pivForNonce = piv;
        } else {
            SealingNonce n = request.requestNonceForVerification();
            idPiv = n.idPiv();
            pivForNonce = n.partialIv();
        }
        byte[] aad = GroupCose.aadArray(ctx, request.kid(), request.partialIv(), in.classI(), request.kidContext(),
                in.optionBytes(), server.credential().encodedUnsafe());
        server.checkKeys();
        // a bad signature is not counted: it never reached the AEAD, and anyone can send one under any kid
        byte[] ct = mode == ProtectionMode.GROUP
                ? GroupCose.verifySignature(ctx, server.credential(), idPiv, pivForNonce, false, aad, in.payload())
                : in.payload();
        byte[] pt;
        try {
            pt = mode == ProtectionMode.GROUP
                    ? GroupCose.open(ctx, server.groupKey(), ctx.algorithms().groupEncryption(), idPiv, pivForNonce, aad, ct)
                    : GroupCose.open(ctx, server.pairwiseRecipientKey(), ctx.algorithms().aead(), idPiv, pivForNonce, aad, ct);
        } catch (OscoreException.DecryptionFailed e) {
            server.countFailedDecryption(); // AEAD failures only
            throw e;
        }
        int order = epochs == null ? 0 : epochs.order(ctx);
        return new OpenedResponse(pt, server.responderKey(), order,
                new OscorePeer(mode, ctx.name(), kid, ctx.gidRaw()), GroupViews.describe(ctx, mode));
    }

}
