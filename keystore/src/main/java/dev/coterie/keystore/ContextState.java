package dev.coterie.keystore;

import java.util.HashMap;
import java.util.Map;

/**
 * The persisted state of one security context: the sender's reservation bound and the replay
 * windows of its recipients. Windows survive a clean {@link #close()}; after a crash they load
 * invalid and must be rebuilt with the Echo procedure.
 */
public final class ContextState {
    private final SecurityStateStore store;
    private final String id;
    private final SenderSequence sender;
    private final Map<String, ReplayWindow> windows = new HashMap<>();
    private final Map<String, long[]> savedWindows;
    private final boolean windowsTrusted;

    ContextState(SecurityStateStore store, String id, long senderStart, long blockSize,
                 Map<String, long[]> savedWindows, boolean windowsTrusted) {
        this.store = store;
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

    /**
     * Persists the replay windows and the next unused sequence number, and marks the state
     * clean, so a restart may trust the windows and wastes no numbers. The context must not
     * protect anything afterwards.
     */
    public void close() throws StateUnavailableException {
        store.write(this, sender.peek(), true);
    }
}
