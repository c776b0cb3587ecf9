package dev.coterie.grouposcore;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.AeadKey;
import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.ContextState;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.KeyUsageCounter;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.keystore.SenderSequence;
import dev.coterie.keystore.StateUnavailableException;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One epoch of a Group OSCORE Security Context (draft-ietf-core-oscore-groupcomm-28 Section
 * 2): the Common Context (Gid as ID Context, algorithms, Signature Encryption Key, Group
 * Manager credential), at most one Sender Context, and Recipient Contexts created per kid from
 * the known credentials. Group mode and pairwise mode are two ways of using this one object.
 * A rekey produces a new instance ({@link Group#rekey}); this one never changes its keys.
 */
public final class GroupContext {
    private final CryptoProvider provider;
    private final GroupAlgorithms algs;
    private final byte[] gid;
    private final SecretBytes masterSecret;
    private final byte[] masterSalt;
    private final Credential gmCred;
    private final byte[] commonIv;
    private final SecretBytes seKey;
    private final byte[] algorithmsCbor;
    private final String name;
    private final ContextState state;
    private final int replayWindowSize;

    // Sender Context (absent for a silent server)
    private final byte[] senderId;
    private final PrivateKey privateKey;
    private final PrivateKey agreementKey;
    private final Credential ownCred;
    private final SecretBytes senderKey;
    private final AeadKey senderGroupKey;
    private final SenderSequence sequence;

    // Recipient Contexts
    private final Map<String, Credential> knownCredentials;
    private final UnknownKidPolicy unknownKids;
    private final int maxRecipients;
    private final Map<String, RecipientContext> recipients = new ConcurrentHashMap<>();
    private volatile boolean recipientsDeleted;

    private final boolean keyUsageLimits;
    private final long integrityLimit;
    private final KeyUsageCounter encryptions;

    // the Deterministic Client of cacheable-oscore (absent unless the Group Manager names one)
    private final byte[] detSenderId;
    private final dev.coterie.keystore.HashAlgorithm detHash;

    /** What to do with a message from a kid that has no Recipient Context yet (GRP-16). */
    public enum UnknownKidPolicy {
        /** Create a Recipient Context if a credential for the kid is known (the default). */
        CREATE_FROM_KNOWN_CREDENTIALS,
        /** Only members listed at construction; nothing is created later. */
        FIXED
    }

    private GroupContext(Builder b) throws StateUnavailableException {
        this.provider = b.provider;
        this.algs = Objects.requireNonNull(b.algorithms, "algorithms");
        this.gid = Objects.requireNonNull(b.gid, "Gid").clone();
        this.masterSecret = Objects.requireNonNull(b.masterSecret, "master secret");
        this.masterSalt = b.masterSalt == null ? new byte[0] : b.masterSalt.clone();
        this.gmCred = b.gmCred;
        this.replayWindowSize = b.replayWindowSize;
        this.name = b.name != null ? b.name : "group-" + Hex.encode(gid);
        this.commonIv = provider.hkdfPublic(algs.hkdf(), masterSalt, masterSecret,
                info(new byte[0], algs.derivationAlgorithm(), "IV", algs.commonIvLength()), algs.commonIvLength());
        this.seKey = algs.groupMode()
                ? provider.hkdf(algs.hkdf(), masterSalt, masterSecret,
                        info(new byte[0], algs.groupEncryption(), "SEKey", algs.groupEncryption().keyLength()),
                        algs.groupEncryption().keyLength())
                : null;
        this.algorithmsCbor = algs.algorithmsCbor();
        this.knownCredentials = new LinkedHashMap<>(b.credentials);
        this.unknownKids = b.unknownKids;
        this.maxRecipients = b.maxRecipients;
        if ((b.detSenderId == null) != (b.detHash == null)) {
            throw new IllegalArgumentException("the deterministic client needs both its Sender ID and a hash algorithm");
        }
        if (b.detSenderId != null) {
            checkId(b.detSenderId, "deterministic client Sender ID");
            if (!algs.pairwiseMode() || !algs.groupMode()) {
                throw new IllegalArgumentException("deterministic requests need pairwise mode (requests) and group mode (responses)");
            }
        }
        this.detSenderId = b.detSenderId == null ? null : b.detSenderId.clone();
        this.detHash = b.detHash;

        if (b.senderId != null) {
            checkId(b.senderId, "Sender ID");
            this.senderId = b.senderId.clone();
            this.privateKey = Objects.requireNonNull(b.privateKey, "a sender needs its private key");
            this.ownCred = Objects.requireNonNull(b.ownCred, "a sender needs its own credential");
            if (!Arrays.equals(ownCred.publicKey(), privateKey.publicKey())) {
                throw new IllegalArgumentException("the own credential does not hold the public key of the private key");
            }
            if (algs.groupMode() && !ownCred.supports(algs.signature())) {
                throw new IllegalArgumentException("own credential " + ownCred.keyType() + " cannot sign with " + algs.signature());
            }
            if (algs.pairwiseMode() && !ownCred.supports(algs.pairwiseKeyAgreement())) {
                throw new IllegalArgumentException("own credential " + ownCred.keyType() + " cannot do " + algs.pairwiseKeyAgreement());
            }
            this.agreementKey = !algs.pairwiseMode() ? null
                    : privateKey.type() == PrivateKey.Type.ED25519 ? provider.ed25519PrivateToX25519(privateKey) : privateKey;
            AeadAlgorithm d = algs.derivationAlgorithm();
            this.senderKey = provider.hkdf(algs.hkdf(), masterSalt, masterSecret, info(senderId, d, "Key", d.keyLength()), d.keyLength());
            this.senderGroupKey = algs.groupMode() ? provider.aeadKey(algs.groupEncryption(), senderKey) : null;
        } else {
            this.senderId = null;
            this.privateKey = null;
            this.agreementKey = null;
            this.ownCred = null;
            this.senderKey = null;
            this.senderGroupKey = null;
        }
        // the state file: a one-way function of the epoch and the member
        byte[] idInfo = new CborWriter(64).array(3).text("coterie group state id").bytes(gid)
                .bytes(senderId == null ? new byte[0] : senderId).toByteArray();
        if (replayWindowSize < 1 || replayWindowSize > 64) {
            throw new IllegalArgumentException("replay window size must be 1..64, was " + replayWindowSize);
        }
        this.keyUsageLimits = b.keyUsageLimits;
        this.integrityLimit = b.integrityLimit;
        AeadAlgorithm strictest = algs.groupEncryption() != null && (algs.aead() == null
                || algs.groupEncryption().confidentialityLimit() < algs.aead().confidentialityLimit())
                ? algs.groupEncryption() : algs.aead();
        this.encryptions = keyUsageLimits ? KeyUsageCounter.encryptions(strictest)
                : KeyUsageCounter.withLimit("encryptions (limits off)", Long.MAX_VALUE);
        this.state = b.store.load("g" + Hex.encode(provider.hkdfPublic(algs.hkdf(), masterSalt, masterSecret, idInfo, 8)));
        this.sequence = senderId == null ? null : state.senderSequence();
        try {
            if (sequence != null && keyUsageLimits) {
                sequence.limit(strictest.confidentialityLimit() - 1);
            }
            for (Map.Entry<String, Credential> e : b.credentials.entrySet()) {
                if (unknownKids == UnknownKidPolicy.FIXED) {
                    recipient(Hex.decode(e.getKey()), true);
                }
            }
        } catch (RuntimeException e) {
            state.abandon(); // a context that failed to build must not keep its state locked
            throw e;
        }
    }

    private void checkId(byte[] id, String what) {
        if (id.length > algs.maxSenderIdLength()) {
            throw new IllegalArgumentException(what + " longer than " + algs.maxSenderIdLength() + " bytes (GRP-01)");
        }
    }

    /** [id, Gid, alg, type, L]: the info of Section 2.1 (Gid as ID Context). */
    byte[] info(byte[] id, AeadAlgorithm alg, String type, int length) {
        return new CborWriter(32).array(5).bytes(id).bytes(gid).integer(alg.coseId()).text(type).integer(length).toByteArray();
    }

    public static Builder builder() {
        return new Builder();
    }

    public String name() { return name; }
    public GroupAlgorithms algorithms() { return algs; }
    public byte[] gid() { return gid.clone(); }
    public byte[] senderId() { return senderId == null ? null : senderId.clone(); }
    public boolean isSilent() { return senderId == null; }
    public Credential ownCredential() { return ownCred; }
    public Credential groupManagerCredential() { return gmCred; }
    public byte[] commonIv() { return commonIv.clone(); }
    public CryptoProvider provider() { return provider; }
    public SenderSequence senderSequence() { return sequence; }
    public ContextState state() { return state; }
    /** The Deterministic Client's Sender ID (det_senderId), or null if the group has none. */
    public byte[] deterministicSenderId() { return detSenderId == null ? null : detSenderId.clone(); }
    /** The hash algorithm of deterministic requests (det_hash_alg), or null. */
    public dev.coterie.keystore.HashAlgorithm deterministicHash() { return detHash; }

    byte[] gidRaw() { return gid; }
    byte[] senderIdRaw() { return senderId; }
    byte[] algorithmsCbor() { return algorithmsCbor; }
    byte[] gmCredRaw() { return gmCred == null ? new byte[0] : gmCred.encodedUnsafe(); }
    byte[] ownCredRaw() { return ownCred.encodedUnsafe(); }
    AeadKey senderGroupKey() { return senderGroupKey; }
    PrivateKey signingKey() { return privateKey; }
    SecretBytes signatureEncryptionKey() { return seKey; }
    SecretBytes masterSecret() { return masterSecret; }
    byte[] masterSalt() { return masterSalt; }

    /** Sender Key and Signature Encryption Key, for vector checks only (compared, never printed). */
    public SecretBytes[] derivedKeysForVectors() {
        return new SecretBytes[] {senderKey, seKey};
    }

    /** The Recipient Key a given Sender ID would have (vector checks). */
    public SecretBytes recipientKeyForVectors(byte[] rid) {
        return deriveRecipientKey(rid);
    }

    byte[] commonIvRaw() { return commonIv; }
    boolean keyUsageLimits() { return keyUsageLimits; }
    /** A v lower than the algorithms' (tests), or 0 for theirs. */
    long integrityLimit() { return integrityLimit; }

    /**
     * Counts one encryption by this member against the confidentiality limit q of its keys
     * (draft-ietf-core-oscore-key-limits), one count for all of them, on the safe side.
     */
    void useSenderKeys() throws dev.coterie.oscore.OscoreException.ProtectionRefused {
        if (state.isClosed()) {
            throw new dev.coterie.oscore.OscoreException.ProtectionRefused(CLOSED);
        }
        if (!encryptions.tryCount()) {
            throw new dev.coterie.oscore.OscoreException.ProtectionRefused("this member's keys reached their usage limit ("
                    + encryptions.describe() + "); the group must be rekeyed");
        }
    }
    byte[] deterministicSenderIdRaw() { return detSenderId; }

    /* ------------------------------------------------------------ views (the modes of this one context) */

    /** This member sending group-mode requests (Section 7.1), to the group or to one member. */
    public dev.coterie.oscore.RequestProtector groupMode() {
        return groupMode(null);
    }

    /** As {@link #groupMode()}, accepting responses under the newer epochs of {@code epochs} (GRP-21). */
    public dev.coterie.oscore.RequestProtector groupMode(GroupContextDb epochs) {
        if (!algs.groupMode()) {
            throw new IllegalStateException("group " + name + " has no group mode");
        }
        return new GroupProtector(this, dev.coterie.oscore.ProtectionMode.GROUP, null, epochs);
    }

    /** This member sending pairwise-mode requests to {@code member} (Section 8.1): only that member can read them. */
    public dev.coterie.oscore.RequestProtector pairwise(byte[] member) {
        return pairwise(member, null);
    }

    public dev.coterie.oscore.RequestProtector pairwise(byte[] member, GroupContextDb epochs) {
        if (!algs.pairwiseMode()) {
            throw new IllegalStateException("group " + name + " has no pairwise mode");
        }
        RecipientContext peer = recipient(member);
        if (peer == null) {
            throw new IllegalArgumentException("pairwise mode needs a known member; no credential for " + Hex.encode(member));
        }
        return new GroupProtector(this, dev.coterie.oscore.ProtectionMode.PAIRWISE, peer, epochs);
    }

    /**
     * Deterministic requests in the name of the group's Deterministic Client (cacheable-oscore
     * Section 3.3).
     *
     * @param member the one member addressed, or null for a request to the group
     * @param innerObserveZero add an inner Observe 0 to requests without one (the draft's advice; every client
     *     of a group must make the same choice, or their requests differ)
     * @param padTo pad the plaintext to at least this many bytes with the Padding option (0: none)
     */
    public dev.coterie.oscore.RequestProtector deterministic(byte[] member, GroupContextDb epochs,
                                                            dev.coterie.oscore.ExtensionOptionRegistry registry,
                                                            boolean innerObserveZero, int padTo) {
        RecipientContext peer = null;
        if (member != null) {
            peer = recipient(member);
            if (peer == null) {
                throw new IllegalArgumentException("no credential for member " + Hex.encode(member));
            }
        }
        return new DeterministicProtector(this, peer, epochs, registry, innerObserveZero, padTo);
    }

    /* ------------------------------------------------------------ deterministic client (cacheable-oscore 3) */

    private volatile SecretBytes detSenderKey;

    /** The Deterministic Client's Sender Key, derived like any member's (Section 2.1): every member can compute it. */
    private SecretBytes deterministicSenderKey() {
        SecretBytes k = detSenderKey;
        if (k == null) {
            if (detSenderId == null) {
                throw new IllegalStateException("group " + name + " has no deterministic client");
            }
            k = deriveRecipientKey(detSenderId);
            detSenderKey = k;
        }
        return k;
    }

    /** H = Hash(SenderKey_det || aad_array || plaintext) (cacheable-oscore 3.3 step 3). */
    byte[] deterministicRequestHash(byte[] aadArray, byte[] plaintext) {
        return provider.hash(detHash, deterministicSenderKey(), aadArray, plaintext);
    }

    /** K = HKDF(SenderKey_det, H, [det SID, Gid, AEAD Alg, "Key", L]) (step 4): the key of the request with hash H. */
    AeadKey deterministicRequestKey(byte[] h) {
        AeadAlgorithm a = algs.aead();
        byte[] info = detKeyInfo;
        if (info == null) {
            detKeyInfo = info = info(detSenderId, a, "Key", a.keyLength()); // constant per context
        }
        SecretBytes k = provider.hkdf(algs.hkdf(), deterministicSenderKey(), h, NO_SECRET, info, a.keyLength());
        return provider.oneShotAeadKey(a, k); // used once by the client, once by the server
    }

    private final java.util.Map<dev.coterie.oscore.ProtectionMode, String> descriptions = new java.util.concurrent.ConcurrentHashMap<>();

    /** How {@code mode} protects messages in this group, for traces. */
    String description(dev.coterie.oscore.ProtectionMode mode) {
        return descriptions.computeIfAbsent(mode, m -> GroupViews.build(this, m));
    }

    private static final SecretBytes NO_SECRET = SecretBytes.copyOf(new byte[0]);
    private volatile byte[] detKeyInfo;

    /**
     * The Recipient Context for {@code kid}, created on demand when the policy allows and a
     * credential is known (GRP-15, GRP-16); null otherwise.
     */
    public RecipientContext recipient(byte[] kid) {
        return recipient(kid, unknownKids == UnknownKidPolicy.CREATE_FROM_KNOWN_CREDENTIALS);
    }

    private RecipientContext recipient(byte[] kid, boolean create) {
        String key = Hex.encode(kid);
        RecipientContext r = recipients.get(key);
        if (r != null || !create) {
            return r;
        }
        Credential cred = knownCredentials.get(key);
        if (cred == null || kid.length > algs.maxSenderIdLength() || (senderId != null && Arrays.equals(kid, senderId))) {
            return null;
        }
        synchronized (recipients) {
            if (recipients.size() >= maxRecipients && !recipients.containsKey(key)) {
                return null;
            }
            return recipients.computeIfAbsent(key, k -> {
                dev.coterie.keystore.ReplayWindow w = state.replayWindow(kid, replayWindowSize);
                if (recipientsDeleted) {
                    // GRP-24: once a Recipient Context was deleted, new ones cannot trust their window
                    w.invalidate();
                }
                return new RecipientContext(this, kid.clone(), cred, w);
            });
        }
    }

    /**
     * Deletes a Recipient Context (to bound memory, GRP-16). From then on every Recipient Context
     * created in this epoch starts with an invalid replay window, rebuilt with the Echo procedure
     * (GRP-24, GRP-25).
     */
    public void deleteRecipient(byte[] kid) {
        if (recipients.remove(Hex.encode(kid)) != null) {
            recipientsDeleted = true;
        }
    }

    /**
     * The Recipient Context of the member holding {@code cred} in this epoch, or null. After a
     * rekey a member's Sender ID may change and its old one may be another's (GRP-20).
     */
    public RecipientContext recipientByCredential(Credential cred) {
        for (Map.Entry<String, Credential> e : knownCredentials.entrySet()) {
            if (e.getValue().equals(cred)) {
                return recipient(Hex.decode(e.getKey()));
            }
        }
        return null;
    }

    /** Forgets every pending Echo value of this epoch (GRP-25: deleted on rekeying). */
    public void forgetEchoes() {
        for (RecipientContext r : recipients.values()) {
            r.freshness().forgetEcho();
        }
    }

    /** Member credentials by Sender ID (hex), as provisioned. */
    public Map<String, Credential> knownCredentials() {
        return Collections.unmodifiableMap(knownCredentials);
    }

    AeadKey derivePairwiseSenderKey(RecipientContext peer) {
        SecretBytes shared = sharedSecret(peer);
        byte[] ikm = concat(ownCred.encodedUnsafe(), peer.credential().encodedUnsafe());
        SecretBytes k = provider.hkdf(algs.hkdf(), senderKey, ikm, shared,
                info(senderId, algs.aead(), "Key", algs.aead().keyLength()), algs.aead().keyLength());
        shared.destroy();
        return provider.aeadKey(algs.aead(), k);
    }

    AeadKey derivePairwiseRecipientKey(RecipientContext peer) {
        SecretBytes shared = sharedSecret(peer);
        byte[] ikm = concat(peer.credential().encodedUnsafe(), ownCred.encodedUnsafe());
        SecretBytes k = provider.hkdf(algs.hkdf(), peer.recipientKey(), ikm, shared,
                info(peer.idRaw(), algs.aead(), "Key", algs.aead().keyLength()), algs.aead().keyLength());
        shared.destroy();
        return provider.aeadKey(algs.aead(), k);
    }

    private SecretBytes sharedSecret(RecipientContext peer) {
        if (agreementKey == null) {
            throw new IllegalStateException("pairwise mode needs a Sender Context with a key-agreement key");
        }
        KeyAgreementAlgorithm ka = algs.pairwiseKeyAgreement();
        return provider.agree(ka, agreementKey, peer.credential().agreementPublicKey(ka, provider));
    }

    SecretBytes deriveRecipientKey(byte[] rid) {
        AeadAlgorithm d = algs.derivationAlgorithm();
        return provider.hkdf(algs.hkdf(), masterSalt, masterSecret, info(rid, d, "Key", d.keyLength()), d.keyLength());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The message of every refusal by a closed group context (no key material). */
    static final String CLOSED = "the group context is closed; it protects and verifies nothing more";

    /** Persists replay windows and marks the state clean; from then on nothing is sealed or opened. */
    public void close() throws StateUnavailableException {
        state.close();
    }

    /** Whether {@link #close()} was called (or its state was abandoned). */
    public boolean isClosed() {
        return state.isClosed();
    }

    /** Refuses to open anything once the context is closed. */
    void checkOpen() throws dev.coterie.oscore.OscoreException.ContextNotFound {
        if (state.isClosed()) {
            throw new dev.coterie.oscore.OscoreException.ContextNotFound(CLOSED);
        }
    }

    @Override
    public String toString() {
        return "GroupContext[" + name + ", Gid " + Hex.encode(gid) + (senderId != null ? ", sender " + Hex.encode(senderId) : ", silent")
                + ", " + recipients.size() + " recipient(s)]";
    }

    public static final class Builder {
        private CryptoProvider provider = CryptoProviders.defaultProvider();
        private GroupAlgorithms algorithms = GroupAlgorithms.defaults();
        private byte[] gid;
        private SecretBytes masterSecret;
        private byte[] masterSalt;
        private Credential gmCred;
        private byte[] senderId;
        private PrivateKey privateKey;
        private Credential ownCred;
        private final Map<String, Credential> credentials = new LinkedHashMap<>();
        private UnknownKidPolicy unknownKids = UnknownKidPolicy.CREATE_FROM_KNOWN_CREDENTIALS;
        private int maxRecipients = 256;
        private int replayWindowSize = 32;
        private SecurityStateStore store;
        private String name;
        private boolean keyUsageLimits = true;
        private long integrityLimit;
        private byte[] detSenderId;
        private dev.coterie.keystore.HashAlgorithm detHash;

        public Builder provider(CryptoProvider p) { provider = Objects.requireNonNull(p); return this; }
        public Builder algorithms(GroupAlgorithms a) { algorithms = Objects.requireNonNull(a); return this; }
        public Builder gid(byte[] g) { gid = g; return this; }
        public Builder masterSecret(SecretBytes s) { masterSecret = s; return this; }
        public Builder masterSalt(byte[] s) { masterSalt = s; return this; }
        public Builder groupManagerCredential(Credential c) { gmCred = c; return this; }
        /** The own Sender Context; omit for a silent server. */
        public Builder sender(byte[] id, PrivateKey key, Credential cred) {
            senderId = id;
            privateKey = key;
            ownCred = cred;
            return this;
        }
        /** A member's credential, by its Sender ID. */
        public Builder member(byte[] senderIdOfMember, Credential cred) {
            credentials.put(Hex.encode(senderIdOfMember), cred);
            return this;
        }
        public Builder unknownKids(UnknownKidPolicy p) { unknownKids = Objects.requireNonNull(p); return this; }
        public Builder maxRecipients(int n) { maxRecipients = n; return this; }
        public Builder replayWindowSize(int n) { replayWindowSize = n; return this; }
        public Builder stateStore(SecurityStateStore s) { store = s; return this; }
        public Builder name(String n) { name = n; return this; }
        /** Whether the AEAD key usage limits are enforced (default on); off only for benchmarks. */
        public Builder keyUsageLimits(boolean on) { keyUsageLimits = on; return this; }
        /** For tests: a failed-decryption limit v lower than the algorithms' (never higher), so it is reached quickly. */
        Builder integrityLimit(long v) { integrityLimit = v; return this; }
        /** The Deterministic Client (det_senderId, det_hash_alg; cacheable-oscore Section 3.1). */
        public Builder deterministicClient(byte[] senderId, dev.coterie.keystore.HashAlgorithm hash) {
            detSenderId = senderId;
            detHash = hash;
            return this;
        }

        public GroupContext build() throws StateUnavailableException {
            Objects.requireNonNull(store, "state store (SecurityStateStore.inMemory() for tests)");
            for (Map.Entry<String, Credential> e : credentials.entrySet()) {
                Credential c = e.getValue();
                if (algorithms.groupMode() && !c.supports(algorithms.signature())) {
                    throw new IllegalArgumentException("credential of member " + e.getKey() + " (" + c.keyType()
                            + ") does not fit " + algorithms.signature());
                }
                if (!algorithms.groupMode() && !c.supports(algorithms.pairwiseKeyAgreement())) {
                    throw new IllegalArgumentException("credential of member " + e.getKey() + " (" + c.keyType()
                            + ") does not fit " + algorithms.pairwiseKeyAgreement());
                }
            }
            return new GroupContext(this);
        }
    }
}
