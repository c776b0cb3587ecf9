package dev.coterie.grouposcore;

import dev.coterie.oscore.Freshness;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.OscorePeer;
import dev.coterie.oscore.ProtectionMode;
import dev.coterie.oscore.ReceivedCose;
import dev.coterie.oscore.RequestVerifier;
import dev.coterie.oscore.ResponseProtector;
import java.security.MessageDigest;
import org.eclipse.californium.core.coap.Request;

/**
 * A server's view of a deterministic request (cacheable-oscore Section 3.4.3, DET-05): the
 * request key K is derived from the received Request-Hash, there is no replay window, and
 * after decryption the hash is recomputed from the plaintext and must match. One instance per
 * request: it keeps the aad_array between opening and the hash check.
 */
final class DeterministicVerifier implements RequestVerifier {
    private static final byte[] NO_CREDENTIAL = new byte[0];

    private final GroupContext ctx;
    private final GroupContextDb db;
    private byte[] aadArray;

    DeterministicVerifier(GroupContext ctx, GroupContextDb db) {
        this.ctx = ctx;
        this.db = db;
    }

    @Override
    public ProtectionMode mode() {
        return ProtectionMode.DETERMINISTIC;
    }

    @Override
    public String contextName() {
        return ctx.name();
    }

    @Override
    public String describe() {
        return GroupViews.describe(ctx, ProtectionMode.DETERMINISTIC);
    }

    @Override
    public Freshness freshness() {
        return null;
    }

    @Override
    public byte[] open(ReceivedCose in) throws OscoreException {
        ctx.checkOpen();
        OscoreOptionValue v = in.option();
        if (v.partialIv().length != 1 || v.partialIv()[0] != 0) {
            throw new OscoreException.DecodeFailure("a deterministic request has Partial IV 0");
        }
        byte[] h = in.requestHash();
        if (h.length != ctx.deterministicHash().length()) {
            throw new OscoreException.DecryptionFailed("Request-Hash has the wrong length for " + ctx.deterministicHash().coseName());
        }
        aadArray = GroupCose.aadArray(ctx, v.kid(), v.partialIv(), in.classI(), v.kidContext(), in.optionBytes(), NO_CREDENTIAL);
        return GroupCose.open(ctx, ctx.deterministicRequestKey(h), ctx.algorithms().aead(), v.kid(), v.partialIv(), aadArray,
                in.payload());
    }

    /** DET-05: H recomputed over the recovered plaintext must equal the Request-Hash the key came from. */
    @Override
    public void checkPlaintext(ReceivedCose in, byte[] plaintext) throws OscoreException {
        byte[] again = ctx.deterministicRequestHash(aadArray, plaintext);
        if (!MessageDigest.isEqual(again, in.requestHash())) {
            throw new OscoreException.DecryptionFailed("the request hash does not match the plaintext");
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
        return new GroupResponder(ctx, null, ProtectionMode.DETERMINISTIC, db);
    }

    @Override
    public OscorePeer peer(OscoreOptionValue option) {
        return new OscorePeer(ProtectionMode.DETERMINISTIC, ctx.name(), option.kid(), option.kidContext());
    }
}
