package dev.coterie.grouposcore;

import dev.coterie.keystore.Hex;
import dev.coterie.keystore.ReplayWindow;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a client keeps from a Group OSCORE request until it frees the Token (Section 4.1.3.6,
 * GRP-19, GRP-20, GRP-22): the request's kid, Partial IV and kid context, the mode, the server
 * a pairwise request was addressed to, and one Response Number per server.
 */
public final class GroupRequestBinding {
    private final GroupContext context;
    private final byte[] requestKid;
    private final byte[] requestPiv;
    private final byte[] requestKidContext;
    private final GroupMode mode;
    private final byte[] target;
    private final boolean observe;
    private final Map<String, ReplayWindow> responseNumbers = new ConcurrentHashMap<>();
    private final Set<String> withoutPiv = new HashSet<>();
    private String freshestGid;
    private long freshestPiv = -1;
    private int delivered;

    GroupRequestBinding(GroupContext context, byte[] requestKid, byte[] requestPiv, byte[] requestKidContext,
                        GroupMode mode, byte[] target, boolean observe) {
        this.context = context;
        this.requestKid = requestKid;
        this.requestPiv = requestPiv;
        this.requestKidContext = requestKidContext;
        this.mode = mode;
        this.target = target;
        this.observe = observe;
    }

    public GroupContext context() { return context; }
    public GroupMode mode() { return mode; }
    public byte[] requestPartialIv() { return requestPiv.clone(); }
    public byte[] requestKid() { return requestKid.clone(); }
    /** The addressed server of a pairwise request, or null. */
    public byte[] target() { return target == null ? null : target.clone(); }
    public boolean isObserve() { return observe; }

    byte[] requestKidRaw() { return requestKid; }
    byte[] requestPivRaw() { return requestPiv; }
    byte[] requestKidContextRaw() { return requestKidContext; }
    byte[] targetRaw() { return target; }

    /**
     * Records a response's Partial IV from {@code kid} under {@code gid}; false if that server
     * used it before. Response Numbers are per epoch: a new Security Context starts them again
     * (GRP-06).
     */
    boolean acceptResponseNumber(byte[] gid, byte[] kid, long seq) {
        return responseNumbers.computeIfAbsent(Hex.encode(gid) + "/" + Hex.encode(kid), k -> new ReplayWindow(64, true))
                .accept(seq) == ReplayWindow.Verdict.FRESH;
    }

    /** At most one response without Partial IV per server and epoch (it counts as the oldest). */
    synchronized boolean acceptResponseWithoutPiv(byte[] gid, byte[] kid) {
        return withoutPiv.add(Hex.encode(gid) + "/" + Hex.encode(kid));
    }

    /**
     * The Observe value to deliver for a verified notification: increasing for each notification
     * fresher than all before it (a higher Partial IV in the same epoch, or any in a newer epoch),
     * the current value otherwise, so that a stack ordering by Observe keeps the freshest one.
     */
    synchronized int notificationNumber(byte[] gid, long piv) {
        String g = Hex.encode(gid);
        if (freshestGid == null || !freshestGid.equals(g) || piv > freshestPiv) {
            freshestGid = g;
            freshestPiv = piv;
            delivered = (delivered + 1) & 0xffffff;
        }
        return delivered;
    }
}
