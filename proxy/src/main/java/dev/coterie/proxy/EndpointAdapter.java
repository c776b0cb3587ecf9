package dev.coterie.proxy;

import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.Token;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.EndpointObserver;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.network.interceptors.MessageInterceptor;
import org.eclipse.californium.core.observe.NotificationListener;
import org.eclipse.californium.core.server.MessageDeliverer;
import org.eclipse.californium.elements.config.Configuration;

/**
 * An {@link Endpoint} for exchanges that do not come through Californium's stack (the fast path,
 * the HTTP front end): the forwarder answers on {@link #sendResponse}, which each side overrides
 * as it needs; everything else does nothing, and requests and responses it does not expect are
 * refused.
 */
abstract class EndpointAdapter implements Endpoint {
    @Override public void start() { }
    @Override public void stop() { }
    @Override public void destroy() { }
    @Override public void clear() { }
    @Override public boolean isStarted() { return true; }
    @Override public void setExecutors(ScheduledExecutorService a, ScheduledExecutorService b) { }
    @Override public void addObserver(EndpointObserver o) { }
    @Override public void removeObserver(EndpointObserver o) { }
    @Override public void addNotificationListener(NotificationListener l) { }
    @Override public void removeNotificationListener(NotificationListener l) { }
    @Override public void addInterceptor(MessageInterceptor i) { }
    @Override public void removeInterceptor(MessageInterceptor i) { }
    @Override public List<MessageInterceptor> getInterceptors() { return List.of(); }
    @Override public void addPostProcessInterceptor(MessageInterceptor i) { }
    @Override public void removePostProcessInterceptor(MessageInterceptor i) { }
    @Override public List<MessageInterceptor> getPostProcessInterceptors() { return List.of(); }
    @Override public void sendRequest(Request request) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " sends no requests");
    }
    @Override public void sendResponse(Exchange exchange, Response response) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " sends no responses");
    }
    @Override public void sendEmptyMessage(Exchange exchange, EmptyMessage message) { }
    @Override public void setMessageDeliverer(MessageDeliverer deliverer) { }
    @Override public java.net.URI getUri() { return null; }
    @Override public Configuration getConfig() { return null; }
    @Override public void cancelObservation(Token token) { }
}
