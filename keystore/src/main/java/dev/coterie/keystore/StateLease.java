package dev.coterie.keystore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.util.Set;

/**
 * One owner's claim on the state of one context: its entry in the registry of open contexts
 * and, for a state directory, the exclusive OS lock on {@code <id>.lock}. Released once, by
 * {@link ContextState#close()} or {@link ContextState#abandon()}, or by a load that failed.
 */
final class StateLease {
    private final Set<String> registry;
    private final String key;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean released;

    StateLease(Set<String> registry, String key, FileChannel channel, FileLock lock) {
        this.registry = registry;
        this.key = key;
        this.channel = channel;
        this.lock = lock;
    }

    synchronized void release() {
        if (released) {
            return;
        }
        released = true;
        try {
            if (lock != null) {
                lock.release();
            }
        } catch (IOException ignored) {
            // closing the channel below releases the lock as well
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException ignored) {
            // the descriptor is gone either way; the OS drops the lock with it
        }
        // only now, so that a new owner in this process never opens the lock file while we still hold it
        synchronized (registry) {
            registry.remove(key);
        }
    }
}
