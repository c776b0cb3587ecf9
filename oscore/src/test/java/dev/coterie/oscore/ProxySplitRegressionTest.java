package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.CborWriter;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.Test;

/**
 * OSC-12 splitting of Proxy-Cri and Proxy-Uri (review A, finding L2): every input a client
 * cannot split is a ProtectionRefused from protectRequest, never a runtime exception that
 * escapes the OSCORE layer, and an IP literal must be one (RFC 3986 Section 3.2.2).
 */
class ProxySplitRegressionTest {
    private final ExtensionOptionRegistry reg = ExtensionOptionRegistry.defaults();
    private final ProtectionPipeline p = new ProtectionPipeline(reg);

    private Request withProxyCri(String segment) {
        byte[] cri = new CborWriter(400).array(3).integer(-1).array(1).text("h").array(1).text(segment).toByteArray();
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(1);
        r.setToken(new byte[] {1});
        r.getOptions().addOption(new Option(reg.californiumRegistry().getDefinitionByNumber(235), cri));
        return r;
    }

    @Test
    void OSC_12_aProxyCriPathSegmentOver255BytesIsRefusedNotThrown() throws Exception {
        ProtectionPipeline.ProtectedRequest ok = p.protectRequest(withProxyCri("a".repeat(255)), TestContexts.client().protector());
        assertEquals(1, ok.wire().getOptions().getOthers().size(), "positive control: 255 bytes is split; only Proxy-Cri stays outer");
        OscoreException.ProtectionRefused e = assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectRequest(withProxyCri("a".repeat(300)), TestContexts.client().protector()));
        assertEquals("a path segment of the Proxy-Cri is longer than 255 bytes", e.getMessage());
    }

    @Test
    void RFC3986_3_2_2_aProxyUriIpLiteralMustBeAnIpv6AddressOrIpvFuture() {
        assertEquals("coap://[::1]", ProxyUriSplit.split("coap://[::1]:5683/x").outerProxyUri(), "positive control");
        assertEquals("coap://[2001:db8::1]:61616", ProxyUriSplit.split("coap://[2001:DB8::1]:61616/x").outerProxyUri());
        assertEquals("coap://[::ffff:192.0.2.1]", ProxyUriSplit.split("coap://[::ffff:192.0.2.1]/x").outerProxyUri());
        assertEquals("coap://[v1.x]", ProxyUriSplit.split("coap://[v1.x]/x").outerProxyUri());
        assertEquals("coap://[vff.a:b!$&'()*+,;=~_-]", ProxyUriSplit.split("coap://[vFF.a:b!$&'()*+,;=~_-]/x").outerProxyUri());
        for (String bad : new String[] {"coap://[a b]/x", "coap://[]/x", "coap://[zz::1]/x", "coap://[1:2:3]/x",
                "coap://[192.0.2.1]/x", "coap://[::1%25eth0]/x", "coap://[example.com]/x", "coap://[v1.]/x",
                "coap://[v.x]/x", "coap://[v1x]/x", "coap://[vg.x]/x", "coap://[v1.x%41]/x", "coap://[v1.x^y]/x",
                "coap://[v" + "3".repeat(96) + "d]/x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ProxyUriSplit.split(bad), bad);
            assertEquals("Proxy-Uri has an invalid IP literal", e.getMessage(), bad);
        }
    }
}
