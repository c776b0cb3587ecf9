package dev.coterie.oscore;

/**
 * A server's view that protects the responses to one verified request. It decides the Partial
 * IV: the request nonce once at most, through {@link RequestIdentifiers#claimReusableNonce()}, and
 * only where the mode allows it; a fresh one otherwise and always for notifications.
 */
public interface ResponseProtector {
    /**
     * Seals one response.
     *
     * @param classI the class-I options encoded for the AAD (with Request-Hash for a deterministic request)
     * @param notification whether the response is a notification (it then draws its own Partial IV)
     */
    SealedResponse seal(RequestIdentifiers request, byte[] classI, byte[] plaintext, boolean notification)
            throws OscoreException;

    /** What sealing produced, and the mode and context it was protected with. */
    record SealedResponse(byte[] optionValue, byte[] payload, ProtectionMode mode, String contextName, String description) {
    }
}
