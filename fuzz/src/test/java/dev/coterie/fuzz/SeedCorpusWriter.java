package dev.coterie.fuzz;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.coterie.oscore.Plaintext;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Message;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.junit.jupiter.api.Test;

/**
 * Writes the generated part of the seed corpus (real protected messages from the pipeline, key
 * files, bundles) into {@code src/test/resources}. Not part of the build: run it after a change
 * of a format or of a fixture, then commit what it wrote.
 * <pre>
 * mvn -B -pl fuzz -am verify -Dtest=SeedCorpusWriter -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.skip=true \
 *     -Dfuzz.writeSeeds=$PWD/fuzz/src/test/resources
 * </pre>
 * {@link SeedCorpusTest} checks in every build that the seeds still are what they claim.
 */
class SeedCorpusWriter {
    static final String PACKAGE = "dev/coterie/fuzz/";

    @Test
    void write() throws Exception {
        String out = System.getProperty("fuzz.writeSeeds");
        assumeTrue(out != null && !out.isEmpty(), "-Dfuzz.writeSeeds=DIR writes the seed corpus");
        Path root = Path.of(out);
        oscore(root.resolve(PACKAGE + "OscoreUnprotectFuzzTestInputs/oscoreMessage"));
        group(root.resolve(PACKAGE + "GroupUnprotectFuzzTestInputs/groupMessage"));
        credentials(root.resolve(PACKAGE + "CredentialFuzzTestInputs/ccs"));
        keyFiles(root.resolve(PACKAGE + "PrivateKeyFileFuzzTestInputs/keyFile"));
        contextFiles(root.resolve(PACKAGE + "ContextFileFuzzTestInputs/contextFile"));
        bundles(root.resolve(PACKAGE + "MemberBundleFuzzTestInputs/bundle"), root.resolve(PACKAGE + "MemberBundleFuzzTestKeys"));
    }

