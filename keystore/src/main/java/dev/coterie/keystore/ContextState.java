package dev.coterie.keystore;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The persisted state of one security context: the sender's reservation bound and the replay
 * windows of its recipients. Windows survive a clean {@link #close()}; after a crash they load
 * invalid and must be rebuilt with the Echo procedure. Whoever loaded it owns the context until
 * {@link #close()} (or {@link #abandon()}); no one else can load it meanwhile.
 */
public final class ContextState {
    private final SecurityStateStore store;
    private final StateLease lease;
    private final String id;
    private final SenderSequence sender;
    private final Map<String, ReplayWindow> windows = new HashMap<>();
    private final Map<String, long[]> savedWindows;
    private final boolean windowsTrusted;
    // not guarded by this object's monitor: next() locks the sequence, and close() must lock it after this
    private final AtomicBoolean closed = new AtomicBoolean();

    ContextState(SecurityStateStore store, String id, StateLease lease, long senderStart, long blockSize,
                 Map<String, long[]> savedWindows, boolean windowsTrusted) {
        this.store = store;
        this.lease = lease;
        this.id = id;
        this.sender = new SenderSequence(this, senderStart, blockSize);
        this.savedWindows = savedWindows;
        this.windowsTrusted = windowsTrusted;
    }

    public String id() {
        return id;
    }

    public SenderSequence senderSequence() {
        return sender;
    }

    /**
     * The replay window for a recipient. A context seen for the first time, or one closed
     * cleanly, has a valid window; after an unclean stop it is invalid.
     */
    public synchronized ReplayWindow replayWindow(byte[] recipientId, int size) {
        String key = Hex.encode(recipientId);
        return windows.computeIfAbsent(key, k -> {
            long[] saved = savedWindows.get(k);
            if (!windowsTrusted) {
                return new ReplayWindow(size, false);
            }
            ReplayWindow w = new ReplayWindow(size, true);
            if (saved != null) {
                w.restore(saved[0], saved[1]);
            }
            return w;
        });
    }

    synchronized Map<String, ReplayWindow> windows() {
        return new HashMap<>(windows);
    }

    void persistReservation(long limit) throws StateUnavailableException {
        store.write(this, limit, false);
    }

    long reservedOnDisk() throws StateUnavailableException {
        return store.reservedOnDisk(id);
    }

    /**
     * Persists the replay windows and the next unused sequence number, marks the state clean, so
     * a restart may trust the windows and wastes no numbers, and gives up ownership (the lock and
     * the registry entry). From then on the sender sequence refuses to hand out numbers, so the
     * context cannot protect anything more. Closing again does nothing; if persisting fails the
     * ownership is given up all the same and the state stays unclean, as after a crash.
     */
    public void close() throws StateUnavailableException {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            // the sequence closes first: no number is handed out after the one we persist
            long[] stop = sender.close();
            long next = stop[0];
            long onDisk = reservedOnDisk();
            // a bound on disk other than our own last reservation was written by someone else: never lower it
            store.write(this, onDisk == stop[1] ? next : Math.max(next, onDisk), true);
        } finally {
            lease.release();
        }
    }

    /**
     * Gives up ownership without persisting anything, as a process that dies would: the state
     * stays unclean, so the next owner distrusts the replay windows and continues above the last
     * reservation. For tests that simulate a crash within one process, and for an owner that
     * cannot trust what it holds any more. The context refuses to protect afterwards.
     */
    public void abandon() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        sender.close();
        lease.release();
    }

    /** Whether {@link #close()} or {@link #abandon()} was called. */
    public boolean isClosed() {
        return closed.get();
    }
}
