package dev.coterie.oscore;

import dev.coterie.keystore.ReplayWindow;
import java.util.HashMap;
import java.util.Map;

/**
 * What a client keeps per responder over one request's lifetime (RFC 8613 Section 7.4.1 for
 * notifications, Group OSCORE Section 6.4 and GRP-19 for each server of a group request): which
 * Partial IVs that responder used, per epoch, at most one response without Partial IV, and the
 * freshest (epoch, Partial IV) seen. Updated only after a response verified.
 *
 * <p>Californium orders notifications by their Observe number per Token, and a group request has
 * one Token for every server. So the number delivered to the application is one counter per
 * request, increased for every notification that is the freshest from its own server. A stale
 * notification ({@link Verdict#OLDER}) is not delivered at all by the pipeline: with any number
 * it could get, Californium's orderer would take it as new once 128 s have passed. An older
 * epoch never counts as newer, whatever its Partial IV.
 */
public final class ResponseNumbers {
    /** What a verified response is to its responder's history. */
    public enum Verdict { NEWEST, OLDER, REPLAYED }

    private static final class Responder {
        final Map<Integer, ReplayWindow> windows = new HashMap<>(2);
        boolean withoutPivSeen;
        int freshestEpoch = Integer.MIN_VALUE;
        long freshestPiv = Long.MIN_VALUE;
    }

    private final Map<String, Responder> responders = new HashMap<>(2);
    private int delivered;

    /**
     * Checks and records one verified response. {@code partialIv} is -1 for a response without
     * one (it counts as the oldest, and only one is accepted per responder).
     */
    public synchronized Verdict record(String responder, int epochOrder, long partialIv) {
        Responder r = responders.computeIfAbsent(responder, k -> new Responder());
        if (partialIv < 0) {
            if (r.withoutPivSeen) {
                return Verdict.REPLAYED;
            }
            r.withoutPivSeen = true;
        } else {
            ReplayWindow w = r.windows.computeIfAbsent(epochOrder, k -> new ReplayWindow(64, true));
            if (w.accept(partialIv) != ReplayWindow.Verdict.FRESH) {
                return Verdict.REPLAYED;
            }
        }
        boolean newer = epochOrder > r.freshestEpoch || (epochOrder == r.freshestEpoch && partialIv > r.freshestPiv);
        if (!newer) {
            return Verdict.OLDER;
        }
        r.freshestEpoch = epochOrder;
        r.freshestPiv = partialIv;
        delivered = (delivered + 1) & 0xffffff;
        return Verdict.NEWEST;
    }

    /** The Observe number to deliver: the count of newest notifications so far (see the class comment). */
    public synchronized int deliveredNumber() {
        return delivered;
    }
}
