package dev.coterie.oscore;

import dev.coterie.keystore.CborWriter;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.ContextState;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyUsageCounter;
import dev.coterie.keystore.ReplayWindow;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SenderSequence;
import dev.coterie.keystore.StateUnavailableException;
import java.util.Arrays;
import java.util.Objects;

/**
 * An RFC 8613 security context (Section 3): the common part, one Sender Context and one
 * Recipient Context, derived once at construction (Section 3.2). Key bytes stay in the
 * keystore's handles; this object holds an {@link AeadKey} per direction.
 */
public final class OscoreContext {
    private final CryptoProvider provider;
    private final AeadAlgorithm aead;
    private final HkdfAlgorithm hkdf;
    private final byte[] idContext;
    private final byte[] senderId;
    private final byte[] recipientId;
    private final byte[] commonIv;
    private final AeadKey senderKey;
    private final AeadKey recipientKey;
    private final byte[] algorithmsCbor;
    private final ContextState state;
    private final SenderSequence sequence;
    private final Freshness freshness;
    private final String name;
    private final OscoreView.Client clientView = new OscoreView.Client(this);
    private final OscoreView.Server serverView = new OscoreView.Server(this);
    private final KeyUsageCounter encryptions;
    private final KeyUsageCounter failedDecryptions;

    private OscoreContext(Builder b) throws StateUnavailableException {
        this.provider = b.provider;
        this.aead = b.aead;
        this.hkdf = b.hkdf;
        this.idContext = b.idContext == null ? null : b.idContext.clone();
        this.senderId = b.senderId.clone();
        this.recipientId = b.recipientId.clone();
        int maxIdLength = aead.nonceLength() - 6;
        if (senderId.length > maxIdLength) {
            throw new IllegalArgumentException("Sender ID longer than " + maxIdLength + " bytes, the most "
                    + aead.coseName() + " allows (RFC 8613 Section 3.3)");
        }
        if (recipientId.length > maxIdLength) {
            throw new IllegalArgumentException("Recipient ID longer than " + maxIdLength + " bytes, the most "
                    + aead.coseName() + " allows (RFC 8613 Section 3.3)");
        }
        if (Arrays.equals(senderId, recipientId)) {
            throw new IllegalArgumentException("Sender ID and Recipient ID must differ");
        }
        byte[] salt = b.masterSalt == null ? new byte[0] : b.masterSalt;
        SecretBytes sk = provider.hkdf(hkdf, salt, b.masterSecret, info(senderId, "Key", aead.keyLength()), aead.keyLength());
        SecretBytes rk = provider.hkdf(hkdf, salt, b.masterSecret, info(recipientId, "Key", aead.keyLength()), aead.keyLength());
        this.senderKey = provider.aeadKey(aead, sk);
        this.recipientKey = provider.aeadKey(aead, rk);
        this.commonIv = provider.hkdfPublic(hkdf, salt, b.masterSecret, info(new byte[0], "IV", aead.nonceLength()),
                aead.nonceLength());
        this.algorithmsCbor = new CborWriter(4).array(1).integer(aead.coseId()).toByteArray();
        // the state file name: a one-way function of the context, so two contexts never share one
        byte[] idInfo = new CborWriter(64).array(3).text("coterie state id").bytes(senderId)
                .bytes(idContext == null ? new byte[0] : idContext).toByteArray();
        String stateId = Hex.encode(provider.hkdfPublic(hkdf, salt, b.masterSecret, idInfo, 8));
        this.name = b.name != null ? b.name : stateId;
        if (b.replayWindowSize < 1 || b.replayWindowSize > 64) {
            throw new IllegalArgumentException("replay window size must be 1..64, was " + b.replayWindowSize);
        }
        // AEAD key usage limits (draft-ietf-core-oscore-key-limits): q per Sender Key, v per Recipient Key
        this.encryptions = b.keyUsageLimits ? KeyUsageCounter.encryptions(aead)
                : KeyUsageCounter.withLimit("encryptions (limits off)", Long.MAX_VALUE);
        this.failedDecryptions = b.keyUsageLimits ? KeyUsageCounter.failedDecryptions(aead)
                : KeyUsageCounter.withLimit("failed decryptions (limits off)", Long.MAX_VALUE);
        this.state = b.store.load(stateId);
        this.sequence = state.senderSequence();
        if (b.keyUsageLimits) {
            sequence.limit(aead.confidentialityLimit() - 1);
        }
        this.freshness = new Freshness(state.replayWindow(recipientId, b.replayWindowSize));
        this.derivedKeysForVectors = b.keepDerivedForVectors ? new SecretBytes[] {sk, rk} : null;
    }

