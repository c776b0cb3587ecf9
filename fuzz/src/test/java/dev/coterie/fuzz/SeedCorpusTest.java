package dev.coterie.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ContextFile;
import dev.coterie.app.group.MemberBundle;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.PrivateKeyFile;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.ProxyUriSplit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/**
 * The seed corpus is what it claims: every target has seeds, and every seed that is not a
 * regression input is valid, so that the fuzzer starts from inputs that reach deep (a format
 * change that breaks them fails here; SeedCorpusWriter writes them anew). The regression inputs
 * ({@code regression-*}) run through their targets in regression mode.
 */
class SeedCorpusTest {
    private static List<Path> seeds(String target, String method) throws Exception {
        Path dir = Path.of(SeedCorpusTest.class.getResource(target + "Inputs/" + method).toURI());
        try (Stream<Path> s = java.nio.file.Files.list(dir)) {
            List<Path> all = s.sorted().toList();
            assertTrue(all.size() >= 3, target + " has " + all.size() + " seeds");
            return all.stream().filter(p -> !p.getFileName().toString().startsWith("regression-")).toList();
        }
    }

    private static byte[] read(Path p) throws Exception {
        return java.nio.file.Files.readAllBytes(p);
    }

    @Test
    void optionSeedsDecode() throws Exception {
        for (Path p : seeds("OscoreOptionFuzzTest", "optionValue")) {
            assertNotNull(OscoreOptionValue.decode(read(p), true), p.toString());
        }
    }

    @Test
    void oscoreMessageSeedsVerify() throws Exception {
        OscoreFixture f = new OscoreFixture();
        int wire = 0;
        for (Path p : seeds("OscoreUnprotectFuzzTest", "oscoreMessage")) {
            byte[] in = read(p);
            byte[] rest = Arrays.copyOfRange(in, 1, in.length);
            if ((in[0] & 3) == 0) {
                f.pipeline.unprotectRequest((Request) Messages.parse(rest), f.serverDb);
                wire++;
            } else if ((in[0] & 3) == 1) {
                f.pipeline.unprotectResponse((Response) Messages.parse(rest), f.setupIds[(in[0] >> 2) & 1].withoutNonceReuse());
                wire++;
            }
        }
        assertEquals(8, wire);
    }

    @Test
    void groupMessageSeedsVerify() throws Exception {
        GroupFixture f = new GroupFixture();
        int wire = 0;
        for (Path p : seeds("GroupUnprotectFuzzTest", "groupMessage")) {
            byte[] in = read(p);
            byte[] rest = Arrays.copyOfRange(in, 1, in.length);
            if ((in[0] & 3) == 0) {
                f.pipeline.unprotectRequest((Request) Messages.parse(rest), f.serverDb);
                wire++;
            } else if ((in[0] & 3) == 1) {
                f.pipeline.unprotectResponse((Response) Messages.parse(rest),
                        f.setupIds[Math.min((in[0] >> 2) & 3, 2)].withoutNonceReuse());
                wire++;
            }
        }
        assertEquals(10, wire);
    }

    @Test
    void credentialSeedsParse() throws Exception {
        for (Path p : seeds("CredentialFuzzTest", "ccs")) {
            assertNotNull(Credential.parseCcs(read(p)), p.toString());
        }
    }

    @Test
    void keyFileSeedsRead() throws Exception {
        for (Path p : seeds("PrivateKeyFileFuzzTest", "keyFile")) {
            Path dir = FuzzRules.tempDir("seed-key-");
            try {
                Path file = FuzzRules.ownerOnlyFile(dir, "k", read(p));
                if (p.getFileName().toString().startsWith("invalid-")) {
                    // a fuzzer finding kept as a seed: refused with the one exception the reader documents
                    org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                            () -> PrivateKeyFile.read(file, PrivateKeyFileFuzzTest.PASSPHRASE, GroupFixture.PROVIDER), p.toString());
                } else {
                    assertNotNull(PrivateKeyFile.read(file, PrivateKeyFileFuzzTest.PASSPHRASE, GroupFixture.PROVIDER), p.toString());
                }
            } finally {
                FuzzRules.deleteTree(dir);
            }
        }
    }

    @Test
    void contextFileSeedsLoad() throws Exception {
        for (Path p : seeds("ContextFileFuzzTest", "contextFile")) {
            Path dir = FuzzRules.tempDir("seed-context-");
            try {
                ContextFile.load(FuzzRules.ownerOnlyFile(dir, "context.json", read(p)), GroupFixture.PROVIDER, w -> { }).close();
            } finally {
                FuzzRules.deleteTree(dir);
            }
        }
    }

    @Test
    void bundleSeedsLoad() throws Exception {
        Path root = FuzzRules.tempDir("seed-bundles-");
        try {
            Path keys = java.nio.file.Files.createDirectory(root.resolve("keys"));
            Path kdir = Path.of(SeedCorpusTest.class.getResource("MemberBundleFuzzTestKeys").toURI());
            try (Stream<Path> s = java.nio.file.Files.list(kdir)) {
                for (Path k : s.toList()) {
                    FuzzRules.ownerOnlyFile(keys, k.getFileName().toString(), read(k));
                }
            }
            for (Path p : seeds("MemberBundleFuzzTest", "bundle")) {
                Path dir = java.nio.file.Files.createTempDirectory(root, "in-");
                MemberBundle.load(FuzzRules.ownerOnlyFile(dir, "b.json", read(p)), GroupFixture.PROVIDER, null).close();
            }
        } finally {
            FuzzRules.deleteTree(root);
        }
    }

    @Test
    void proxyUriSeedsSplit() throws Exception {
        int refused = 0;
        for (Path p : seeds("ProxyUriFuzzTest", "proxyUri")) {
            String uri = new String(read(p), StandardCharsets.UTF_8);
            if (p.getFileName().toString().startsWith("invalid-")) {
                // a seed of a rejection: refused with the one exception the split documents
                org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ProxyUriSplit.split(uri),
                        p.toString());
                refused++;
            } else {
                assertNotNull(ProxyUriSplit.split(uri), p.toString());
            }
        }
        org.junit.jupiter.api.Assertions.assertTrue(refused >= 1, "the invalid-IP-literal seed is among them");
    }

    @Test
    void informativeResponseSeedsDecode() throws Exception {
        for (Path p : seeds("InformativeResponseFuzzTest", "informativeResponse")) {
            dev.coterie.oscore.InformativeResponse ir = dev.coterie.oscore.InformativeResponse.decode(read(p));
            assertNotNull(ir.tpInfo(), p.toString());
        }
    }

    @Test
    void proxyCriSeedsDecode() throws Exception {
        for (Path p : seeds("ProxyCriFuzzTest", "proxyCri")) {
            assertNotNull(dev.coterie.oscore.Cri.decode(read(p), "seed"), p.toString());
        }
    }
}
