package dev.coterie.app;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code coterie} command. */
@Command(name = "coterie", mixinStandardHelpOptions = true, version = "coterie 0.1.0",
        description = "OSCORE and Group OSCORE for CoAP: vectors, client, server and demo.",
        subcommands = {VectorsCommand.class, ServerCommand.class, ClientCommand.class, ProxyCommand.class, GroupCommand.class, DemoCommand.class, DemoGroupCommand.class, DemoBuildingCommand.class, DemoAlarmCommand.class,
                CommandLine.HelpCommand.class})
public final class Coterie implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit status (for tests and the launcher). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Coterie());
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // configuration and input mistakes get one line; COTERIE_DEBUG=1 shows the stack
            commandLine.getErr().println("coterie " + commandLine.getCommandName() + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()));
            if (System.getenv("COTERIE_DEBUG") != null) {
                e.printStackTrace(commandLine.getErr());
            }
            return e instanceof IllegalArgumentException || e instanceof java.io.IOException ? 64 : 70;
        });
        return cl.execute(args);
    }
}
