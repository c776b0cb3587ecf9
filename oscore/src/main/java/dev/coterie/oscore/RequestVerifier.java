package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Request;

/**
 * A server's view of the one sender an incoming request claims to come from, in the mode its
 * OSCORE option says, as found by a {@link RequestVerifier.Resolver}. It supplies the key, nonce,
 * AAD form and signature check of that mode; {@link ProtectionPipeline} does the rest.
 */
public interface RequestVerifier {
    ProtectionMode mode();

    String contextName();

    default String describe() {
        return mode().label();
    }

    /** The replay and freshness component of (context, kid); null when the mode has no replay window (DET-05). */
    Freshness freshness();

    /**
     * Verifies and decrypts: in group mode the signature first (GRP-14). Counts failures against
     * the key's integrity limit. Returns the plaintext.
     */
    byte[] open(ReceivedCose in) throws OscoreException;

    /** A check of the decrypted plaintext (a deterministic request's hash, DET-05); none by default. */
    default void checkPlaintext(ReceivedCose in, byte[] plaintext) throws OscoreException {
    }

    /**
     * Whether a request carrying this server's Echo value may rebuild an invalid replay window
     * (RFC 8613 Appendix B.1.2; GRP-25: only a unicast request, and a pairwise one where the
     * group has pairwise mode).
     */
    boolean echoRecoveryAllowed(Request received);

    /** Whether the first response to the request may reuse its nonce (the mode's rule). */
    boolean responseMayReuseNonce();

    /** The view that protects the responses to this request. */
    ResponseProtector responseProtector();

    /** Who the verified request comes from. */
    OscorePeer peer(OscoreOptionValue option);

    /** Where a server finds the sender an incoming request claims (RFC 8613 Section 8.2 step 2; Group OSCORE Section 6). */
    interface Resolver {
        /** Whether the Group Flag (0x20) is understood here (OSC-08, GRP-17). */
        boolean understandsGroupFlag();

        /**
         * The verifier for this request, or a failure naming the table row: no context
         * (4.01), a mode the group does not use, ...
         *
         * @param requestHash the value of the request's outer Request-Hash option, or null
         */
        RequestVerifier resolve(OscoreOptionValue option, Request received, byte[] requestHash) throws OscoreException;
    }
}
