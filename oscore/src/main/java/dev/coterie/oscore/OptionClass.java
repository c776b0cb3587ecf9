package dev.coterie.oscore;

/** RFC 8613 Section 4.1 option classes. */
public enum OptionClass {
    /** Encrypted and integrity protected (inner). The class of every unknown option. */
    E,
    /** Integrity protected only (outer, part of the external_aad). */
    I,
    /** Unprotected (outer). */
    U
}
