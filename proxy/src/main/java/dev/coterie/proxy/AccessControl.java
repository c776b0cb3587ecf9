package dev.coterie.proxy;

import java.util.List;

/**
 * The access-control list: which targets each client may reach. A client is the hop context
 * that verified its request (kid context, kid) or, when no hop layer was removed,
 * "unauthenticated"; over TLS with client certificates, when no hop layer was removed, the
 * certificate's subject or public key (tls_subject, tls_spki_sha256). A client that matches no rule reaches nothing; an authenticated client
 * is never treated as unauthenticated, and an unauthenticated one never gets an
 * authenticated client's targets.
 */
public final class AccessControl {
    private final List<ProxyConfig.AccessRule> rules;

    public AccessControl(List<ProxyConfig.AccessRule> rules) {
        this.rules = List.copyOf(rules);
    }

    /** Whether {@code client} may reach {@code target} (a unicast origin). */
    public boolean allows(ProxyConfig.ClientId client, ForwardTarget target) {
        return allows(client, target, null);
    }

    /**
     * Whether {@code client} may reach {@code target}, which is the group {@code group} when that
     * is not null (then only a rule naming that group allows it: "*" covers origins only).
     */
    public boolean allows(ProxyConfig.ClientId client, ForwardTarget target, String group) {
        for (ProxyConfig.AccessRule rule : rules) {
            if (!rule.client().covers(client)) {
                continue;
            }
            for (ProxyConfig.Target t : rule.allow()) {
                boolean to = group != null ? group.equals(t.group())
                        : t.group() == null && (t.anyOrigin() || t.origin().equals(target.origin()));
                if (to && ForwardTarget.startsWith(target.path(), t.pathPrefix())) {
                    return true;
                }
            }
            return false;
        }
        return false;
    }
}
