package dev.coterie.oscore;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.observe.InMemoryObservationStore;
import org.eclipse.californium.core.observe.Observation;
import org.eclipse.californium.core.observe.ObservationStore;
import org.eclipse.californium.elements.EndpointContext;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Californium's observation store hands out shallow copies of the registration request, as
 * plain {@link Request}s. Notifications are verified with the registration's binding (OSC-22:
 * kept as long as the observation lives), so this store turns each copy back into the typed
 * request ({@link RebindableRequest}) that shares the original binding.
 */
public final class OscoreObservationStore implements ObservationStore {
    private final InMemoryObservationStore delegate;
    private final ConcurrentHashMap<Token, RebindableRequest> bindings = new ConcurrentHashMap<>();

    public OscoreObservationStore(Configuration config) {
        this.delegate = new InMemoryObservationStore(config);
    }

    @Override
    public Observation putIfAbsent(Token token, Observation obs) {
        Observation prev = delegate.putIfAbsent(token, obs);
        if (prev == null) {
            remember(token, obs);
        }
        return prev;
    }

    @Override
    public Observation put(Token token, Observation obs) {
        Observation prev = delegate.put(token, obs);
        remember(token, obs);
        return prev;
    }

    private void remember(Token token, Observation obs) {
        if (obs.getRequest() instanceof RebindableRequest p) {
            bindings.put(token, p);
        } else {
            bindings.remove(token);
        }
    }

    @Override
    public void remove(Token token) {
        delegate.remove(token);
        bindings.remove(token);
    }

    @Override
    public Observation get(Token token) {
        Observation copy = delegate.get(token);
        RebindableRequest original = token == null ? null : bindings.get(token);
        if (copy == null || original == null) {
            return copy;
        }
        return new Observation(original.rebind(copy.getRequest()), copy.getContext());
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