    private final SecretBytes[] derivedKeysForVectors;

    /** The info structure of RFC 8613 Section 3.2.1 (public inputs only). */
    public static byte[] info(byte[] id, byte[] idContext, AeadAlgorithm aead, String type, int length) {
        CborWriter w = new CborWriter(32).array(5).bytes(id);
        if (idContext == null) {
            w.nil();
        } else {
            w.bytes(idContext);
        }
        return w.integer(aead.coseId()).text(type).integer(length).toByteArray();
    }

    private byte[] info(byte[] id, String type, int length) {
        return info(id, idContext, aead, type, length);
    }

    public static Builder builder() {
        return new Builder();
    }

    public CryptoProvider provider() { return provider; }
    public AeadAlgorithm aead() { return aead; }
    public HkdfAlgorithm hkdf() { return hkdf; }
    public byte[] idContext() { return idContext == null ? null : idContext.clone(); }
    public byte[] senderId() { return senderId.clone(); }
    public byte[] recipientId() { return recipientId.clone(); }
    public byte[] commonIv() { return commonIv.clone(); }
    public String name() { return name; }
    public ReplayWindow replayWindow() { return freshness.window(); }
    Freshness freshness() { return freshness; }

    /**
     * This context as a client protecting requests (the endpoint's or one request's binding).
     * The object only protects requests and verifies their responses: it is no response protector.
     */
    public RequestProtector protector() { return clientView; }

    /** This context as a server verifying requests from its one recipient. */
    RequestVerifier verifier() { return serverView; }

    /** Whether the AEAD key usage limits are enforced for this context. */
    public boolean keyUsageLimits() {
        return encryptions.limit() != Long.MAX_VALUE;
    }

    /** The message of every refusal by a closed context (no key material, no identifiers). */
    static final String CLOSED = "the security context is closed; it protects and verifies nothing more";

    /**
     * Counts an encryption with the Sender Key against its confidentiality limit q; refuses past
     * it, and always once the context is closed (a first response would otherwise still be sealed
     * under the request nonce, which needs no sequence number).
     */
    void useSenderKey() throws OscoreException.ProtectionRefused {
        if (state.isClosed()) {
            throw new OscoreException.ProtectionRefused(CLOSED);
        }
        if (!encryptions.tryCount()) {
            throw new OscoreException.ProtectionRefused("the Sender Key reached its usage limit (" + encryptions.describe()
                    + "); the context must be renewed");
        }
    }

    /**
     * Refuses to decrypt once the Recipient Key's integrity limit v is reached, and once the
     * context is closed (as if it were gone: 4.01 "Security context not found" to a request).
     */
    void checkRecipientKey() throws OscoreException {
        if (state.isClosed()) {
            throw new OscoreException.ContextNotFound(CLOSED);
        }
        if (failedDecryptions.isExhausted()) {
            throw new OscoreException.DecryptionFailed("the Recipient Key reached its integrity limit ("
                    + failedDecryptions.describe() + "); the context must be renewed");
        }
    }

    /** Counts a failed decryption against the Recipient Key's integrity limit. */
    void countFailedDecryption() {
        failedDecryptions.tryCount();
    }
    public SenderSequence senderSequence() { return sequence; }
    public ContextState state() { return state; }

