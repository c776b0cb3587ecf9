package dev.coterie.app.group;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.coterie.grouposcore.GroupContext;
import dev.coterie.grouposcore.GroupContextDb;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestProtector;
import dev.coterie.keystore.CryptoProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example group of docs/configuration.md loads and its members understand each other. */
class ExampleGroupTest {
    @TempDir
    Path dir;

    @Test
    void documentedBundlesWork() throws Exception {
        Path src = Path.of("..", "docs", "examples", "group", "lights", "members");
        for (String f : new String[] {"01.bundle.json", "01.key", "02.bundle.json", "02.key"}) {
            Files.copy(src.resolve(f), dir.resolve(f));
            // a clone leaves them world-readable; bundles and keys are refused unless owner-only
            Files.setPosixFilePermissions(dir.resolve(f), PosixFilePermissions.fromString("rw-------"));
        }
        GroupContext sw = MemberBundle.load(dir.resolve("01.bundle.json"), CryptoProviders.defaultProvider(), null);
        GroupContext lamp = MemberBundle.load(dir.resolve("02.bundle.json"), CryptoProviders.defaultProvider(), null);
        ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
        for (RequestProtector mode : java.util.List.of(sw.groupMode(), sw.pairwise(new byte[] {2}))) {
            Request r = new Request(Code.PUT, Type.NON);
            r.setMID(1);
            r.setToken(new byte[] {1});
            r.getOptions().setUriPath("light");
            r.setPayload("on");
            Request g = p.protectRequest(r, mode).wire();
            assertEquals("on", p.unprotectRequest(g, new GroupContextDb().add(lamp)).plain().getPayloadString(), mode.describe());
        }
    }
}
