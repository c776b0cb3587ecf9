package dev.coterie.bench;

import dev.coterie.grouposcore.GroupAlgorithms;
import dev.coterie.grouposcore.GroupContext;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.grouposcore.RecipientContext;
import dev.coterie.keystore.Credential;
import dev.coterie.keystore.CryptoProvider;
import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.PrivateKey;
import dev.coterie.keystore.SecretBytes;
import dev.coterie.keystore.SecurityStateStore;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.Request;

/**
 * Heap retained per Recipient Context once its pairwise keys are derived and cached: a group
 * with N members is built, every Recipient Context created and its pairwise keys used, and the
 * retained heap difference (after GC, median of 5 rounds) is divided by N.
 */
public final class RecipientContextMemory {
    private RecipientContextMemory() {
    }

    public static long bytesPerRecipient(int members) throws Exception {
        CryptoProvider p = CryptoProviders.defaultProvider();
        List<Long> samples = new ArrayList<>();
        for (int round = 0; round < 5; round++) {
            List<PrivateKey> keys = new ArrayList<>();
            List<Credential> creds = new ArrayList<>();
            for (int i = 0; i < members; i++) {
                PrivateKey k = p.generate(PrivateKey.Type.ED25519);
                keys.add(k);
                creds.add(Credential.ccs("m" + i, k));
            }
            GroupContext.Builder b = GroupContext.builder().algorithms(GroupAlgorithms.defaults()).gid(new byte[] {1, 2})
                    .masterSecret(SecretBytes.copyOf(OscoreExchangeBenchmark.SECRET)).sender(id(0), keys.get(0), creds.get(0))
                    .maxRecipients(members).stateStore(SecurityStateStore.inMemory());
            for (int i = 1; i < members; i++) {
                b.member(id(i), creds.get(i));
            }
            GroupContext ctx = b.build();
            ProtectionPipeline gp = new ProtectionPipeline(ExtensionOptionRegistry.defaults());
            long before = used();
            List<RecipientContext> keep = new ArrayList<>();
            for (int i = 1; i < members; i++) {
                keep.add(ctx.recipient(id(i)));
                Request r = new Request(Code.GET, Type.CON);
                r.setMID(i & 0xffff);
                r.setToken(new byte[] {1});
                gp.protectRequest(r, ctx.pairwise(id(i))); // derives and caches the pairwise sender key
            }
            long after = used();
            samples.add((after - before) / (members - 1));
            if (keep.size() != members - 1) {
                throw new IllegalStateException();
            }
        }
        samples.sort(Long::compare);
        return samples.get(samples.size() / 2);
    }

    private static byte[] id(int i) {
        return new byte[] {(byte) (i >> 8), (byte) i};
    }

    private static long used() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
