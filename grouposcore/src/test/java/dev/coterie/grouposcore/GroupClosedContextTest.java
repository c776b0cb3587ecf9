package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.oscore.ExtensionOptionRegistry;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.ProtectionPipeline;
import dev.coterie.oscore.RequestIdentifiers;
import org.junit.jupiter.api.Test;

/**
 * GRP-26 with OSC-15 (review A, finding M1, for groups): a close()d group member neither
 * verifies a request (its windows are persisted already) nor seals a response to one it
 * verified before, whatever the mode.
 */
class GroupClosedContextTest {
    private final ProtectionPipeline p = new ProtectionPipeline(ExtensionOptionRegistry.defaults());

    @Test
    void GRP_26_aClosedGroupMemberNeitherVerifiesNorSeals() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupContextDb db = g.db(0);
        RequestIdentifiers earlier = p.unprotectRequest(TestGroup.wire(p.protectRequest(TestGroup.get("a"),
                g.client.pairwise(g.ids.get(1))).wire()), db).identifiers();
        assertNotNull(p.protectResponse(TestGroup.content("ok"), earlier), "positive control: an open member answers");
        RequestIdentifiers served = p.unprotectRequest(TestGroup.wire(p.protectRequest(TestGroup.get("b"),
                g.client.pairwise(g.ids.get(1))).wire()), db).identifiers();
        g.servers.get(0).close();
        assertTrue(g.servers.get(0).isClosed());
        OscoreException.ProtectionRefused refused = assertThrows(OscoreException.ProtectionRefused.class,
                () -> p.protectResponse(TestGroup.content("x"), served), "not even under the request nonce");
        assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
        assertThrows(OscoreException.ContextNotFound.class, () -> p.unprotectRequest(
                TestGroup.wire(p.protectRequest(TestGroup.get("c"), g.client.groupMode()).wire()), db));
    }
}
