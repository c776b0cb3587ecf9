package dev.coterie.bench;

import java.util.HashMap;
import java.util.Map;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.oscore.HashMapCtxDB;
import org.eclipse.californium.oscore.OSCoreCtx;

/**
 * cf-oscore's HashMapCtxDB with its token bookkeeping replaced: 3.13.0 records every token
 * ever seen in a list that never shrinks and scans it on every request, so its throughput
 * decays from the first second of a benchmark. This keeps only live tokens, which measures
 * cf-oscore's OSCORE processing rather than that defect. Context lookup is unchanged.
 */
final class LiveTokenCtxDb extends HashMapCtxDB {
    private final Map<Token, OSCoreCtx> live = new HashMap<>();

    @Override
    public synchronized void addContext(Token token, OSCoreCtx ctx) {
        if (token != null) {
            live.put(token, ctx);
        }
        super.addContext(ctx);
    }

    @Override
    public synchronized OSCoreCtx getContextByToken(Token token) {
        return live.get(token);
    }

    @Override
    public synchronized boolean tokenExist(Token token) {
        return live.containsKey(token);
    }

    @Override
    public synchronized void removeToken(Token token) {
        live.remove(token);
    }
}
