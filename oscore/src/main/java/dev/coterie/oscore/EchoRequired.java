package dev.coterie.oscore;

/**
 * A request verified, but the replay window of its context is not valid (after an unclean
 * restart) and the request carried no Echo value this server issued. RFC 8613 Appendix B.1.2:
 * do not process it; answer 4.01 with a fresh inner Echo, protected with {@link #binding()}.
 */
public final class EchoRequired extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient RequestBinding binding;
    private final byte[] echo;

    EchoRequired(RequestBinding binding, byte[] echo) {
        super("replay window not initialised; Echo challenge needed", null, false, false);
        this.binding = binding;
        this.echo = echo;
    }

    public RequestBinding binding() {
        return binding;
    }

    /** The Echo value to send in the 4.01 response. */
    public byte[] echo() {
        return echo.clone();
    }
}
