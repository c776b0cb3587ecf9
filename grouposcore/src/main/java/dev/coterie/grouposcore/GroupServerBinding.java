package dev.coterie.grouposcore;

/**
 * What a server keeps from a verified Group OSCORE request to protect its responses: the
 * epoch and the client's Recipient Context it was verified with, and the request's kid,
 * Partial IV, kid context and mode (GRP-20: kept across rekeying for long exchanges).
 */
public final class GroupServerBinding {
    private final GroupContext context;
    private final RecipientContext client;
    private final byte[] requestPiv;
    private final byte[] requestKidContext;
    private final GroupMode mode;
    private final boolean observe;

    GroupServerBinding(GroupContext context, RecipientContext client, byte[] requestPiv, byte[] requestKidContext,
                       GroupMode mode, boolean observe) {
        this.context = context;
        this.client = client;
        this.requestPiv = requestPiv;
        this.requestKidContext = requestKidContext;
        this.mode = mode;
        this.observe = observe;
    }

    public GroupContext context() { return context; }
    public RecipientContext client() { return client; }
    public GroupMode mode() { return mode; }
    public boolean isObserve() { return observe; }
    public byte[] requestPartialIv() { return requestPiv.clone(); }

    byte[] requestPivRaw() { return requestPiv; }
    byte[] requestKidContextRaw() { return requestKidContext; }
}
