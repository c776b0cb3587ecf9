package dev.coterie.grouposcore;

/**
 * A request verified but its Recipient Context's replay window is not valid (GRP-24, GRP-25):
 * answer with a protected 4.01 carrying only an Echo option and the server's own Partial IV.
 */
public final class GroupEchoRequired extends Exception {
    private static final long serialVersionUID = 1L;
    private final transient GroupServerBinding binding;
    private final byte[] echo;

    GroupEchoRequired(GroupServerBinding binding, byte[] echo) {
        super("replay window not initialised; Echo challenge needed", null, false, false);
        this.binding = binding;
        this.echo = echo;
    }

    public GroupServerBinding binding() { return binding; }
    public byte[] echo() { return echo.clone(); }
}
