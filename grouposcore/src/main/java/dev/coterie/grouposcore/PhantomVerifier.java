package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.Credential;
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
 * A group-mode phantom request (observe-multicast-notifications Section 9, digest 6.6, OMN-10)
 * verified like a group-mode request but with no Replay Window: the server's own phantom, which
 * its own Sender Sequence Number just produced, or a client's rebuilt phantom, for which the
 * draft forbids the replay check and the window update. Signature first, then the ciphertext
 * (GRP-14). Only the server's own one protects responses (the notifications, each with its own
 * Partial IV: the phantom's nonce is never reused); a client never answers a phantom.
 */
final class PhantomVerifier implements RequestVerifier {
    private final GroupContext ctx;
    private final Credential signer;
    private final AeadKey key;
    /** The sender's Recipient Context on a client (failed decryptions are counted against it), null on the server. */
    private final RecipientContext recipient;
    private final GroupContextDb db;

    private PhantomVerifier(GroupContext ctx, Credential signer, AeadKey key, RecipientContext recipient, GroupContextDb db) {
        this.ctx = ctx;
        this.signer = signer;
        this.key = key;
        this.recipient = recipient;
        this.db = db;
    }

    /** The server processing its own phantom: its own credential and Sender Key. */
    static PhantomVerifier own(GroupContext ctx, GroupContextDb db) {
        return new PhantomVerifier(ctx, ctx.ownCredential(), ctx.senderGroupKey(), null, db);
    }

    /** A client verifying the phantom of the server {@code server}. */
    static PhantomVerifier of(GroupContext ctx, RecipientContext server) {
        return new PhantomVerifier(ctx, server.credential(), server.groupKey(), server, null);
    }

    @Override
    public ProtectionMode mode() {
        return ProtectionMode.GROUP;
    }

    @Override
    public String contextName() {
        return ctx.name();
    }

    @Override
    public String describe() {
        return GroupViews.describe(ctx, ProtectionMode.GROUP) + ", phantom request";
    }

    /** No replay check and no window update (digest 6.6). */
    @Override
    public Freshness freshness() {
        return null;
    }

    @Override
    public byte[] open(ReceivedCose in) throws OscoreException {
        byte[] kid = in.option().kid();
        byte[] piv = in.option().partialIv();
        byte[] aad = GroupCose.aadArray(ctx, kid, piv, in.classI(), in.option().kidContext(), in.optionBytes(),
                signer.encodedUnsafe());
        if (recipient != null) {
            recipient.checkKeys();
        }
        byte[] ct = GroupCose.verifySignature(ctx, signer, kid, piv, true, aad, in.payload());
        try {
            return GroupCose.open(ctx, key, ctx.algorithms().groupEncryption(), kid, piv, aad, ct);
        } catch (OscoreException.DecryptionFailed e) {
            if (recipient != null) {
                recipient.countFailedDecryption();
            }
            throw e;
        }
    }

    @Override
    public boolean echoRecoveryAllowed(Request received) {
        return false;
    }

    @Override
    public boolean responseMayReuseNonce() {
        return false;
    }

    @Override
    public ResponseProtector responseProtector() {
        if (recipient == null) {
            return new GroupResponder(ctx, null, ProtectionMode.GROUP, db);
        }
        return (request, classI, plaintext, notification) -> {
            throw new OscoreException.ProtectionRefused("a client does not answer a phantom request");
        };
    }

    @Override
    public OscorePeer peer(OscoreOptionValue option) {
        return new OscorePeer(ProtectionMode.GROUP, ctx.name(), option.kid(), option.kidContext());
    }
}
