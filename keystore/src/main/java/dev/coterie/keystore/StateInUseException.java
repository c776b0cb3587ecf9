package dev.coterie.keystore;

import java.nio.file.Path;

/**
 * Another owner, in this process or another one, has the context open: a second owner would
 * hand out the same sequence numbers under the same key, so the load is refused.
 */
public final class StateInUseException extends StateUnavailableException {
    private static final long serialVersionUID = 1L;

    private final transient Path lockFile;

    StateInUseException(String message, Path lockFile) {
        super(message);
        this.lockFile = lockFile;
    }

    /** The lock file that another owner holds, or null for an in-memory store. */
    public Path lockFile() {
        return lockFile;
    }
}
