package dev.coterie.app;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.Hex;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.ProtectionPipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.serialization.UdpDataParser;
import org.eclipse.californium.core.network.serialization.UdpDataSerializer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The context-file format expresses every RFC 8613 Appendix C context (empty Sender ID, no
 * Master Salt, ID Context): each example server context verifies the published protected
 * request of its appendix, and each client context talks to its server.
 */
class ExampleContextFilesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
        "c1, 4622d4dd6d944168eefb54987c, 44025d1f00003974396c6f63616c686f7374620914ff612f1092f1776f1c1668b3825e",
        "c2, be35ae297d2dace910c52e99f9, 440271c30000b932396c6f63616c686f737463091400ff4ed339a5a379b0b8bc731fffb0",
        "c3, 2ca58fb85ff1b81c0b7181b85e, 44022f8eef9bbf7a396c6f63616c686f73746b19140837cbf3210017a2d3ff72cd7273fd331ac45cffbe55c3"
    })
    void appendixCContextsLoadFromTheDocumentedFormat(String name, String commonIv, String publishedRequest) throws Exception {
        OscoreContext server = load("server-" + name);
        OscoreContext client = load("client-" + name);
        assertArrayEquals(Hex.decode(commonIv), server.commonIv());
        assertArrayEquals(Hex.decode(commonIv), client.commonIv());
        ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        InMemoryContextDb db = new InMemoryContextDb().add(server);
        Request published = (Request) new UdpDataParser().parseMessage(Hex.decode(publishedRequest));
        Request v = p.unprotectRequest(published, db).plain();
        assertEquals(Code.GET, v.getCode());
        assertEquals("tv1", v.getOptions().getUriPathString());

        Request r = new Request(Code.GET, Type.CON);
        r.setMID(1);
        r.setToken(new byte[] {1});
        r.getOptions().setUriPath("x");
        byte[] wire = new UdpDataSerializer().getByteArray(p.protectRequest(r, client.protector()).wire());
        assertEquals("x", p.unprotectRequest((Request) new UdpDataParser().parseMessage(wire), db).plain().getOptions()
                .getUriPathString());
    }

    private OscoreContext load(String name) throws Exception {
        Path src = Path.of("..", "docs", "examples", name + ".json");
        Path copy = dir.resolve(name + ".json");
        Files.copy(src, copy);
        return ContextFile.load(copy, CryptoProviders.defaultProvider());
    }
}
