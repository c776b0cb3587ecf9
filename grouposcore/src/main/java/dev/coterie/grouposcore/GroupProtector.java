package dev.coterie.grouposcore;

import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.RequestIdentifiers;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.oscore.SealingNonce;
import org.eclipse.californium.core.coap.Request;

/**
 * A member's view for sending requests in group mode (to the group, or to one member when the
 * application asks for it) or in pairwise mode to one member (Sections 7.1 and 8.1). Both draw
 * from the member's one Sender Sequence; every request carries kid and kid context (GRP-10).
 */
final class GroupProtector implements RequestProtector {
    private final GroupContext ctx;
    private final ProtectionMode mode;
    private final RecipientContext target;
    private final GroupContextDb epochs;

    GroupProtector(GroupContext ctx, ProtectionMode mode, RecipientContext target, GroupContextDb epochs) {
        this.ctx = ctx;
        this.mode = mode;
        this.target = target;
        this.epochs = epochs;
    }

    @Override
    public ProtectionMode mode() {
        return mode;
    }

    @Override
    public String contextName() {
        return ctx.name();
    }

    @Override
    public String describe() {
        return GroupViews.describe(ctx, mode);
    }

    @Override
    public void checkDestination(Request plain) throws OscoreException.ProtectionRefused {
        // the port and the multicast guard are checked for every view by ProtectionPipeline.protectRequest
        if (plain.isMulticast() && mode == ProtectionMode.PAIRWISE) {
            throw new OscoreException.ProtectionRefused("a pairwise request is for one member, not for a multicast group");
        }
    }

    @Override
    public SealedRequest seal(byte[] classI, byte[] plaintext, boolean observe) throws OscoreException {
        if (ctx.isSilent()) {
            throw new OscoreException.ProtectionRefused("a silent member has no Sender Context");
        }
        ctx.useSenderKeys();
        SealingNonce n = SealingNonce.draw(ctx.senderSequence(), ctx.senderIdRaw());
        byte[] kid = ctx.senderIdRaw();
        byte[] piv = n.partialIvToSend();
        byte[] gid = ctx.gidRaw();
        byte[] option = new OscoreOptionValue(piv, gid, kid, mode == ProtectionMode.GROUP).encode();
        byte[] aad = GroupCose.aadArray(ctx, kid, piv, classI, gid, option, ctx.ownCredRaw());
        byte[] payload = mode == ProtectionMode.GROUP
                ? GroupCose.sealAndSign(ctx, n, true, aad, plaintext)
                : GroupCose.seal(ctx, target.pairwiseSenderKey(), ctx.algorithms().aead(), n, aad, plaintext);
        RequestIdentifiers ids = RequestIdentifiers.builder().mode(mode).contextName(ctx.name()).kid(kid).partialIv(piv)
                .kidContext(gid).observe(observe)
                .responseVerifier(new GroupResponseVerifier(ctx, epochs, mode, target, target == null ? null : target.credential()))
                .peer(target == null ? null : new OscorePeer(mode, ctx.name(), target.idRaw(), gid))
                .build();
        return new SealedRequest(option, payload, null, ids);
    }

}
