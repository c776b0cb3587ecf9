package dev.coterie.oscore.tcp;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One server connector's connections, for metrics: those open now (counted from connect to
 * close, which is what {@link TcpLimits#maxConnections()} bounds; one over the limit is counted
 * for the moment before it is closed) and those closed on arrival because the limit was reached.
 */
public final class ConnectionCounts {
    final AtomicInteger open = new AtomicInteger();
    final AtomicLong refused = new AtomicLong();

    public int open() {
        return open.get();
    }

    public long refused() {
        return refused.get();
    }
}
