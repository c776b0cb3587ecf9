package dev.coterie.oscore;

import dev.coterie.keystore.ReplayWindow;

/**
 * What both ends keep from a request until its last response (OSC-22): the context, the
 * request's kid and Partial IV (which enter every response's AAD), and its nonce (reused by a
 * response without Partial IV). For an observation the client also keeps the Notification
 * Number window (OSC-17).
 */
public final class RequestBinding {
    private final OscoreContext context;
    private final byte[] requestKid;
    private final byte[] requestPiv;
    private final byte[] requestNonce;
    private final boolean observe;
    private final ReplayWindow notifications;
    private boolean unprotectedNotificationSeen;

    RequestBinding(OscoreContext context, byte[] requestKid, byte[] requestPiv, byte[] requestNonce, boolean observe) {
        this.context = context;
        this.requestKid = requestKid;
        this.requestPiv = requestPiv;
        this.requestNonce = requestNonce;
        this.observe = observe;
        this.notifications = observe ? new ReplayWindow(64, true) : null;
    }

    public OscoreContext context() { return context; }
    public byte[] requestKid() { return requestKid.clone(); }
    public byte[] requestPartialIv() { return requestPiv.clone(); }
    public boolean isObserve() { return observe; }

    byte[] requestKidRaw() { return requestKid; }
    byte[] requestPivRaw() { return requestPiv; }
    byte[] requestNonce() { return requestNonce; }
    ReplayWindow notifications() { return notifications; }

    /** At most one notification without Partial IV is accepted; it counts as the oldest. */
    synchronized boolean acceptNotificationWithoutPiv() {
        if (unprotectedNotificationSeen) {
            return false;
        }
        unprotectedNotificationSeen = true;
        return true;
    }
}
