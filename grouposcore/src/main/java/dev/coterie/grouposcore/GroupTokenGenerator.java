package dev.coterie.grouposcore;

import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.KeyToken;
import org.eclipse.californium.core.network.TokenGenerator;

/**
 * Californium's random Tokens, plus the groupcomm-bis rule for group requests (GCB-03): a Token
 * used for a multicast request is not handed out again before MIN_TOKEN_REUSE_TIME (500 s with
 * unknown server delays, digest Q-07). Memory is bounded by the group requests of that period.
 */
public final class GroupTokenGenerator implements TokenGenerator {
    /** MIN_TOKEN_REUSE_TIME with the default transmission parameters and an unknown server delay. */
    public static final long MIN_TOKEN_REUSE_NANOS = TimeUnit.SECONDS.toNanos(500);

    private final TokenGenerator delegate;
    private final LongSupplier clock;
    private final long reuseNanos;
    private final ArrayDeque<Object[]> issued = new ArrayDeque<>();
    private final Set<Token> recent = new HashSet<>();

    public GroupTokenGenerator(TokenGenerator delegate) {
        this(delegate, System::nanoTime, MIN_TOKEN_REUSE_NANOS);
    }

    GroupTokenGenerator(TokenGenerator delegate, LongSupplier clock, long reuseNanos) {
        this.delegate = delegate;
        this.clock = clock;
        this.reuseNanos = reuseNanos;
    }

    @Override
    public Token createToken(Scope scope) {
        if (scope != Scope.SHORT_TERM) {
            return delegate.createToken(scope);
        }
        synchronized (this) {
            long now = clock.getAsLong();
            while (!issued.isEmpty() && now - (long) issued.peekFirst()[0] >= reuseNanos) {
                recent.remove((Token) issued.pollFirst()[1]);
            }
            Token t;
            do {
                t = delegate.createToken(scope);
            } while (recent.contains(t));
            recent.add(t);
            issued.addLast(new Object[] {now, t});
            return t;
        }
    }

    @Override
    public Scope getScope(Token token) {
        return delegate.getScope(token);
    }

    @Override
    public KeyToken getKeyToken(Token token, Object peer) {
        return delegate.getKeyToken(token, peer);
    }

    synchronized boolean remembers(Token t) {
        return recent.contains(t);
    }
}
