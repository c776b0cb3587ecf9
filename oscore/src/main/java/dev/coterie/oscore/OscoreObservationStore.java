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
 * plain {@link Request}s. Notifications are verified with the registration's
 * {@link RequestBinding} (OSC-22: kept as long as the observation lives), so this store copies
 * a {@link ProtectedRequest} as a ProtectedRequest sharing the same binding.
 */
final class OscoreObservationStore implements ObservationStore {
    private final InMemoryObservationStore delegate;
    private final ConcurrentHashMap<Token, RequestBinding> bindings = new ConcurrentHashMap<>();

    OscoreObservationStore(Configuration config) {
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
        if (obs.getRequest() instanceof ProtectedRequest p) {
            bindings.put(token, p.binding());
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
        RequestBinding binding = token == null ? null : bindings.get(token);
        if (copy == null || binding == null) {
            return copy;
        }
        Request r = copy.getRequest();
        ProtectedRequest typed = new ProtectedRequest(r.getCode(), binding, r);
        typed.setDestinationContext(r.getDestinationContext());
        typed.setType(r.getType());
        typed.setMID(r.getMID());
        typed.setToken(r.getToken());
        typed.setOptions(r.getOptions());
        typed.setPayload(r.getPayload());
        typed.setUserContext(r.getUserContext());
        typed.setMaxResourceBodySize(r.getMaxResourceBodySize());
        return new Observation(typed, copy.getContext());
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
