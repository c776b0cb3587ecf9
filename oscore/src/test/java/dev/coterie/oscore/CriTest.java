package dev.coterie.oscore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.CborWriter;
import dev.coterie.keystore.Hex;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.Test;

/** CRIs (draft-ietf-core-href-27, digest Section 11) and the Proxy-Cri split of an OSCORE client. */
class CriTest {
    private static final ExtensionOptionRegistry REG = ExtensionOptionRegistry.defaults();

    /** The digest's example: [-1, [h'C6336401', 61616], [".well-known", "core"]]. */
    @Test
    void CRI_01_theDigestExampleDecodesAndEncodesBack() {
        byte[] cbor = new CborWriter(64).array(3).integer(-1).array(2).bytes(Hex.decode("c6336401")).integer(61616)
                .array(2).text(".well-known").text("core").toByteArray();
        Cri cri = Cri.decode(cbor, "CRI");
        assertEquals("coap://198.51.100.1:61616/.well-known/core", cri.toUri());
        assertArrayEquals(cbor, cri.encode());
    }

    @Test
    void CRI_02_CRI_03_schemeIdsAndDefaultPortsAndHostLabels() {
        byte[] cbor = new CborWriter(64).array(2).integer(-2).array(3).text("sensor").text("example").integer(5684).toByteArray();
        Cri cri = Cri.decode(cbor, "CRI");
        assertEquals("coaps", cri.schemeName());
        assertEquals(5684, cri.defaultPort());
        assertEquals("coaps://sensor.example", cri.schemeAndAuthority().toUri(), "the default port is left out");
        assertArrayEquals(new CborWriter(32).array(2).integer(-2).array(2).text("sensor").text("example").toByteArray(),
                cri.schemeAndAuthority().encode());
    }

    @Test
    void CRI_04_malformedCrisAreRefusedWithoutRepeatingThem() {
        // indefinite-length array
        assertRefused(Hex.decode("9f20ff"), "indefinite");
        // a trailing default section written out: [-1, [h'7f000001'], []]
        assertRefused(new CborWriter(16).array(3).integer(-1).array(1).bytes(Hex.decode("7f000001")).array(0).toByteArray(),
                "trailing default");
        // a host label with a dot, an uppercase label, a 5-byte address, a port past 65535
        assertRefused(new CborWriter(16).array(2).integer(-1).array(1).text("a.b").toByteArray(), "label");
        assertRefused(new CborWriter(16).array(2).integer(-1).array(1).text("Host").toByteArray(), "label");
        assertRefused(new CborWriter(16).array(2).integer(-1).array(1).bytes(new byte[5]).toByteArray(), "4 or 16 bytes");
        assertRefused(new CborWriter(16).array(2).integer(-1).array(2).text("h").integer(70000).toByteArray(), "port");
        // a positive scheme, and bytes after the CRI
        assertRefused(new CborWriter(16).array(1).integer(1).toByteArray(), "scheme");
        assertRefused(Hex.decode("812000"), "after");
        // positive control: the smallest CRI
        assertEquals("coap:", Cri.decode(Hex.decode("8120"), "CRI").toUri());
    }

    private static void assertRefused(byte[] cbor, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Cri.decode(cbor, "CRI"));
        assertTrue(e.getMessage().toLowerCase().contains(why.toLowerCase()), e.getMessage());
    }

    /** Issue 6: Proxy-Cri is split like Proxy-Uri: scheme and authority outer, path and query inner. */
    @Test
    void OSC_12_proxyCriIsSplitLikeProxyUri() throws Exception {
        int number = REG.byName(ExtensionOptionRegistry.PROXY_CRI).number();
        byte[] cri = new CborWriter(64).array(4).integer(-1).array(3).text("sensor").text("example").integer(5683)
                .array(2).text("a/b").text("c").array(1).text("x=1&2").toByteArray();
        Request r = new Request(Code.GET, Type.CON);
        r.setMID(5);
        r.setToken(new byte[] {5});
        r.getOptions().addOption(new Option(REG.californiumRegistry().getDefinitionByNumber(number), cri));
        ProtectionPipeline p = new ProtectionPipeline(REG);
        Request wire = p.protectRequest(r, TestContexts.client().protector()).wire();
        byte[] outer = wire.getOptions().getOthers().stream().filter(o -> o.getNumber() == number).findFirst().orElseThrow()
                .getValue();
        assertArrayEquals(new CborWriter(32).array(2).integer(-1).array(2).text("sensor").text("example").toByteArray(), outer,
                "outer Proxy-Cri: scheme and authority, default port left out");
        Request v = p.unprotectRequest(OscoreProtectionTest.onWire(wire), new InMemoryContextDb().add(TestContexts.server()))
                .plain();
        assertEquals(List.of("a/b", "c"), v.getOptions().getUriPath());
        assertEquals(List.of("x=1&2"), v.getOptions().getUriQuery());
        // a fragment, or no authority, is refused before anything is sent
        Request frag = new Request(Code.GET, Type.CON);
        frag.getOptions().addOption(new Option(REG.californiumRegistry().getDefinitionByNumber(number),
                new CborWriter(32).array(5).integer(-1).array(1).text("h").array(0).array(0).text("f").toByteArray()));
        assertThrows(OscoreException.ProtectionRefused.class, () -> p.protectRequest(frag, TestContexts.client().protector()));
    }
}
