package dev.coterie.oscore;

import dev.coterie.keystore.Hex;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.Request;

/**
 * OSCORE contexts of a server, keyed by (ID Context, Recipient ID). A request without kid context
 * matches a context that has no ID Context, or, if exactly one context has that Recipient ID, that
 * one. A context is found by the request's own identifiers, never by who sent it or where to.
 */
public final class InMemoryContextDb implements RequestVerifier.Resolver {
    private final Map<String, OscoreContext> byKey = new ConcurrentHashMap<>();
    private final Map<String, OscoreContext> byKidOnly = new ConcurrentHashMap<>();
    private final Map<String, Integer> kidCount = new ConcurrentHashMap<>();

    public synchronized InMemoryContextDb add(OscoreContext ctx) {
        String key = key(ctx.idContextRaw(), ctx.recipientIdRaw());
        if (byKey.putIfAbsent(key, ctx) != null) {
            throw new IllegalArgumentException("two contexts with the same (ID Context, Recipient ID): " + ctx);
        }
        String kid = Hex.encode(ctx.recipientIdRaw());
        int n = kidCount.merge(kid, 1, Integer::sum);
        if (n == 1) {
            byKidOnly.put(kid, ctx);
        } else {
            byKidOnly.remove(kid);
        }
        return this;
    }

    public OscoreContext find(byte[] kidContext, byte[] kid) {
        OscoreContext c = byKey.get(key(kidContext, kid));
        if (c == null && kidContext == null) {
            c = byKidOnly.get(Hex.encode(kid));
        }
        return c;
    }

    @Override
    public boolean understandsGroupFlag() {
        return false;
    }

    @Override
    public RequestVerifier resolve(OscoreOptionValue option, Request received, byte[] requestHash) throws OscoreException {
        OscoreContext c = find(option.kidContext(), option.kid());
        if (c == null) {
            throw new OscoreException.ContextNotFound("no context for this kid / kid context");
        }
        return c.verifier();
    }

    public Iterable<OscoreContext> all() {
        return byKey.values();
    }

    private static String key(byte[] idContext, byte[] kid) {
        return (idContext == null ? "-" : Hex.encode(idContext)) + "/" + Hex.encode(kid);
    }
}
