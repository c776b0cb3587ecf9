package dev.coterie.oscore;

import dev.coterie.keystore.ReplayWindow;
import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * The one replay and freshness component of a (context, kid): its replay window (RFC 8613
 * Section 7.4) and the Echo value this server issued to rebuild an invalid window (Appendix
 * B.1.2; Group OSCORE GRP-24, GRP-25). The Echo challenge itself always draws a fresh Partial IV:
 * the pipeline answers it with request identifiers whose nonce cannot be reused.
 */
public final class Freshness {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ReplayWindow window;
    private byte[] pendingEcho;

    public Freshness(ReplayWindow window) {
        this.window = window;
    }

    public ReplayWindow window() {
        return window;
    }

    /** The Echo value for a challenge; the same one until it is consumed or forgotten. */
    synchronized byte[] issueEcho() {
        if (pendingEcho == null) {
            pendingEcho = new byte[8];
            RANDOM.nextBytes(pendingEcho);
        }
        return pendingEcho.clone();
    }

    /** True once for the value last issued (constant-time comparison). */
    synchronized boolean consumeEcho(byte[] echo) {
        if (pendingEcho != null && echo != null && MessageDigest.isEqual(pendingEcho, echo)) {
            pendingEcho = null;
            return true;
        }
        return false;
    }

    /** Drops a pending Echo value (GRP-25: on rekeying). */
    public synchronized void forgetEcho() {
        pendingEcho = null;
    }
}
