package dev.coterie.oscore;

/**
 * The modes of the one protection pipeline. Each is a view of a security context: RFC 8613
 * OSCORE; Group OSCORE group mode (signed) and pairwise mode (draft-ietf-core-oscore-groupcomm
 * Sections 7, 8); and deterministic requests (draft-ietf-core-cacheable-oscore), which are
 * pairwise-style requests in the name of the group's Deterministic Client, answered in group mode.
 */
public enum ProtectionMode {
    OSCORE,
    GROUP,
    PAIRWISE,
    DETERMINISTIC;

    /** Whether the OSCORE option carries the Group Flag (0x20) for this mode (GRP-09). */
    public boolean groupFlag() {
        return this == GROUP;
    }

    public String label() {
        switch (this) {
            case OSCORE: return "OSCORE";
            case GROUP: return "group mode";
            case PAIRWISE: return "pairwise mode";
            default: return "deterministic request";
        }
    }
}
