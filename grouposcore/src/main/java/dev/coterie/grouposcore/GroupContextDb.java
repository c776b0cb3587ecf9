package dev.coterie.grouposcore;

import dev.coterie.keystore.Hex;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Group contexts by Gid (the kid context of every Group OSCORE request). Holds several epochs
 * of a group during a rekey, so that long exchanges keep working (GRP-20, GRP-21).
 */
public final class GroupContextDb {
    private final Map<String, GroupContext> byGid = new ConcurrentHashMap<>();
    private final Map<String, GroupContext> currentByName = new ConcurrentHashMap<>();

    public GroupContextDb add(GroupContext ctx) {
        if (byGid.putIfAbsent(Hex.encode(ctx.gidRaw()), ctx) != null) {
            throw new IllegalArgumentException("a group context with Gid " + Hex.encode(ctx.gidRaw()) + " is already installed");
        }
        currentByName.putIfAbsent(ctx.name(), ctx);
        return this;
    }

    /**
     * Installs a new epoch of a group (same name, new Gid and keys, GRP-29) and makes it the one
     * responses are protected with; the old epoch stays findable for messages still in flight.
     */
    public GroupContextDb installEpoch(GroupContext next) {
        add(next);
        currentByName.put(next.name(), next);
        return this;
    }

    /** The current epoch of {@code ctx}'s group (GRP-20: long exchanges move to it). */
    public GroupContext current(GroupContext ctx) {
        return currentByName.getOrDefault(ctx.name(), ctx);
    }

    /** Removes an epoch (after a rekey, once its long exchanges are over). */
    public void remove(GroupContext ctx) {
        byGid.remove(Hex.encode(ctx.gidRaw()), ctx);
    }

    public GroupContext find(byte[] gid) {
        return gid == null ? null : byGid.get(Hex.encode(gid));
    }
}
