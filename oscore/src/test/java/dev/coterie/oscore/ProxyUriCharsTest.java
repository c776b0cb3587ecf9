package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Proxy-Uri character checks are plain loops; each accepts exactly what its former regular expression did. */
class ProxyUriCharsTest {
    private static final List<String> INPUTS = List.of("", "coap", "coap+tcp", "c0ap", "0coap", "Coap", "co ap", "coaps.x-y",
            "example.org", "ex%41mple", "a_b~c!d$e&f'g(h)i*j+k,l;m=n", "a/b", "a?b", "a:b", "a@b", "ä", "١", "5683", "65536",
            "123456", "56a", "-", ".", "%");

    @Test
    void theLoopsAcceptWhatTheRegularExpressionsAccepted() {
        Pattern scheme = Pattern.compile("[a-z][a-z0-9+.-]*");
        Pattern regName = Pattern.compile("[a-z0-9._~!$&'()*+,;=%-]+");
        Pattern port = Pattern.compile("\\d{1,5}");
        for (String s : INPUTS) {
            assertEquals(scheme.matcher(s).matches(), ProxyUriSplit.isScheme(s), "scheme " + s);
            assertEquals(regName.matcher(s).matches(), ProxyUriSplit.isRegName(s), "reg-name " + s);
            assertEquals(port.matcher(s).matches(), ProxyUriSplit.isPort(s), "port " + s);
        }
    }
}