    AeadKey senderKey() { return senderKey; }
    AeadKey recipientKey() { return recipientKey; }
    byte[] idContextRaw() { return idContext; }
    byte[] senderIdRaw() { return senderId; }
    byte[] recipientIdRaw() { return recipientId; }
    byte[] commonIvRaw() { return commonIv; }
    byte[] algorithmsCbor() { return algorithmsCbor; }

    /**
     * Derived Sender and Recipient Keys, only for a context built with
     * {@link Builder#keepDerivedKeysForVectors()}; the vector runner compares them in constant
     * time and never prints them.
     */
    public SecretBytes[] derivedKeysForVectors() {
        if (derivedKeysForVectors == null) {
            throw new IllegalStateException("derived keys are only kept for test-vector contexts");
        }
        return derivedKeysForVectors.clone();
    }


    /**
     * Persists the replay window and marks the state clean (call at orderly shutdown). From then
     * on the context refuses to seal or open anything: requests, responses and notifications.
     */
    public void close() throws StateUnavailableException {
        state.close();
    }

    /** Whether {@link #close()} was called (or its state was abandoned). */
    public boolean isClosed() {
        return state.isClosed();
    }

    @Override
    public String toString() {
        return "OscoreContext[" + name + ", sender " + Hex.encode(senderId) + ", recipient " + Hex.encode(recipientId)
                + (idContext != null ? ", id context " + Hex.encode(idContext) : "") + ", " + aead.coseName() + "]";
    }

    public static final class Builder {
        private CryptoProvider provider = CryptoProviders.defaultProvider();
        private AeadAlgorithm aead = AeadAlgorithm.AES_CCM_16_64_128;
        private HkdfAlgorithm hkdf = HkdfAlgorithm.HKDF_SHA_256;
        private SecretBytes masterSecret;
        private byte[] masterSalt;
        private byte[] idContext;
        private byte[] senderId;
        private byte[] recipientId;
        private int replayWindowSize = 32;
        private SecurityStateStore store;
        private String name;
        private boolean keepDerivedForVectors;
        private boolean keyUsageLimits = true;

        public Builder provider(CryptoProvider p) { provider = Objects.requireNonNull(p); return this; }
        public Builder aead(AeadAlgorithm a) { aead = Objects.requireNonNull(a); return this; }
        public Builder hkdf(HkdfAlgorithm h) { hkdf = Objects.requireNonNull(h); return this; }
        public Builder masterSecret(SecretBytes s) { masterSecret = s; return this; }
        /** Null or empty: no Master Salt (HKDF then uses its all-zero default). */
        public Builder masterSalt(byte[] s) { masterSalt = s; return this; }
        /** Null: no ID Context. */
        public Builder idContext(byte[] c) { idContext = c; return this; }
        public Builder senderId(byte[] id) { senderId = id; return this; }
        public Builder recipientId(byte[] id) { recipientId = id; return this; }
        public Builder replayWindowSize(int n) { replayWindowSize = n; return this; }
        public Builder stateStore(SecurityStateStore s) { store = s; return this; }
        public Builder name(String n) { name = n; return this; }
        public Builder keepDerivedKeysForVectors() { keepDerivedForVectors = true; return this; }
        /**
         * Whether the AEAD key usage limits are enforced (default on): past q encryptions or v
         * failed decryptions the context refuses to protect or verify and must be renewed. Off
         * only for benchmarks and tests that knowingly exceed them.
         */
        public Builder keyUsageLimits(boolean on) { keyUsageLimits = on; return this; }

        public OscoreContext build() throws StateUnavailableException {
            Objects.requireNonNull(masterSecret, "master secret");
            Objects.requireNonNull(senderId, "sender id");
            Objects.requireNonNull(recipientId, "recipient id");
            Objects.requireNonNull(store, "state store (use SecurityStateStore.inMemory() for tests)");
            return new OscoreContext(this);
        }
    }
}
