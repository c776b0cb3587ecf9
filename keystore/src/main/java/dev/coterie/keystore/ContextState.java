package dev.coterie.keystore;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The persisted state of one security context: the sender's reservation bound and the replay
 * windows of its recipients. Windows survive a clean {@link #close()}; after a crash they load
 * invalid and must be rebuilt with the Echo procedure. Whoever loaded it owns the context until
 * {@link #close()} (or {@link #abandon()}); no one else can load it meanwhile.
 *
 * <p>A window that is invalid stays invalid across any number of clean closes until the Echo
 * procedure rebuilds it, and a clean close keeps the saved windows this session never used. A
 * recipient gets a valid, empty window only if it never had one: every recipient is recorded in
 * the state file (fsynced) before its first window is handed out, so an unlisted recipient is a
 * new one. Lock order: this object, then the file lock; the sender sequence takes only the file lock.
 */
public final class ContextState {
    private final SecurityStateStore store;
    private final StateLease lease;
    private final String id;
    private final SenderSequence sender;
    /** Windows handed out in this session. Guarded by this object. */
    private final Map<String, ReplayWindow> windows = new HashMap<>();
    /** Valid windows as the file had them at load (trusted only if it was clean). */
    private final Map<String, long[]> savedWindows;
    /** Recipients the file listed as invalid at load. */
    private final Set<String> savedInvalid;
    private final boolean windowsTrusted;
    /** Whether a recipient the file does not list never had a window, so it may start valid and empty. */
    private final boolean unlistedNew;
    /** Serialises writes of the state file. */
    private final Object fileLock = new Object();
    /** Every recipient the file lists or will list. Guarded by fileLock. */
    private final Set<String> known = new HashSet<>();
    /** The highest reservation bound this owner wrote. Guarded by fileLock. */
    private long reserved;
    // not guarded by this object's monitor: next() locks the sequence, and close() must lock it after this
    private final AtomicBoolean closed = new AtomicBoolean();

    ContextState(SecurityStateStore store, String id, StateLease lease, long senderStart, long blockSize,
                 Map<String, long[]> savedWindows, Set<String> savedInvalid, boolean windowsTrusted, boolean unlistedNew) {
        this.store = store;
        this.lease = lease;
        this.id = id;
        this.sender = new SenderSequence(this, senderStart, blockSize);
        this.savedWindows = savedWindows;
        this.savedInvalid = savedInvalid;
        this.windowsTrusted = windowsTrusted;
        this.unlistedNew = unlistedNew;
        this.known.addAll(savedWindows.keySet());
        this.known.addAll(savedInvalid);
        this.reserved = senderStart;
    }

    public String id() {
        return id;
    }

    public SenderSequence senderSequence() {
        return sender;
    }

    /**
     * The replay window for a recipient. It is valid if the state was closed cleanly with that
     * window valid, or if the recipient never had a window before (it is then recorded on disk
     * first); it is invalid after an unclean stop, if it was invalid at the last clean close, if
     * the state cannot record a new recipient, and once the context is closed.
     */
    public synchronized ReplayWindow replayWindow(byte[] recipientId, int size) {
        String key = Hex.encode(recipientId);
        ReplayWindow w = windows.get(key);
        if (w != null) {
            return w;
        }
        long[] saved = savedWindows.get(key);
        if (saved != null || savedInvalid.contains(key)) {
            w = new ReplayWindow(size, false);
            if (windowsTrusted && saved != null) {
                w.restore(saved[0], saved[1]);
            }
        } else if (unlistedNew && recordNewRecipient(key)) {
            w = new ReplayWindow(size, true);
        } else {
            w = new ReplayWindow(size, false);
        }
        if (closed.get()) {
            w.freeze();
        }
        windows.put(key, w);
        return w;
    }

    /** Lists a new recipient in the state file before its window is used; false if that failed. */
    private boolean recordNewRecipient(String key) {
        synchronized (fileLock) {
            if (closed.get()) {
                return false; // the lock may be gone: write nothing
            }
            known.add(key);
            try {
                long onDisk = store.reservedOnDisk(id);
                reserved = Math.max(reserved, onDisk);
                writeUnclean();
                return true;
            } catch (StateUnavailableException e) {
                return false; // fail closed: the window starts invalid and is rebuilt with Echo
            }
        }
    }

    /** The file as it must be while this owner runs: unclean, every known recipient untrusted. Holds fileLock. */
    private void writeUnclean() throws StateUnavailableException {
        store.write(id, reserved, false, unlistedNew, Map.of(), known);
    }

    /** Marks the state unclean right after loading it: from now on the windows in memory are ahead of the file. */
    void markUnclean() throws StateUnavailableException {
        synchronized (fileLock) {
            writeUnclean();
        }
    }

    void persistReservation(long limit) throws StateUnavailableException {
        synchronized (fileLock) {
            // raised before the write: a bound that may be on disk is never written lower again
            reserved = Math.max(reserved, limit);
            writeUnclean();
        }
    }

    long reservedOnDisk() throws StateUnavailableException {
        return store.reservedOnDisk(id);
    }

    /**
     * Persists the replay windows (every recipient ever seen, an invalid window as invalid) and
     * the next unused sequence number, marks the state clean, so a restart may trust the valid
     * windows and wastes no numbers, and gives up ownership (the lock and the registry entry).
     * From then on the sender sequence refuses to hand out numbers and the windows accept
     * nothing, so the context can neither protect nor verify anything more. Closing again does
     * nothing; if persisting fails the ownership is given up all the same and the state stays
     * unclean, as after a crash.
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
            long bound = onDisk == stop[1] ? next : Math.max(next, onDisk);
            synchronized (this) {
                synchronized (fileLock) {
                    Map<String, long[]> valid = new HashMap<>();
                    Set<String> invalid = new HashSet<>(known);
                    invalid.addAll(windows.keySet());
                    for (String k : Set.copyOf(invalid)) {
                        ReplayWindow w = windows.get(k);
                        // a window used this session: as it is now, and frozen so nothing moves it unrecorded;
                        // one not used: as the file had it, valid only if that was trusted
                        long[] st = w != null ? w.freeze() : windowsTrusted ? savedWindows.get(k) : null;
                        if (st != null) {
                            valid.put(k, st);
                            invalid.remove(k);
                        }
                    }
                    store.write(id, bound, true, unlistedNew, valid, invalid);
                }
            }
        } finally {
            freezeWindows();
            lease.release();
        }
    }

    /** Makes every window handed out refuse from now on (windows handed out later start frozen). */
    private synchronized void freezeWindows() {
        for (ReplayWindow w : windows.values()) {
            w.freeze();
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
        freezeWindows();
        lease.release();
    }

    /** Whether {@link #close()} or {@link #abandon()} was called. */
    public boolean isClosed() {
        return closed.get();
    }
}
