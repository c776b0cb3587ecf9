package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What both ends keep from one protected request until its last response (RFC 8613 Section 8,
 * OSC-22; Group OSCORE GRP-20): the request's kid, Partial IV and kid context, which enter every
 * response's AAD; the mode; the request hash of a deterministic request; and the view that
 * protects (server) or verifies (client) its responses.
 *
 * <p>Immutable except for two things. The request nonce can be reused by one response at most:
 * {@link #claimReusableNonce()} hands it out once, and every later response (a notification, a
 * second response relayed by a proxy, an Echo challenge) draws its own Partial IV. And a client
 * keeps {@link ResponseNumbers} per responder.
 *
 * <p>It is kept beside the exchange (the OSCORE layer's tables, keyed by exchange on a server
 * and by Token on a client), never inside a message, so a proxy that builds new messages keeps it.
 */
public final class RequestIdentifiers {
    private final ProtectionMode mode;
    private final String contextName;
    private final byte[] kid;
    private final byte[] partialIv;
    private final byte[] kidContext;
    private final byte[] requestHash;
    private final boolean observe;
    private final AtomicBoolean nonceReusable;
    private final ResponseProtector responseProtector;
    private final ResponseVerifier responseVerifier;
    private final OscorePeer peer;
    private final ResponseNumbers responseNumbers;

    private RequestIdentifiers(Builder b) {
        this.mode = Objects.requireNonNull(b.mode);
        this.contextName = Objects.requireNonNull(b.contextName);
        this.kid = Objects.requireNonNull(b.kid).clone();
        this.partialIv = Objects.requireNonNull(b.partialIv).clone();
        this.kidContext = b.kidContext == null ? null : b.kidContext.clone();
        this.requestHash = b.requestHash == null ? null : b.requestHash.clone();
        this.observe = b.observe;
        this.nonceReusable = new AtomicBoolean(b.nonceReusable);
        this.responseProtector = b.responseProtector;
        this.responseVerifier = b.responseVerifier;
        this.peer = b.peer;
        this.responseNumbers = b.responseVerifier != null ? new ResponseNumbers() : null;
        if ((responseProtector == null) == (responseVerifier == null)) {
            throw new IllegalArgumentException("request identifiers are either a server's (protector) or a client's (verifier)");
        }
    }

    /**
     * A builder for a client's identifiers (its protector's), or for tests. Whatever it is given,
     * what it builds never hands out the request nonce ({@link #claimReusableNonce()} returns
     * null): only identifiers that {@link ProtectionPipeline#unprotectRequest} built for a verified
     * request may, once.
     */
    public static Builder builder() {
        return new Builder();
    }

    public ProtectionMode mode() { return mode; }
    /** The name of the context that protected or verified the request. */
    public String contextName() { return contextName; }
    /** The request's kid: the requester's Sender ID (the Deterministic Client's for a deterministic request). */
    public byte[] kid() { return kid.clone(); }
    public byte[] partialIv() { return partialIv.clone(); }
    public byte[] kidContext() { return kidContext == null ? null : kidContext.clone(); }
    /** H of a deterministic request (Request-Hash), or null. */
    public byte[] requestHash() { return requestHash == null ? null : requestHash.clone(); }
    /** Whether the request carried an inner Observe option. */
    public boolean isObserve() { return observe; }
    /** Server side: the verified requester. Client side: the addressed member of a pairwise request, or null. */
    public OscorePeer peer() { return peer; }

    /** Server side: the view that protects the responses to this request. */
    public ResponseProtector responseProtector() {
        if (responseProtector == null) {
            throw new IllegalStateException("these are a client's request identifiers");
        }
        return responseProtector;
    }

    /** Client side: the view that verifies the responses to this request. */
    public ResponseVerifier responseVerifier() {
        if (responseVerifier == null) {
            throw new IllegalStateException("these are a server's request identifiers");
        }
        return responseVerifier;
    }

    /** Client side: Response Numbers per responder (GRP-19, OSC-17). */
    public ResponseNumbers responseNumbers() {
        return responseNumbers;
    }

    /**
     * The request's nonce for the one response that may reuse it, or null if it was claimed
     * before (or may never be reused, as for an Echo challenge). At most one caller ever gets it.
     */
    public SealingNonce claimReusableNonce() {
        return nonceReusable.compareAndSet(true, false) ? SealingNonce.requestNonce(kid, partialIv) : null;
    }

    /** The request nonce's inputs for verifying a response without Partial IV (decryption only). */
    public SealingNonce requestNonceForVerification() {
        return SealingNonce.requestNonce(kid, partialIv);
    }

    /** Raw access for AAD construction inside the core (never modified). */
    byte[] kidRaw() { return kid; }
    byte[] partialIvRaw() { return partialIv; }
    byte[] kidContextRaw() { return kidContext; }

    /** Identifiers for answering the same request again, whose responses may never reuse the request nonce. */
    public RequestIdentifiers withoutNonceReuse() {
        RequestIdentifiers copy = new Builder().from(this).nonceReusable(false).build();
        return copy;
    }

    @Override
    public String toString() {
        return "RequestIdentifiers[" + mode.label() + ", " + contextName + ", kid " + (kid.length == 0 ? "''" : Hex.encode(kid))
                + ", Partial IV " + Hex.encode(partialIv) + (kidContext != null ? ", kid context " + Hex.encode(kidContext) : "")
                + "]";
    }

    public static final class Builder {
        private ProtectionMode mode;
        private String contextName;
        private byte[] kid;
        private byte[] partialIv;
        private byte[] kidContext;
        private byte[] requestHash;
        private boolean observe;
        private boolean nonceReusable;
        private ResponseProtector responseProtector;
        private ResponseVerifier responseVerifier;
        private OscorePeer peer;

        public Builder mode(ProtectionMode m) { mode = m; return this; }
        public Builder contextName(String n) { contextName = n; return this; }
        public Builder kid(byte[] k) { kid = k; return this; }
        public Builder partialIv(byte[] p) { partialIv = p; return this; }
        public Builder kidContext(byte[] c) { kidContext = c; return this; }
        public Builder requestHash(byte[] h) { requestHash = h; return this; }
        public Builder observe(boolean o) { observe = o; return this; }
        /**
         * Whether one response may reuse the request nonce. Package-private: only
         * {@link ProtectionPipeline#unprotectRequest} sets it, for the identifiers of a request it
         * verified itself (the mode's rule), so a nonce can be reused once per verified request.
         */
        Builder nonceReusable(boolean r) { nonceReusable = r; return this; }
        /**
         * Server side: the view that protects the responses. Identifiers built here, outside the
         * pipeline, never let a response reuse the request nonce: every response draws its own
         * Partial IV.
         */
        public Builder responseProtector(ResponseProtector p) { responseProtector = p; return this; }
        public Builder responseVerifier(ResponseVerifier v) { responseVerifier = v; return this; }
        public Builder peer(OscorePeer p) { peer = p; return this; }

        Builder from(RequestIdentifiers i) {
            mode = i.mode;
            contextName = i.contextName;
            kid = i.kid;
            partialIv = i.partialIv;
            kidContext = i.kidContext;
            requestHash = i.requestHash;
            observe = i.observe;
            nonceReusable = i.nonceReusable.get();
            responseProtector = i.responseProtector;
            responseVerifier = i.responseVerifier;
            peer = i.peer;
            return this;
        }

        public RequestIdentifiers build() {
            return new RequestIdentifiers(this);
        }
    }
}