    static void seed(Path dir, String name, byte[] content) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), content);
    }

    static byte[] prefixed(int selector, byte[] rest) {
        byte[] b = new byte[rest.length + 1];
        b[0] = (byte) selector;
        System.arraycopy(rest, 0, b, 1, rest.length);
        return b;
    }

    static byte[] wire(Message m) {
        return Messages.serialize(m);
    }

    private static void oscore(Path dir) throws Exception {
        OscoreFixture f = new OscoreFixture();
        ProtectionPipeline p = f.pipeline;
        dev.coterie.oscore.OscoreContext[] clients = {OscoreFixture.seedClient(0), OscoreFixture.seedClient(1)};
        // requests, as a client sends them
        Request get = Messages.get("hello", 1);
        seed(dir, "request-A-get", prefixed(0x00, wire(p.protectRequest(get, clients[0].protector()).wire())));
        Request post = new Request(Code.POST, Type.CON);
        post.setMID(2);
        post.setToken(new byte[] {1, 2});
        post.getOptions().setUriPath("echo").addUriQuery("a=1").setContentFormat(0).setAccept(50);
        post.setPayload("ping");
        seed(dir, "request-B-post-query-payload", prefixed(0x00, wire(p.protectRequest(post, clients[1].protector()).wire())));
        Request observe = Messages.get("observe", 3);
        observe.setObserve();
        seed(dir, "request-A-observe", prefixed(0x00, wire(p.protectRequest(observe, clients[0].protector()).wire())));
        Request proxied = new Request(Code.GET, Type.NON);
        proxied.setMID(4);
        proxied.setToken(new byte[] {4});
        proxied.getOptions().setProxyUri("coap://[2001:db8::1]:5684/a/b%2fc?x=1&y");
        proxied.getOptions().setBlock2(2, false, 0);
        seed(dir, "request-A-proxy-uri-block2", prefixed(0x00, wire(p.protectRequest(proxied, clients[0].protector()).wire())));
        // responses to the setup requests, as each server sends them
        for (int i = 0; i < 2; i++) {
            RequestIdentifiers served = p.unprotectRequest((Request) Messages.parse(wire(f.setupRequests[i])), f.serverDb)
                    .identifiers();
            Response first = Messages.content("first", 0x10 + i);
            first.getOptions().setContentFormat(0).setMaxAge(30);
            if (i == 0) {
                first.getOptions().setObserve(1);
            }
            // A's is a notification, which draws its own Partial IV; B's reuses the request nonce
            seed(dir, "response-" + "AB".charAt(i) + (i == 0 ? "-notification" : "-no-partial-iv"),
                    prefixed(i << 2 | 1, wire(p.protectResponse(first, served))));
            Response second = Messages.content("second", 0x20 + i);
            second.getOptions().addETag(new byte[] {1, 2, 3, 4});
            seed(dir, "response-" + "AB".charAt(i) + (i == 0 ? "-no-partial-iv" : "-own-partial-iv"), prefixed(i << 2 | 1, wire(p.protectResponse(second, served))));
        }
        // plaintexts sealed by the target itself (RFC 8613 Section 5.3)
        List<Option> path = new ArrayList<>();
        path.add(StandardOptionRegistry.URI_PATH.create("hello"));
        path.add(StandardOptionRegistry.URI_QUERY.create("a=1"));
        seed(dir, "sealed-request-A-get", prefixed(0x02, Plaintext.encode(Code.GET.value, path, new byte[0])));
        seed(dir, "sealed-request-B-put-payload", prefixed(0x06, Plaintext.encode(Code.PUT.value, path, "on".getBytes())));
        List<Option> obs = new ArrayList<>();
        obs.add(StandardOptionRegistry.OBSERVE.create(0));
        obs.add(StandardOptionRegistry.URI_PATH.create("temp"));
        seed(dir, "sealed-request-A-observe", prefixed(0x0a, Plaintext.encode(Code.GET.value, obs, new byte[0])));
        List<Option> cf = new ArrayList<>();
        cf.add(StandardOptionRegistry.CONTENT_FORMAT.create(0));
        seed(dir, "sealed-response-A-content", prefixed(0x03, Plaintext.encode(ResponseCode.CONTENT.value, cf, "hi".getBytes())));
        List<Option> notif = new ArrayList<>();
        notif.add(StandardOptionRegistry.OBSERVE.create(7));
        notif.add(StandardOptionRegistry.CONTENT_FORMAT.create(0));
        seed(dir, "sealed-response-A-notification", prefixed(0x0b, Plaintext.encode(ResponseCode.CONTENT.value, notif, "21.5".getBytes())));
        List<Option> block = new ArrayList<>();
        block.add(StandardOptionRegistry.BLOCK2.create(new byte[] {0x0a}));
        seed(dir, "sealed-response-B-block2", prefixed(0x17, Plaintext.encode(ResponseCode.CONTENT.value, block, new byte[32])));
    }

    private static void group(Path dir) throws Exception {
        GroupFixture f = new GroupFixture();
        ProtectionPipeline p = f.pipeline;
        dev.coterie.oscore.RequestProtector[] views = GroupFixture.views(GroupFixture.seedClient());
        for (int i = 0; i < views.length; i++) {
            String view = GroupFixture.VIEWS[i];
            // a request as the client sends it
            Request get = Messages.get("lights", 1 + i);
            get.setType(Type.NON);
            get.getOptions().addUriQuery("room=1");
            seed(dir, "request-" + view + "-get", prefixed(0x00, wire(p.protectRequest(get, views[i]).wire())));
            if (i == 1) {
                Request put = new Request(Code.PUT, Type.CON);
                put.setMID(9);
                put.setToken(new byte[] {9});
                put.getOptions().setUriPath("light").setContentFormat(0);
                put.setPayload("on");
                seed(dir, "request-pairwise-put-payload", prefixed(0x00, wire(p.protectRequest(put, views[i]).wire())));
            }
            // responses to the setup request of this view, as the server sends them
            RequestIdentifiers served = p.unprotectRequest((Request) Messages.parse(wire(f.setupRequests[i])), f.serverDb)
                    .identifiers();
            Response first = Messages.content("on", 0x10 + i);
            first.getOptions().setContentFormat(0);
            if (i != 1) {
                first.getOptions().setObserve(1);
            }
            seed(dir, "response-" + view + "-1", prefixed(i << 2 | 1, wire(p.protectResponse(first, served))));
            Response second = Messages.content("off", 0x20 + i);
            seed(dir, "response-" + view + "-2", prefixed(i << 2 | 1, wire(p.protectResponse(second, served))));
            // plaintexts the target seals itself
            List<Option> path = new ArrayList<>();
            path.add(StandardOptionRegistry.URI_PATH.create("light"));
            seed(dir, "sealed-request-" + view + "-get", prefixed(i << 2 | 2, Plaintext.encode(Code.GET.value, path, new byte[0])));
            List<Option> cf = new ArrayList<>();
            cf.add(StandardOptionRegistry.CONTENT_FORMAT.create(0));
            seed(dir, "sealed-response-" + view + "-content", prefixed(i << 2 | 3,
                    Plaintext.encode(ResponseCode.CONTENT.value, cf, "on".getBytes())));
        }
        List<Option> obs = new ArrayList<>();
        obs.add(StandardOptionRegistry.OBSERVE.create(0));
        obs.add(StandardOptionRegistry.URI_PATH.create("temp"));
        seed(dir, "sealed-request-group-observe", prefixed(0x12, Plaintext.encode(Code.GET.value, obs, new byte[0])));
        List<Option> notif = new ArrayList<>();
        notif.add(StandardOptionRegistry.OBSERVE.create(3));
        seed(dir, "sealed-response-deterministic-notification", prefixed(0x1b,
                Plaintext.encode(ResponseCode.CONTENT.value, notif, "21.5".getBytes())));
    }

    /** The repository root (the build runs in fuzz/). */
    static Path repo() {
        Path here = Path.of("").toAbsolutePath();
        return java.nio.file.Files.exists(here.resolve("docs")) ? here : here.getParent();
    }

    private static void credentials(Path dir) throws Exception {
        com.fasterxml.jackson.databind.JsonNode v = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(repo().resolve("vectors/data/cacheable-oscore.json").toFile()).get("vectors").get(0).get("inputs");
        seed(dir, "cacheable-oscore-server", dev.coterie.keystore.Hex.decode(v.get("server_auth_cred_ccs").asText()));
        seed(dir, "cacheable-oscore-group-manager", dev.coterie.keystore.Hex.decode(v.get("group_manager_auth_cred_ccs").asText()));
        dev.coterie.keystore.CryptoProvider cp = GroupFixture.PROVIDER;
        for (dev.coterie.keystore.PrivateKey.Type t : dev.coterie.keystore.PrivateKey.Type.values()) {
            dev.coterie.keystore.PrivateKey k = cp.privateKey(t, dev.coterie.keystore.SecretBytes.copyOf(
                    java.security.MessageDigest.getInstance("SHA-256").digest(("coterie fuzz " + t).getBytes())));
            seed(dir, "ccs-" + t.name().toLowerCase(), dev.coterie.keystore.Credential.ccs("fuzz-" + t, k).encoded());
        }
    }

    private static void keyFiles(Path dir) throws Exception {
        dev.coterie.keystore.CryptoProvider cp = GroupFixture.PROVIDER;
        Path tmp = FuzzRules.tempDir("seed-keys-");
        try {
            for (dev.coterie.keystore.PrivateKey.Type t : dev.coterie.keystore.PrivateKey.Type.values()) {
                dev.coterie.keystore.PrivateKey k = cp.privateKey(t, dev.coterie.keystore.SecretBytes.copyOf(
                        java.security.MessageDigest.getInstance("SHA-256").digest(("coterie fuzz key " + t).getBytes())));
                Path f = tmp.resolve(t.name().toLowerCase() + ".key");
                dev.coterie.keystore.PrivateKeyFile.write(f, k, null);
                seed(dir, "written-" + t.name().toLowerCase(), java.nio.file.Files.readAllBytes(f));
            }
            // PrivateKeyFile.write encrypts with 210000 iterations, which would make every mutation of that seed
            // slow: the same format at the reader's minimum of 10000, with the write's key, salt and nonce
            dev.coterie.keystore.PrivateKey k = cp.privateKey(dev.coterie.keystore.PrivateKey.Type.ED25519,
                    dev.coterie.keystore.SecretBytes.copyOf(new byte[32]));
            byte[] salt = new byte[16];
            byte[] nonce = new byte[12];
            javax.crypto.SecretKeyFactory kdf = javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256");
            byte[] kek = kdf.generateSecret(new javax.crypto.spec.PBEKeySpec(PrivateKeyFileFuzzTest.PASSPHRASE, salt, 10000, 256))
                    .getEncoded();
            javax.crypto.Cipher c = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
            c.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(kek, "AES"),
                    new javax.crypto.spec.GCMParameterSpec(128, nonce));
            c.updateAAD("Ed25519".getBytes());
            byte[] ct = c.doFinal(new byte[32]);
            String json = "{\"type\": \"Ed25519\", \"public_key\": \"" + dev.coterie.keystore.Hex.encode(k.publicKey())
                    + "\",\n \"encrypted\": {\"kdf\": \"PBKDF2-HMAC-SHA256\", \"iterations\": 10000, \"salt\": \""
                    + dev.coterie.keystore.Hex.encode(salt) + "\", \"nonce\": \"" + dev.coterie.keystore.Hex.encode(nonce)
                    + "\", \"ciphertext\": \"" + dev.coterie.keystore.Hex.encode(ct) + "\"}}\n";
            seed(dir, "encrypted-ed25519-10000-iterations", json.getBytes());
            seed(dir, "docs-example-lights-01", java.nio.file.Files.readAllBytes(repo().resolve("docs/examples/group/lights/members/01.key")));
        } finally {
            FuzzRules.deleteTree(tmp);
        }
    }

    private static void contextFiles(Path dir) throws Exception {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(repo().resolve("docs/examples"))) {
            for (Path f : (Iterable<Path>) files.filter(x -> x.toString().endsWith(".json")).sorted()::iterator) {
                seed(dir, "docs-example-" + f.getFileName().toString().replace(".json", ""), java.nio.file.Files.readAllBytes(f));
            }
        }
    }

    private static void bundles(Path dir, Path keys) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        Path lights = repo().resolve("docs/examples/group/lights/members");
        for (String sid : new String[] {"01", "02"}) {
            bundle(dir, keys, "docs-example-lights-" + sid, (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                    lights.resolve(sid + ".bundle.json").toFile()), lights.resolve(sid + ".key"));
        }
        Path groups = FuzzRules.tempDir("seed-groups-");
        try {
            dev.coterie.app.group.GroupManager eddsa = dev.coterie.app.group.GroupManager.create(groups, "eddsa",
                    dev.coterie.grouposcore.GroupAlgorithms.defaults(), dev.coterie.keystore.Hex.decode("b1"), 7, 1,
                    dev.coterie.keystore.Hex.decode("dc"), null, null, GroupFixture.PROVIDER);
            eddsa.addMember("client", "switch", null);
            eddsa.addMember("server", "lamp", null);
            dev.coterie.app.group.GroupManager p256 = dev.coterie.app.group.GroupManager.create(groups, "p256",
                    new dev.coterie.grouposcore.GroupAlgorithms(dev.coterie.keystore.AeadAlgorithm.A128GCM,
                            dev.coterie.keystore.AeadAlgorithm.A128GCM, dev.coterie.keystore.SignatureAlgorithm.ES256,
                            dev.coterie.keystore.KeyAgreementAlgorithm.P256, dev.coterie.keystore.HkdfAlgorithm.HKDF_SHA_512),
                    dev.coterie.keystore.Hex.decode("c0"), 3, 2, null, null, null, GroupFixture.PROVIDER);
            p256.addMember("both", "sensor", null);
            p256.addMember("server", "display", null);
            for (String[] g : new String[][] {{"eddsa", "01"}, {"eddsa", "02"}, {"p256", "01"}, {"p256", "02"}}) {
                Path m = groups.resolve(g[0]).resolve("members");
                com.fasterxml.jackson.databind.node.ObjectNode b = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                        m.resolve(g[1] + ".bundle.json").toFile());
                bundle(dir, keys, "group-manager-" + g[0] + "-" + g[1], b, m.resolve(g[1] + ".key"));
            }
            // a silent server: the same bundle without a Sender Context
            com.fasterxml.jackson.databind.node.ObjectNode silent = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(
                    groups.resolve("eddsa/members/02.bundle.json").toFile());
            silent.remove(java.util.List.of("sender_id", "private_key_file", "own_credential"));
            seed(dir, "group-manager-eddsa-silent-server", json.writerWithDefaultPrettyPrinter().writeValueAsBytes(silent));
        } finally {
            FuzzRules.deleteTree(groups);
        }
    }

    /** A bundle seed whose key file is {@code ../keys/NAME.key}, written to the keys resources. */
    private static void bundle(Path dir, Path keys, String name, com.fasterxml.jackson.databind.node.ObjectNode b, Path key)
            throws Exception {
        b.put("private_key_file", "../keys/" + name + ".key");
        b.put("state_dir", "state");
        seed(keys, name + ".key", java.nio.file.Files.readAllBytes(key));
        seed(dir, name, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(b));
    }
}
