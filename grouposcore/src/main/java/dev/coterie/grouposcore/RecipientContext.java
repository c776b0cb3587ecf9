package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.ReplayWindow;
import dev.coterie.keystore.SecretBytes;

/**
 * What a member keeps about one other member (Section 2.1): its Sender ID, credential,
 * Recipient Key, replay window and the pairwise keys, derived once and cached for this epoch.
 */
public final class RecipientContext {
    private final GroupContext group;
    private final byte[] id;
    private final Credential credential;
    private final SecretBytes recipientKey;
    private final AeadKey groupKey;
    private final dev.coterie.oscore.Freshness freshness;
    private final dev.coterie.keystore.KeyUsageCounter failedDecryptions;
    private volatile String responderKey;
    private volatile AeadKey pairwiseSender;
    private volatile AeadKey pairwiseRecipient;

    RecipientContext(GroupContext group, byte[] id, Credential credential, ReplayWindow window) {
        this.group = group;
        this.id = id;
        this.credential = credential;
        this.recipientKey = group.deriveRecipientKey(id);
        this.groupKey = group.algorithms().groupMode()
                ? group.provider().aeadKey(group.algorithms().groupEncryption(), recipientKey) : null;
        this.freshness = new dev.coterie.oscore.Freshness(window);
        // one count for this member's keys (group-mode Recipient Key and pairwise key): the stricter algorithm's v
        dev.coterie.keystore.AeadAlgorithm a = group.algorithms().groupEncryption() != null ? group.algorithms().groupEncryption()
                : group.algorithms().aead();
        if (group.algorithms().aead() != null && group.algorithms().aead().integrityLimit() < a.integrityLimit()) {
            a = group.algorithms().aead();
        }
        this.failedDecryptions = !group.keyUsageLimits()
                ? dev.coterie.keystore.KeyUsageCounter.withLimit("failed decryptions (limits off)", Long.MAX_VALUE)
                : group.integrityLimit() > 0 && group.integrityLimit() < a.integrityLimit()
                ? dev.coterie.keystore.KeyUsageCounter.withLimit("failed decryptions", group.integrityLimit())
                : dev.coterie.keystore.KeyUsageCounter.failedDecryptions(a);
    }

    public byte[] id() { return id.clone(); }

    /** A stable name of this member for Response Numbers: its credential, which survives a Sender ID change. */
    String responderKey() {
        String k = responderKey;
        if (k == null) {
            k = Hex.encode(credential.publicKey());
            responderKey = k;
        }
        return k;
    }
    public Credential credential() { return credential; }
    public ReplayWindow replayWindow() { return freshness.window(); }
    dev.coterie.oscore.Freshness freshness() { return freshness; }

    /**
     * Counts a failed AEAD decryption against this member's keys' integrity limit v. A failed
     * signature check is not counted: it is decided before the AEAD key is used, and counting it
     * would let anyone who knows a kid lock that member out without one AEAD attempt.
     */
    void countFailedDecryption() {
        failedDecryptions.tryCount();
    }

    /** Refuses to verify anything more from this member once its keys reached their integrity limit. */
    void checkKeys() throws dev.coterie.oscore.OscoreException {
        group.checkOpen();
        if (failedDecryptions.isExhausted()) {
            throw new dev.coterie.oscore.OscoreException.DecryptionFailed("this member's keys reached their integrity limit ("
                    + failedDecryptions.describe() + "); the group must be rekeyed");
        }
    }

    byte[] idRaw() { return id; }
    SecretBytes recipientKey() { return recipientKey; }
    AeadKey groupKey() { return groupKey; }

    /** Pairwise Sender Key towards this member (Section 2.5.1), derived on first use. */
    AeadKey pairwiseSenderKey() {
        AeadKey k = pairwiseSender;
        if (k == null) {
            synchronized (this) {
                if (pairwiseSender == null) {
                    pairwiseSender = group.derivePairwiseSenderKey(this);
                }
                k = pairwiseSender;
            }
        }
        return k;
    }

    /** Pairwise Recipient Key for messages from this member, derived on first use. */
    AeadKey pairwiseRecipientKey() {
        AeadKey k = pairwiseRecipient;
        if (k == null) {
            synchronized (this) {
                if (pairwiseRecipient == null) {
                    pairwiseRecipient = group.derivePairwiseRecipientKey(this);
                }
                k = pairwiseRecipient;
            }
        }
        return k;
    }

    boolean hasPairwiseKeys() {
        return pairwiseSender != null || pairwiseRecipient != null;
    }

    @Override
    public String toString() {
        return "RecipientContext[" + Hex.encode(id) + ", " + credential.keyType() + "]";
    }
}
