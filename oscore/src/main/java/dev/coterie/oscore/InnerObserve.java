package dev.coterie.oscore;

/**
 * What a server puts in the inner Observe option of a notification.
 */
public enum InnerObserve {
    /** RFC 8613 Section 4.1.3.5.2: empty; clients order notifications by Partial IV. The default. */
    EMPTY,
    /**
     * The same value as the outer Observe. For peers that order notifications by the inner value
     * (Eclipse Californium cf-oscore 3.13 does, and drops notifications with an empty one).
     */
    MIRROR
}
