package dev.coterie.grouposcore;

import dev.coterie.oscore.Freshness;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ReceivedCose;
import dev.coterie.oscore.RequestVerifier;
import dev.coterie.oscore.ResponseProtector;
import org.eclipse.californium.core.coap.Request;

/**
 * A server's view of one member's group-mode or pairwise-mode request (Sections 7.2, 8.2): the
 * member's Recipient Context in the epoch the request names, with its replay window and Echo.
 */
final class GroupRequestVerifier implements RequestVerifier {
    private final GroupContext ctx;
    private final RecipientContext client;
    private final ProtectionMode mode;
    private final GroupContextDb db;

    GroupRequestVerifier(GroupContext ctx, RecipientContext client, ProtectionMode mode, GroupContextDb db) {
        this.ctx = ctx;
        this.client = client;
        this.mode = mode;
        this.db = db;
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
    public Freshness freshness() {
        return client.freshness();
    }

    @Override
    public byte[] open(ReceivedCose in) throws OscoreException {
        byte[] kid = in.option().kid();
        byte[] piv = in.option().partialIv();
        byte[] aad = GroupCose.aadArray(ctx, kid, piv, in.classI(), in.option().kidContext(), in.optionBytes(),
                client.credential().encodedUnsafe());
        client.checkKeys();
        // a bad signature is not counted: it never reached the AEAD, and anyone can send one under any kid
        byte[] ct = mode == ProtectionMode.GROUP
                ? GroupCose.verifySignature(ctx, client.credential(), kid, piv, true, aad, in.payload())
                : in.payload();
        try {
            return mode == ProtectionMode.GROUP
                    ? GroupCose.open(ctx, client.groupKey(), ctx.algorithms().groupEncryption(), kid, piv, aad, ct)
                    : GroupCose.open(ctx, client.pairwiseRecipientKey(), ctx.algorithms().aead(), kid, piv, aad, ct);
        } catch (OscoreException.DecryptionFailed e) {
            client.countFailedDecryption(); // AEAD failures only (key-limits: v bounds forgery attempts on the AEAD)
            throw e;
        }
    }

    /** GRP-25: the echoing request is unicast, and pairwise where the group has pairwise mode. */
    @Override
    public boolean echoRecoveryAllowed(Request received) {
        return !received.isMulticast() && (mode == ProtectionMode.PAIRWISE || !ctx.algorithms().pairwiseMode());
    }

    /** Responses to a group-mode request always carry a Partial IV; a pairwise request's first may reuse its nonce. */
    @Override
    public boolean responseMayReuseNonce() {
        return mode == ProtectionMode.PAIRWISE;
    }

    @Override
    public ResponseProtector responseProtector() {
        return new GroupResponder(ctx, client, mode, db);
    }

    @Override
    public OscorePeer peer(OscoreOptionValue option) {
        return new OscorePeer(mode, ctx.name(), option.kid(), option.kidContext());
    }
}
