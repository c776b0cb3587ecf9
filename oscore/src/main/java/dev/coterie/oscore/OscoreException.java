package dev.coterie.oscore;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;

/**
 * Why OSCORE processing failed. Each failure type names the response RFC 8613 Section 8.2
 * prescribes for a server (digest table 1.6); clients drop failed responses silently.
 * Messages never contain key material.
 */
public abstract sealed class OscoreException extends Exception {
    private static final long serialVersionUID = 1L;

    OscoreException(String message) {
        super(message, null, false, false);
    }

    /** The response a server sends for this failure (unprotected, Max-Age 0), or null for silence. */
    public abstract ResponseCode responseCode();

    /** The diagnostic payload of that response. */
    public abstract String diagnostic();

    /** COSE or OSCORE option decoding failed: 4.02 Bad Option. */
    public static final class DecodeFailure extends OscoreException {
        private static final long serialVersionUID = 1L;
        public DecodeFailure(String message) { super(message); }
        @Override public ResponseCode responseCode() { return ResponseCode.BAD_OPTION; }
        @Override public String diagnostic() { return "Failed to decode COSE"; }
    }

    /** No Recipient Context for (kid context, kid): 4.01 Unauthorized. */
    public static final class ContextNotFound extends OscoreException {
        private static final long serialVersionUID = 1L;
        public ContextNotFound(String message) { super(message); }
        @Override public ResponseCode responseCode() { return ResponseCode.UNAUTHORIZED; }
        @Override public String diagnostic() { return "Security context not found"; }
    }

    /** Partial IV seen before or older than the window: 4.01 Unauthorized. */
    public static final class Replay extends OscoreException {
        private static final long serialVersionUID = 1L;
        public Replay(String message) { super(message); }
        @Override public ResponseCode responseCode() { return ResponseCode.UNAUTHORIZED; }
        @Override public String diagnostic() { return "Replay detected"; }
    }

    /** The AEAD tag did not verify: 4.00 Bad Request. */
    public static final class DecryptionFailed extends OscoreException {
        private static final long serialVersionUID = 1L;
        public DecryptionFailed(String message) { super(message); }
        @Override public ResponseCode responseCode() { return ResponseCode.BAD_REQUEST; }
        @Override public String diagnostic() { return "Decryption failed"; }
    }

    /** This endpoint refuses to protect a message (no context, exhausted or unwritable state, nesting). */
    public static final class ProtectionRefused extends OscoreException {
        private static final long serialVersionUID = 1L;
        public ProtectionRefused(String message) { super(message); }
        @Override public ResponseCode responseCode() { return ResponseCode.INTERNAL_SERVER_ERROR; }
        @Override public String diagnostic() { return "OSCORE protection refused"; }
    }
}
