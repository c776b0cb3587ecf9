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

    public GroupContextDb add(GroupContext ctx) {
        if (byGid.putIfAbsent(Hex.encode(ctx.gidRaw()), ctx) != null) {
            throw new IllegalArgumentException("a group context with Gid " + Hex.encode(ctx.gidRaw()) + " is already installed");
        }
        return this;
    }

    /** Removes an epoch (after a rekey, once its long exchanges are over). */
    public void remove(GroupContext ctx) {
        byGid.remove(Hex.encode(ctx.gidRaw()), ctx);
    }

    public GroupContext find(byte[] gid) {
        return gid == null ? null : byGid.get(Hex.encode(gid));
    }
}
