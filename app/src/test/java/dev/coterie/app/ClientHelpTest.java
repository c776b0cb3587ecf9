package dev.coterie.app;

import static dev.coterie.app.ClientFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ClientFixtures.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** Every option of {@code coterie client} is in its --help and in the user guide's "Client command reference". */
class ClientHelpTest {
    @Test
    void everyOptionIsDocumentedInTheHelpAndInTheClientCommandReference() throws Exception {
        Run help = run("client", "--help");
        assertEquals(0, help.status(), help.err());
        String guide = Files.readString(Path.of("..", "docs", "user-guide.md"));
        int at = guide.indexOf("\n## Client command reference\n");
        assertTrue(at > 0, "the section exists");
        String section = guide.substring(at + 1);
        int next = section.indexOf("\n## ", 3);
        if (next > 0) {
            section = section.substring(0, next); // up to the next section
        }
        int options = 0;
        for (OptionSpec o : new CommandLine(new ClientCommand()).getCommandSpec().options()) {
            for (String name : o.names()) {
                options++;
                assertTrue(help.out().contains(name), name + " in --help");
                assertTrue(section.contains("`" + name + "`") || section.contains("`" + name + " "), name + " in the guide");
                String description = String.join(" ", o.description());
                assertFalse(description.isBlank(), name + " has a description");
            }
        }
        assertTrue(options > 30, "the options were found: " + options);
    }
}
