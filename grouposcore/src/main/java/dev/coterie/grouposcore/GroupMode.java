package dev.coterie.grouposcore;

/** How a Group OSCORE message is protected (draft-ietf-core-oscore-groupcomm-28 Sections 7 and 8). */
public enum GroupMode {
    /** Signed with the sender's private key; every member can verify and decrypt. Group Flag set. */
    GROUP,
    /** Encrypted with pairwise keys from static-static ECDH; only the addressed member can read it. */
    PAIRWISE
}
