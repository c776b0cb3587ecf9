package dev.coterie.grouposcore;

import dev.coterie.oscore.ProtectionMode;

/**
 * What the group views share: how a mode is described. (Multicast destinations are checked for
 * every view in {@link dev.coterie.oscore.ProtectionPipeline#protectRequest}: port and guard.)
 */
final class GroupViews {
    private GroupViews() {
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
