package dev.coterie.oscore;

/** A message was not sent because it could not be protected (fail closed). */
public final class OscoreSendRefusedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OscoreSendRefusedException(String message) {
        super(message);
    }
}
