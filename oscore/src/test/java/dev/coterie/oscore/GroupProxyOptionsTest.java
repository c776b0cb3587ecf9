package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionSet;
import org.junit.jupiter.api.Test;

/**
 * GPX-14 with the escalation algorithm (oscore-capable-proxies Section 2.2): the three
 * groupcomm-proxy options are class U end to end, so on an OSCORE hop they must be encrypted
 * for the proxy (Multicast-Timeout, in the request) and for the client (Reply-From, in each
 * relayed response).
 */
class GroupProxyOptionsTest {
    private final ExtensionOptionRegistry registry = ExtensionOptionRegistry.defaults();
    private final OptionClassifier classifier = new OptionClassifier(registry, InnerObserve.EMPTY);

    private static List<Integer> numbers(List<Option> l) {
        return l.stream().map(Option::getNumber).toList();
    }

    @Test
    void GPX_14_multicastTimeoutIsEncryptedForTheProxy_andOuterEndToEnd() throws Exception {
        OptionSet o = new OptionSet();
        o.addOption(new Option(2, 5L));
        o.setProxyUri("coap://lights.example/light");
        OptionClassifier.Split hop = classifier.split(o, OptionClassifier.Role.REQUEST, true, true);
        assertEquals(List.of(), numbers(hop.outer), "nothing for the proxy stays outer in its layer");
        assertEquals(List.of(2, 35), numbers(hop.inner));
        OptionClassifier.Split e2e = classifier.split(o, OptionClassifier.Role.REQUEST, false, false);
        assertEquals(List.of(2, 35), numbers(e2e.outer), "positive control: end to end it is class U, outer");
    }

    @Test
    void GPX_14_replyFromIsEncryptedInAResponseLayer() throws Exception {
        OptionSet o = new OptionSet();
        o.addOption(new Option(248, ReplyFrom.of(new java.net.InetSocketAddress("127.0.0.1", 5701)).encode()));
        o.setContentFormat(0);
        OptionClassifier.Split s = classifier.split(o, OptionClassifier.Role.RESPONSE, true, false);
        assertEquals(List.of(12, 248), numbers(s.inner));
        assertEquals(List.of(), numbers(s.outer));
        OptionSet refusal = new OptionSet();
        refusal.addOption(new Option(2, 2L)); // the minimum in a proxy's own 5.05 (GPX-10), or the empty one of GPX-03
        assertEquals(List.of(2), numbers(classifier.split(refusal, OptionClassifier.Role.RESPONSE, true, false).inner),
                "Multicast-Timeout in a proxy's own answer is encrypted too");
        OptionSet req = new OptionSet();
        req.addOption(new Option(248, new byte[] {0x01, 0x02, 0x03, 0x04, 0x05}));
        assertEquals(List.of(), numbers(classifier.split(req, OptionClassifier.Role.REQUEST, false, false).inner),
                "positive control: the rule is for responses, where only a proxy adds it");
    }
}
