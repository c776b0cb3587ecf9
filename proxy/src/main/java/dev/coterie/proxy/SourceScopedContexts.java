package dev.coterie.proxy;

import dev.coterie.keystore.Hex;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreException;
import dev.coterie.oscore.OscoreOptionValue;
import dev.coterie.oscore.RequestVerifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.EndpointContext;

/**
 * The proxy's client hop contexts, each usable from the source addresses its {@code sources}
 * lists (all, when it lists none), as per-source lists (oscore-capable-proxies Section 2.4, step
 * 3; OCP-09). A request is resolved among the contexts eligible for its source address only:
 * first the source picks the list, then the OSCORE option picks the context in it, so a context
 * not eligible for that source is never looked at, and a request naming one gets exactly the
 * answer of an unknown kid (4.01 "Security context not found", unprotected) with no decryption
 * and no change to that context's replay window or integrity-limit count.
 *
 * <p>The lists are built on first use and kept: a source's list depends only on which of the
 * configured prefixes contain it, so there are at most (2 x number of prefixes + 1) distinct
 * lists per address family whatever addresses requests come from.
 */
final class SourceScopedContexts implements RequestVerifier.Resolver {
    private record Entry(OscoreContext context, List<SourcePrefix> sources) {
        boolean eligible(InetAddress a) {
            if (sources == null) {
                return true;
            }
            for (SourcePrefix p : sources) {
                if (p.matches(a)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** The contexts eligible for some sources: looked up as {@link InMemoryContextDb} does, and their exact identifiers. */
    private record Scope(InMemoryContextDb db, Set<String> ids) {
    }

    private final List<Entry> entries;
    private final Scope everyone;
    private final boolean scoped;
    private final Map<BitSet, Scope> scopes = new ConcurrentHashMap<>();

    /**
     * @param contexts the client hop contexts
     * @param sources for each context (same order), its source prefixes; null: any source
     * @throws IllegalArgumentException when the lists differ in length or two contexts have the
     *         same (ID Context, Recipient ID)
     */
    SourceScopedContexts(List<OscoreContext> contexts, List<List<SourcePrefix>> sources) {
        if (contexts.size() != sources.size()) {
            throw new IllegalArgumentException(contexts.size() + " client contexts but " + sources.size() + " source lists");
        }
        List<Entry> e = new ArrayList<>();
        boolean anyScoped = false;
        for (int i = 0; i < contexts.size(); i++) {
            List<SourcePrefix> s = sources.get(i) == null ? null : List.copyOf(sources.get(i));
            anyScoped |= s != null;
            e.add(new Entry(contexts.get(i), s));
        }
        entries = List.copyOf(e);
        scoped = anyScoped;
        BitSet all = new BitSet();
        all.set(0, entries.size());
        everyone = scopeOf(all); // also refuses two contexts with the same identifiers, whatever their sources
    }

    /** Every context for any source (none of them lists sources). */
    static SourceScopedContexts anySource(List<OscoreContext> contexts) {
        List<List<SourcePrefix>> none = new ArrayList<>();
        for (int i = 0; i < contexts.size(); i++) {
            none.add(null);
        }
        return new SourceScopedContexts(contexts, none);
    }

    @Override
    public boolean understandsGroupFlag() {
        return everyone.db().understandsGroupFlag();
    }

    /**
     * The verifier among the contexts eligible for the request's source; otherwise the
     * {@link OscoreException.ContextNotFound} of {@link InMemoryContextDb}, the same for an
     * identifier that names no context and one whose context is not eligible for this source.
     */
    @Override
    public RequestVerifier resolve(OscoreOptionValue option, Request received, byte[] requestHash) throws OscoreException {
        return scopeFor(sourceOf(received)).db().resolve(option, received, requestHash);
    }

    /**
     * Whether a context eligible for {@code source} has exactly these identifiers: the request is
     * in a hop layer for this proxy, to be verified here rather than forwarded as it came.
     */
    boolean isHopLayerFor(byte[] kidContext, byte[] kid, InetAddress source) {
        return kid != null && scopeFor(source).ids().contains(idOf(kidContext, kid));
    }

    /** The source address of a received request (the peer of its source context), or null. */
    static InetAddress sourceOf(Request r) {
        EndpointContext c = r == null ? null : r.getSourceContext();
        InetSocketAddress a = c == null ? null : c.getPeerAddress();
        return a == null ? null : a.getAddress();
    }

    private Scope scopeFor(InetAddress source) {
        if (!scoped) {
            return everyone;
        }
        // every entry is checked, whatever the request names: the cost does not depend on its kid
        BitSet eligible = new BitSet(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            if (source != null && entries.get(i).eligible(source) || entries.get(i).sources() == null) {
                eligible.set(i);
            }
        }
        return scopes.computeIfAbsent(eligible, this::scopeOf);
    }

    private Scope scopeOf(BitSet eligible) {
        InMemoryContextDb db = new InMemoryContextDb();
        Set<String> ids = new HashSet<>();
        for (int i = eligible.nextSetBit(0); i >= 0; i = eligible.nextSetBit(i + 1)) {
            OscoreContext c = entries.get(i).context();
            db.add(c);
            ids.add(idOf(c.idContext(), c.recipientId()));
        }
        return new Scope(db, Set.copyOf(ids));
    }

    /** The exact identifiers: an absent and an empty kid context are the same. */
    private static String idOf(byte[] kidContext, byte[] kid) {
        return (kidContext == null ? "" : Hex.encode(kidContext)) + "/" + Hex.encode(kid);
    }
}
