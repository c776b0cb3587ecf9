package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.coterie.keystore.AeadAlgorithm;
import dev.coterie.keystore.HkdfAlgorithm;
import dev.coterie.keystore.KeyAgreementAlgorithm;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.eclipse.californium.core.config.CoapConfig;
import org.junit.jupiter.api.Test;

/** Group communication rules of draft-ietf-core-groupcomm-bis that the endpoint enforces. */
class GroupCommunicationRulesTest {

    @Test
    void GCB_08_defaultLeisureIs20sWithGroupModeAnd13sPairwiseOnly() {
        assertEquals(20_000, GroupEndpointBuilder.defaultConfiguration().get(CoapConfig.LEISURE,
                java.util.concurrent.TimeUnit.MILLISECONDS));
        assertEquals(20_000, GroupEndpointBuilder.leisureFor(GroupAlgorithms.defaults()));
        assertEquals(13_000, GroupEndpointBuilder.leisureFor(new GroupAlgorithms(AeadAlgorithm.AES_CCM_16_64_128, null, null,
                KeyAgreementAlgorithm.X25519, HkdfAlgorithm.HKDF_SHA_256)));
    }

    @Test
    void GCB_10_port5684IsNeverUsedForGroupCommunication() throws Exception {
        TestGroup g = TestGroup.of(GroupAlgorithms.defaults());
        GroupEndpointBuilder b = new GroupEndpointBuilder().bind(new InetSocketAddress("127.0.0.1", 0))
                .serverGroups(new GroupContextDb().add(g.servers.get(0))).groupPort(5684)
                .join(InetAddress.getByName("224.0.1.187"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertEquals("port 5684 must not be used for group communication (GCB-10)", e.getMessage());
    }
}
