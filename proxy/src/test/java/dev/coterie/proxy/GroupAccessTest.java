package dev.coterie.proxy;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** GPX-02 / groupcomm-bis 3.5.1: a group is reached only through a rule that names it; "*" covers unicast origins. */
class GroupAccessTest {
    private static final ForwardTarget LIGHTS = new ForwardTarget(new ProxyConfig.Origin("lights.example", 5683), true,
            List.of("light"), List.of(), null);

    @Test
    void GPX_02_aStarRuleNeverCoversAGroup_aGroupRuleDoes() throws Exception {
        AccessControl star = new AccessControl(ProxyFixture.config(
                "access: [{client: unauthenticated, allow: [{origin: '*'}]}]\n").access());
        assertFalse(star.allows(ProxyConfig.ClientId.UNAUTHENTICATED, LIGHTS, "lights"), "'*' is for origins only");
        assertTrue(star.allows(ProxyConfig.ClientId.UNAUTHENTICATED, LIGHTS), "positive control: the same target as an origin");
        AccessControl group = new AccessControl(ProxyFixture.config("groups: [{name: lights, host: lights.example, "
                + "address: 224.0.1.187}]\naccess: [{client: unauthenticated, allow: [{group: lights, path_prefix: /light}]}]\n")
                .access());
        assertTrue(group.allows(ProxyConfig.ClientId.UNAUTHENTICATED, LIGHTS, "lights"));
        assertFalse(group.allows(ProxyConfig.ClientId.UNAUTHENTICATED, LIGHTS, "sensors"), "another group");
        assertFalse(group.allows(ProxyConfig.ClientId.UNAUTHENTICATED, LIGHTS), "a group rule is not an origin rule");
        assertFalse(group.allows(new ProxyConfig.ClientId(null, new byte[] {0x0c}), LIGHTS, "lights"), "another client");
    }
}
