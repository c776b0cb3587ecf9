package dev.coterie.oscore;

import dev.coterie.keystore.SenderSequence;
import dev.coterie.keystore.StateUnavailableException;

/**
 * The (ID_PIV, Partial IV) a message is sealed under (RFC 8613 Section 5.2). There are only
 * three ways to get one, and none takes a caller's Partial IV: draw a fresh number from a
 * Sender Sequence, take a request's nonce through its one-shot claim
 * ({@link RequestIdentifiers#claimReusableNonce()}), or the fixed Partial IV 0 of a
 * deterministic request, whose key is derived from the request hash and so differs per request.
 */
public final class SealingNonce {
    private final byte[] idPiv;
    private final byte[] partialIv;
    private final boolean sendPartialIv;

    private SealingNonce(byte[] idPiv, byte[] partialIv, boolean sendPartialIv) {
        this.idPiv = idPiv;
        this.partialIv = partialIv;
        this.sendPartialIv = sendPartialIv;
    }

    /** A fresh Partial IV: consumes one Sender Sequence Number (OSC-15), persisted before use. */
    public static SealingNonce draw(SenderSequence sequence, byte[] senderId) throws OscoreException.ProtectionRefused {
        if (sequence == null || senderId == null) {
            throw new OscoreException.ProtectionRefused("no Sender Context: this member cannot send");
        }
        try {
            return new SealingNonce(senderId, partialIv(sequence.next()), true);
        } catch (StateUnavailableException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
    }

    /** The request's own nonce for its first response (RFC 8613 Section 8.3); only via the claim. */
    static SealingNonce requestNonce(byte[] requestKid, byte[] requestPiv) {
        return new SealingNonce(requestKid, requestPiv, false);
    }

    /** Partial IV 0 under the Deterministic Client's Sender ID (cacheable-oscore Section 3.3, step 2). */
    public static SealingNonce deterministicRequest(byte[] detSenderId) {
        return new SealingNonce(detSenderId, new byte[] {0}, true);
    }

    /** The Partial IV to put into the OSCORE option, or null when the request nonce is reused. */
    public byte[] partialIvToSend() {
        return sendPartialIv ? partialIv.clone() : null;
    }

    /** Whether the message carries its own Partial IV. */
    public boolean isFresh() {
        return sendPartialIv;
    }

    /** The Partial IV the nonce and the keystream are built from (the request's when reused). */
    public byte[] partialIv() {
        return partialIv.clone();
    }

    public byte[] idPiv() {
        return idPiv.clone();
    }

    /** The AEAD nonce: {@link Nonce#build} with the first {@code length} bytes of {@code commonIv}. */
    public byte[] nonce(byte[] commonIv, int length) {
        return Nonce.build(commonIv, length, idPiv, partialIv);
    }

    /** Minimal big-endian encoding; 0 encodes as h'00' (RFC 8613 Section 6.1, OSC-04). */
    public static byte[] partialIv(long seq) {
        int n = 1;
        while (n < 5 && (seq >>> (8 * n)) != 0) {
            n++;
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[n - 1 - i] = (byte) (seq >>> (8 * i));
        }
        return b;
    }

    /** The value of a Partial IV. */
    public static long toLong(byte[] piv) {
        long v = 0;
        for (byte b : piv) {
            v = (v << 8) | (b & 0xff);
        }
        return v;
    }
}
