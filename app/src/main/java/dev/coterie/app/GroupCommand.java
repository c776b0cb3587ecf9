package dev.coterie.app;

import dev.coterie.app.group.GroupManager;
import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.HashAlgorithm;
import dev.coterie.keystore.Hex;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import dev.coterie.keystore.SignatureAlgorithm;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coterie group ...}: a local Group Manager for commissioning. */
@Command(name = "group", description = "Commission Group OSCORE groups (a local Group Manager).",
        subcommands = {GroupCommand.Create.class, GroupCommand.AddMember.class, GroupCommand.Rekey.class,
                GroupCommand.RemoveMember.class, GroupCommand.Show.class})
final class GroupCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static class Dir {
        @Option(names = "--dir", defaultValue = "groups", description = "where groups are kept (${DEFAULT-VALUE})")
        Path dir;
    }

    /** Commands that change a group open the Group Manager's key; its passphrase has an option of its own. */
    static class Changing extends Dir {
        @Option(names = "--gm-passphrase-env", paramLabel = "VAR",
                description = "the Group Manager key's passphrase is in this environment variable (groups created with it)")
        String gmPassphraseEnv;

        GroupManager open(String group) throws java.io.IOException {
            return GroupManager.open(dir, group, CryptoProviders.defaultProvider(), passphrase(gmPassphraseEnv));
        }
    }

    static char[] passphrase(String env) {
        return env == null ? null : requireEnv(env).toCharArray();
    }

    @Command(name = "create", description = "Create a group: algorithms, Gid prefix and epoch, Master Secret and Salt, "
            + "a Group Manager key pair and credential.")
    static final class Create extends Dir implements Callable<Integer> {
        @Option(names = "--name", required = true)
        String name;
        @Option(names = "--signature", defaultValue = "EdDSA", description = "EdDSA (Ed25519) or ES256 (P-256); none for pairwise only")
        String signature;
        @Option(names = "--group-encryption", defaultValue = "AES-CCM-16-64-128", description = "any AEAD of the provider; none for pairwise only")
        String groupEncryption;
        @Option(names = "--aead", defaultValue = "AES-CCM-16-64-128", description = "pairwise-mode AEAD; none for group mode only")
        String aead;
        @Option(names = "--gid-prefix", defaultValue = "b1", description = "hex (${DEFAULT-VALUE})")
        String prefix;
        @Option(names = "--epoch", defaultValue = "0", description = "first epoch (${DEFAULT-VALUE})")
        int epoch;
        @Option(names = "--epoch-bytes", defaultValue = "2", description = "width of the epoch in the Gid: 1 or 2 (${DEFAULT-VALUE})")
        int epochBytes;
        @Option(names = "--deterministic-sid", paramLabel = "HEX",
                description = "Sender ID of the group's Deterministic Client (cacheable OSCORE); never given to a member (default: none)")
        String deterministicSid;
        @Option(names = "--deterministic-hash", paramLabel = "ALG",
                description = "its det_hash_alg: SHA-256 (-16), SHA-384 (-43) or SHA-512 (-44); default SHA-256")
        String deterministicHash;
        @Option(names = "--gm-passphrase-env", paramLabel = "VAR",
                description = "encrypt the Group Manager's private key with the passphrase in this environment variable")
        String gmPassphraseEnv;

        @Override
        public Integer call() throws Exception {
            boolean groupMode = !signature.equalsIgnoreCase("none");
            boolean pairwise = !aead.equalsIgnoreCase("none");
            SignatureAlgorithm sig = groupMode ? (signature.equalsIgnoreCase("ES256") ? SignatureAlgorithm.ES256
                    : SignatureAlgorithm.EDDSA_ED25519) : null;
            KeyAgreementAlgorithm ka = pairwise ? (sig == SignatureAlgorithm.ES256 ? KeyAgreementAlgorithm.P256
                    : KeyAgreementAlgorithm.X25519) : null;
            GroupAlgorithms algs = new GroupAlgorithms(pairwise ? AeadAlgorithm.parse(aead) : null,
                    groupMode ? AeadAlgorithm.parse(groupEncryption) : null, sig, ka, HkdfAlgorithm.HKDF_SHA_256);
            byte[] det = deterministicSid == null ? null : hexOption("--deterministic-sid", deterministicSid);
            if (det == null && deterministicHash != null) {
                throw new IllegalArgumentException("--deterministic-hash needs --deterministic-sid");
            }
            HashAlgorithm hash;
            try {
                hash = deterministicHash == null ? null : HashAlgorithm.parse(deterministicHash);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--deterministic-hash must be SHA-256 (-16), SHA-384 (-43) or SHA-512 (-44)");
            }
            GroupManager gm = GroupManager.create(dir, name, algs, hexOption("--gid-prefix", prefix), epoch, epochBytes, det, hash,
                    passphrase(gmPassphraseEnv), CryptoProviders.defaultProvider());
            System.out.println("created group " + name + " with Gid " + Hex.encode(gm.gid()) + " in " + dir.resolve(name)
                    + (det != null ? "; deterministic client Sender ID " + Hex.encode(det) : "")
                    + (gmPassphraseEnv != null ? "; Group Manager key encrypted" : ""));
            return 0;
        }
    }

    @Command(name = "add-member", description = "Add a member: a new Sender ID, a key pair and a CCS credential; "
            + "writes its bundle (and re-issues the others').")
    static final class AddMember extends Changing implements Callable<Integer> {
        @Parameters(index = "0", description = "group name")
        String group;
        @Option(names = "--role", required = true, description = "client, server or both")
        String role;
        @Option(names = "--member-name", description = "subject of the member's credential")
        String memberName;
        @Option(names = "--passphrase-env", paramLabel = "VAR",
                description = "encrypt the member's private key with the passphrase in this environment variable")
        String passphraseEnv;

        @Override
        public Integer call() throws Exception {
            GroupManager gm = open(group);
            Path bundle = gm.addMember(role, memberName, passphrase(passphraseEnv));
            String sid = bundle.getFileName().toString().replace(".bundle.json", "");
            System.out.println("added member " + sid + " (" + role + "); bundle " + bundle);
            return 0;
        }
    }

    @Command(name = "rekey", description = "New epoch: new Gid and Master Secret; lists stale Sender IDs.")
    static final class Rekey extends Changing implements Callable<Integer> {
        @Parameters(index = "0", description = "group name")
        String group;

        @Override
        public Integer call() throws Exception {
            GroupManager gm = open(group);
            List<String> stale = gm.rekey();
            System.out.println("rekeyed " + group + ": Gid " + Hex.encode(gm.gid()) + ", stale Sender IDs " + stale);
            return 0;
        }
    }

    @Command(name = "remove-member", description = "Remove a member and rekey at once.")
    static final class RemoveMember extends Changing implements Callable<Integer> {
        @Parameters(index = "0", description = "group name")
        String group;
        @Parameters(index = "1", description = "Sender ID (hex)")
        String sid;

        @Override
        public Integer call() throws Exception {
            GroupManager gm = open(group);
            List<String> stale = gm.removeMember(sid.toLowerCase());
            System.out.println("removed " + sid + "; rekeyed " + group + ": Gid " + Hex.encode(gm.gid())
                    + ", stale Sender IDs " + stale);
            return 0;
        }
    }

    @Command(name = "show", description = "Show a group's parameters (never its secrets).")
    static final class Show extends Dir implements Callable<Integer> {
        @Parameters(index = "0", description = "group name")
        String group;

        @Override
        public Integer call() throws Exception {
            System.out.print(GroupManager.open(dir, group, CryptoProviders.defaultProvider()).describe());
            return 0;
        }
    }

    /** Hex from the command line; the message names the option, not the value. */
    static byte[] hexOption(String option, String value) {
        try {
            return Hex.decode(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + " is " + e.getMessage());
        }
    }

    static String requireEnv(String var) {
        String v = System.getenv(var);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("environment variable " + var + " is not set");
        }
        return v;
    }
}
