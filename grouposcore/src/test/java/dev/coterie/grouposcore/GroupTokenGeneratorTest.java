package dev.coterie.grouposcore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.KeyToken;
import org.eclipse.californium.core.network.TokenGenerator;
import org.junit.jupiter.api.Test;

/** GCB-03: a group request's Token is not reused before MIN_TOKEN_REUSE_TIME. */
class GroupTokenGeneratorTest {

    /** Hands out the Tokens it is given, in order: the worst case, a generator that repeats itself. */
    private static final class Scripted implements TokenGenerator {
        final ArrayDeque<Token> next = new ArrayDeque<>();

        @Override public Token createToken(Scope scope) { return next.removeFirst(); }
        @Override public Scope getScope(Token token) { return Scope.SHORT_TERM; }
        @Override public KeyToken getKeyToken(Token token, Object peer) { return null; }
    }

    @Test
    void GCB_03_aGroupTokenIsNotReissuedWithinTheReuseTime() {
        Token a = Token.fromProvider(new byte[] {1});
        Token b = Token.fromProvider(new byte[] {2});
        Scripted s = new Scripted();
        s.next.addAll(List.of(a, a, b, a));
        AtomicLong now = new AtomicLong();
        GroupTokenGenerator g = new GroupTokenGenerator(s, now::get, 500);
        assertEquals(a, g.createToken(TokenGenerator.Scope.SHORT_TERM));
        now.set(499);
        Token second = g.createToken(TokenGenerator.Scope.SHORT_TERM);
        assertNotEquals(a, second, "a was used 499 ns ago: skipped");
        assertEquals(b, second);
        now.set(500);
        assertEquals(a, g.createToken(TokenGenerator.Scope.SHORT_TERM), "after the reuse time a may come back");
        assertTrue(g.remembers(a));
    }

    @Test
    void unicastTokensAreNotTracked() {
        Token a = Token.fromProvider(new byte[] {1});
        Scripted s = new Scripted();
        s.next.addAll(List.of(a));
        GroupTokenGenerator g = new GroupTokenGenerator(s, () -> 0, 500);
        g.createToken(TokenGenerator.Scope.SHORT_TERM_CLIENT_LOCAL);
        assertFalse(g.remembers(a));
    }
}
