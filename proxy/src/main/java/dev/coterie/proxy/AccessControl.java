package dev.coterie.proxy;

import java.util.List;

/**
 * The access-control list: which targets each client may reach. A client is the hop context
 * that verified its request (kid context, kid) or, when no hop layer was removed,
 * "unauthenticated". A client that matches no rule reaches nothing; an authenticated client
 * is never treated as unauthenticated, and an unauthenticated one never gets an
 * authenticated client's targets.
 */
public final class AccessControl {
    private final List<ProxyConfig.AccessRule> rules;

    public AccessControl(List<ProxyConfig.AccessRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Whether {@code client} may reach {@code target}. */
    public boolean allows(ProxyConfig.ClientId client, ForwardTarget target) {
        for (ProxyConfig.AccessRule rule : rules) {
            boolean same = client.isUnauthenticated() ? rule.client().isUnauthenticated()
                    : rule.client().matches(client.kidContext(), client.kid());
            if (!same) {
                continue;
            }
            for (ProxyConfig.Target t : rule.allow()) {
                if ((t.anyOrigin() || t.origin().equals(target.origin()))
                        && ForwardTarget.startsWith(target.path(), t.pathPrefix())) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }
}
