package dev.coterie.keystore;

/**
 * The persisted security state is missing, corrupt, exhausted, in use by another owner or cannot
 * be written. Not final: {@link StateInUseException} says which of these it is when a caller
 * needs to tell.
 */
public class StateUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;

    public StateUnavailableException(String message) {
        super(message);
    }

    public StateUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
