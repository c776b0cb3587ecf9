package dev.coterie.keystore;

/** The persisted security state is missing, corrupt, exhausted or cannot be written. */
public final class StateUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public StateUnavailableException(String message) {
        super(message);
    }

    public StateUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
