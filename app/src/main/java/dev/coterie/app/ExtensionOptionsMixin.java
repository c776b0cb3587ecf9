package dev.coterie.app;

import dev.coterie.oscore.ExtensionOptionRegistry;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** {@code --option-number NAME=NUMBER}: move an option that has no IANA number yet. */
final class ExtensionOptionsMixin {
    @Option(names = "--option-number", paramLabel = "NAME=NUMBER",
            description = "override the number of an unassigned option (Multicast-Timeout, Feedback-Divider, Group-ETag, "
                    + "Listen-To-Multicast-Responses, Proxy-Cri, Proxy-Scheme-Number, Reply-From, Request-Hash, Padding)")
    List<String> overrides = new ArrayList<>();

    ExtensionOptionRegistry registry() {
        ExtensionOptionRegistry r = ExtensionOptionRegistry.defaults();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq < 1) {
                throw new IllegalArgumentException("--option-number expects NAME=NUMBER, got " + o);
            }
            r = r.with(o.substring(0, eq).trim(), Integer.parseInt(o.substring(eq + 1).trim()));
        }
        return r;
    }
}
