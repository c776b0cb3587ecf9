package dev.coterie.grouposcore;

import static dev.coterie.grouposcore.TestGroup.content;
import static dev.coterie.grouposcore.TestGroup.get;
import static dev.coterie.grouposcore.TestGroup.wire;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.keystore.SecurityStateStore;
import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.Test;

/**
 * The integrity limit v (draft-ietf-core-oscore-key-limits) counts AEAD failures only (review
 * B, finding 4). A group-mode message whose signature does not verify never reached the AEAD;
 * counting it would let anyone who knows a kid (it travels in clear) lock that member out with
 * v datagrams and no key. The members here have v = 8, so the limit is reached quickly.
 */
class IntegrityLimitTest {
    private static final int V = 8;
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    private static TestGroup group() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        g.integrityLimit = V;
        g.client = g.member(0, SecurityStateStore.inMemory());
        g.servers.clear();
        for (int i = 1; i < 4; i++) {
            g.servers.add(g.member(i, SecurityStateStore.inMemory()));
        }
        return g;
    }

    /** A copy of {@code m} with the last payload byte flipped: in group mode, inside the encrypted signature. */
    private static byte[] flipLast(byte[] payload) {
        byte[] b = payload.clone();
        b[b.length - 1] ^= 1;
        return b;
    }

    @Test
    void badSignaturesUnderAMembersKidDoNotLockTheMemberOut() throws Exception {
        TestGroup g = group();
        for (int i = 0; i < 4 * V; i++) {
            Request forged = wire(p.protectRequest(get("light"), g.client.groupMode()).wire()); // a fresh Partial IV each
            forged.setPayload(flipLast(forged.getPayload()));
            OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(forged, g.db(0)));
            assertEquals("signature did not verify", e.getMessage());
        }
        Request valid = p.protectRequest(get("light"), g.client.groupMode()).wire();
        assertEquals("light", p.unprotectRequest(wire(valid), g.db(0)).plain().getOptions().getUriPathString(),
                "the member is still served after " + 4 * V + " bad signatures under its kid");
    }

    /** The positive control: AEAD failures under the member's keys still count, and v of them lock it out. */
    @Test
    void aeadFailuresStillReachTheLimit() throws Exception {
        TestGroup g = group();
        for (int i = 0; i < V; i++) {
            Request forged = wire(p.protectRequest(get("light"), g.client.pairwise(g.ids.get(1))).wire());
            forged.setPayload(flipLast(forged.getPayload())); // pairwise mode: the AEAD tag
            OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(forged, g.db(0)));
            assertEquals("did not authenticate", e.getMessage());
        }
        Request valid = p.protectRequest(get("light"), g.client.groupMode()).wire();
        OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectRequest(wire(valid), g.db(0)));
        assertTrue(e.getMessage().contains("integrity limit (failed decryptions " + V + " of limit " + V + ")"), e.getMessage());
    }

    /** The client side: forged signatures on responses under a server's kid do not lock that server out either. */
    @Test
    void badSignaturesOnResponsesDoNotLockTheServerOut() throws Exception {
        TestGroup g = group();
        ProtectionPipeline.ProtectedRequest req = p.protectRequest(get("light"), g.client.groupMode());
        RequestIdentifiers atA1 = p.unprotectRequest(wire(req.wire()), g.db(0)).identifiers();
        Response answer = wire(p.protectResponse(content("on"), atA1));
        for (int i = 0; i < 4 * V; i++) {
            Response forged = wire(answer);
            forged.setPayload(flipLast(forged.getPayload()));
            OscoreException e = assertThrows(OscoreException.DecryptionFailed.class, () -> p.unprotectResponse(forged, req.identifiers()));
            assertEquals("signature did not verify", e.getMessage());
        }
        assertEquals("on", p.unprotectResponse(wire(answer), req.identifiers()).plain().getPayloadString());
    }
}
