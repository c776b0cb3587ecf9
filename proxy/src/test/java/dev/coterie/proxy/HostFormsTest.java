package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The host checks of {@link ForwardTarget} are plain loops (they run for every forwarded request);
 * each must accept exactly what the regular expression it replaced accepts.
 */
class HostFormsTest {
    private static final List<String> HOSTS = List.of("", "1", "127.0.0.1", "127.1", "2130706433", "0x7f.1", "0x", "0x7F000001",
            "1.2.3", "1.2.3.4.5", "1234.0.0.1", "1..2.3", ".1.2.3", "1.2.3.", "255.255.255.255", "example.org", "::1", "0xg",
            "١٢٧.0.0.1", "a.b.c.d", "01.02.03.04", "0x1.0x2", "0x.x", "1.2.3.4a");

    @Test
    void theLoopsAcceptWhatTheRegularExpressionsAccepted() {
        Pattern digitsDots = Pattern.compile("[0-9.]+");
        Pattern hexish = Pattern.compile("0x[0-9a-fA-F.x]+");
        Pattern quad = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
        for (String h : HOSTS) {
            boolean numeric = h.indexOf(':') >= 0 || digitsDots.matcher(h).matches() || hexish.matcher(h).matches();
            assertEquals(numeric, ForwardTarget.looksNumeric(h), "looksNumeric " + h);
            assertEquals(quad.matcher(h).matches(), ForwardTarget.dottedQuad(h), "dottedQuad " + h);
            assertEquals(!(h.indexOf(':') >= 0 || quad.matcher(h).matches()), ForwardTarget.isName(h), "isName " + h);
        }
    }
}
