package dev.coterie.oscore;

import org.eclipse.californium.core.coap.Request;

/**
 * The Group OSCORE variant of a group observation (observe-multicast-notifications Section 9,
 * digest 6.6, OMN-10): the phantom request protected in group mode with the server's own Sender
 * Context, and the identifiers (kid, Partial IV, kid context of the protected phantom) every
 * multicast notification is bound to. The Group OSCORE module implements it for one group
 * context; this module only calls it, so that the group observation itself stays in one place.
 */
public interface GroupObservationSecurity {

    /** The pipeline notifications are protected and verified with. */
    ProtectionPipeline pipeline();

    /**
     * Server: protects {@code plain} (a GET with Observe 0 and Token T) in group mode with the
     * server's own Sender ID as kid, a freshly consumed Sender Sequence Number as Partial IV and
     * the Gid as kid context, then processes the result as received (digest 6.1 step 3): its
     * signature and ciphertext are verified with the server's own credential, in an exchange of
     * its own that the server's own-kid rejection (GRP-23) does not apply to. The binding is a
     * server's: it protects the notifications, each with its own Partial IV.
     */
    Phantom protectPhantom(Request plain) throws OscoreException;

    /**
     * Client: verifies the phantom rebuilt from ph_req (with Token tpi_token) like a group-mode
     * request, but with no replay check and no Replay Window update, and without delivering it
     * (digest 6.6). The binding is a client's: it verifies the notifications as responses to the
     * phantom, from the server that protected it only, in the order of that server's Partial IVs.
     *
     * @param responder who protected the informative response that carried ph_req ({@link OscorePeer#of});
     *     when that is a member of the phantom's group (group or pairwise mode), the phantom must be
     *     protected under that member's own Sender ID (digest 6.6: the server protects the phantom
     *     with its own Sender Context), or it is refused
     */
    Phantom verifyPhantom(Request rebuilt, OscorePeer responder) throws OscoreException;

    /**
     * Server, observe-multicast-notifications Appendix D (OMN-13): protects {@code plain} (a GET
     * with Observe 0 and Token T) as a deterministic request of the group's Deterministic Client
     * (cacheable-oscore Section 3: kid = det Sender ID, Partial IV 0, Request-Hash, outer FETCH),
     * exactly as every member computes it from the same plain request, then processes it as
     * received. The binding protects the notifications as group-mode responses to that
     * deterministic request (the server's own kid and Partial IV, Request-Hash as class I).
     */
    default Phantom protectDeterministicPhantom(Request plain) throws OscoreException {
        throw new OscoreException.ProtectionRefused("this group observation has no Deterministic Client (OMN-13)");
    }

    /**
     * @param wire the protected phantom (outer code FETCH, outer options, ciphertext and signature)
     * @param plain what it decrypts to
     * @param binding the phantom's request identifiers
     */
    record Phantom(Request wire, Request plain, RequestIdentifiers binding) {
    }
}
