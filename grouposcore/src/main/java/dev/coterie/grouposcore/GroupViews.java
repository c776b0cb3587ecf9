package dev.coterie.grouposcore;

import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectionMode;
import org.eclipse.californium.core.coap.Request;

/** What the group views share: the destination rules for group requests and how a mode is described. */
final class GroupViews {
    private GroupViews() {
    }

    /** A request to a multicast group: never to port 5684 (GCB-10), never outside a private network (the guard). */
    static void checkMulticastDestination(Request plain) throws OscoreException.ProtectionRefused {
        try {
            GroupEndpointBuilder.checkGroupPort(plain.getDestinationContext().getPeerAddress().getPort());
            MulticastGuard.check(plain.getDestinationContext().getPeerAddress().getAddress());
        } catch (IllegalStateException | IllegalArgumentException e) {
            throw new OscoreException.ProtectionRefused(e.getMessage());
        }
    }

    static String describe(GroupContext ctx, ProtectionMode mode) {
        return ctx.description(mode); // built once per context and mode: this is on every message's path
    }

    static String build(GroupContext ctx, ProtectionMode mode) {
        GroupAlgorithms a = ctx.algorithms();
        switch (mode) {
            case GROUP:
                return "group mode: encrypted with " + a.groupEncryption().coseName() + ", signed with " + a.signature()
                        + ", signature encrypted with the keystream";
            case PAIRWISE:
                return "pairwise mode: " + a.aead().coseName() + " with pairwise keys from " + a.pairwiseKeyAgreement()
                        + " static-static ECDH";
            default:
                return "deterministic request: " + a.aead().coseName() + " with a key derived from the request hash ("
                        + ctx.deterministicHash().coseName() + ")";
        }
    }
}
