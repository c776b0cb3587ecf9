package dev.coterie.oscore;

import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.observe.InMemoryObservationStore;
import org.eclipse.californium.core.observe.Observation;
import org.eclipse.californium.core.observe.ObservationStore;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Californium's in-memory observation store, telling the OSCORE layer when an observation ends
 * so that it forgets the request identifiers its notifications were verified with (OSC-22: kept
 * exactly as long as the observation lives).
 */
public final class OscoreObservationStore implements ObservationStore {
    private final InMemoryObservationStore delegate;
    private volatile Consumer<Token> onRemove = t -> { };

    public OscoreObservationStore(Configuration config) {
        this.delegate = new InMemoryObservationStore(config);
    }

    void onRemove(Consumer<Token> listener) {
        this.onRemove = listener;
    }

    @Override
    public Observation putIfAbsent(Token token, Observation obs) {
        return delegate.putIfAbsent(token, obs);
    }

    @Override
    public Observation put(Token token, Observation obs) {
        return delegate.put(token, obs);
    }

    @Override
    public void remove(Token token) {
        delegate.remove(token);
        onRemove.accept(token);
    }

    @Override
    public Observation get(Token token) {
        return delegate.get(token);
    }

    @Override
    public void setContext(Token token, EndpointContext endpointContext) {
        delegate.setContext(token, endpointContext);
    }

    @Override
    public void setExecutor(ScheduledExecutorService executor) {
        delegate.setExecutor(executor);
    }

    @Override
    public void start() {
        delegate.start();
    }

    @Override
    public void stop() {
        delegate.stop();
    }
}
