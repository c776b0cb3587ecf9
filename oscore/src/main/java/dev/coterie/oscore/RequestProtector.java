package dev.coterie.oscore;

import java.util.List;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;

/**
 * A client's view of a security context that can protect requests in one mode: OSCORE, group
 * mode, pairwise mode towards one member, or the group's Deterministic Client. It supplies what
 * differs between the modes (Partial IV, kid and kid context, key, nonce, AAD form, signature);
 * {@link ProtectionPipeline} does the rest, the same for all of them.
 */
public interface RequestProtector {
    ProtectionMode mode();

    /** The name of the context, for traces and the verified-peer identity. */
    String contextName();

    /** How this view protects, in a phrase for message-flow traces (never key material). */
    default String describe() {
        return mode().label();
    }

    /**
     * Whether this view protects for an OSCORE-capable proxy, the next hop (oscore-capable-proxies
     * Section 2.2): the proxy-related options, Hop-Limit, Request-Hash and an inner layer's OSCORE
     * option are then encrypted for it rather than left outer. See {@link #forProxy}.
     */
    default boolean protectsForProxy() {
        return false;
    }

    /** {@code view} as the layer of a client and the proxy next to it (the hop layer). */
    static RequestProtector forProxy(RequestProtector view) {
        return new RequestProtector() {
            @Override public ProtectionMode mode() { return view.mode(); }
            @Override public String contextName() { return view.contextName(); }
            @Override public String describe() { return view.describe() + ", for the proxy (hop layer)"; }
            @Override public boolean protectsForProxy() { return true; }
            @Override public void checkDestination(Request plain) throws OscoreException.ProtectionRefused {
                view.checkDestination(plain);
            }
            @Override public byte[] plaintext(int code, List<Option> inner, byte[] payload) {
                return view.plaintext(code, inner, payload);
            }
            @Override public SealedRequest seal(byte[] classI, byte[] plaintext, boolean observe) throws OscoreException {
                return view.seal(classI, plaintext, observe);
            }
        };
    }

    /** Refuses a destination this view must not send to (pairwise mode to a multicast group, ...). */
    default void checkDestination(Request plain) throws OscoreException.ProtectionRefused {
    }

    /** The plaintext (RFC 8613 Section 5.3); a deterministic view shapes it (inner Observe 0, Padding). */
    default byte[] plaintext(int code, List<Option> inner, byte[] payload) {
        return Plaintext.encode(code, inner, payload);
    }

    /**
     * Seals one request: draws its Partial IV, builds the OSCORE option value and the AAD with
     * {@code classI}, encrypts {@code plaintext} (and signs, in group mode).
     *
     * @param observe whether the request registers an observation (kept in the identifiers)
     */
    SealedRequest seal(byte[] classI, byte[] plaintext, boolean observe) throws OscoreException;

    /**
     * What sealing produced: the OSCORE option value, the payload (ciphertext, and the encrypted
     * signature in group mode), the request hash a deterministic request carries in its outer
     * Request-Hash option (null otherwise), and the identifiers its responses are verified with.
     */
    record SealedRequest(byte[] optionValue, byte[] payload, byte[] requestHash, RequestIdentifiers identifiers) {
    }
}
