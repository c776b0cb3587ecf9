package dev.coterie.proxy;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.OptionNumberRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.core.network.Exchange;
import org.eclipse.californium.core.observe.ObserveRelation;
import org.eclipse.californium.core.server.resources.CoapExchange;

/**
 * One relayed observation (RFC 7641 Section 5): a single registration upstream for one
 * resource, fanned out to every observer of it through Californium's observe relations, each
 * observer with its own Token and Observe sequence. Each new notification from the origin
 * replaces the latest and is sent to every observer; the last observer to go cancels the
 * upstream registration (a GET with Observe 1 on its Token, RFC 7641 3.6).
 */
final class ObserveRelay extends CoapResource {
    private final ResponseCache.Key key;
    private final Endpoint upstream;
    private final java.util.function.Consumer<Request> send;
    private final Runnable onEmpty;
    private final java.util.function.BiFunction<Request, Response, String> refusal;
    private final ProxyMetrics metrics;
    private final List<Exchange> pending = new ArrayList<>();
    private volatile Request registration;
    private volatile Response latest;
    private volatile boolean closed;
    private final List<Runnable> onEnd = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * @param upstream the endpoint the registration went out on
     * @param send sends a request upstream the way the registration was sent (bound to the origin's hop context, if any)
     * @param refusal why a notification cannot go to the observer that made a request (a 5.02 instead), or null
     */
    ObserveRelay(ResponseCache.Key key, Endpoint upstream, java.util.function.Consumer<Request> send, ProxyMetrics metrics,
                 Runnable onEmpty, java.util.function.BiFunction<Request, Response, String> refusal) {
        super("relay", false);
        this.key = key;
        this.upstream = upstream;
        this.send = send;
        this.metrics = metrics;
        this.onEmpty = onEmpty;
        this.refusal = refusal;
        setObservable(true);
        setVisible(false);
    }

    /** Run when the relay ends (cancelled upstream, or the origin ended it). */
    void onEnd(Runnable r) {
        onEnd.add(r);
    }

    ResponseCache.Key key() {
        return key;
    }

    void registration(Request up) {
        registration = up;
    }

    /** An observer that came before the first notification: answered when it arrives. False if the relay is over. */
    synchronized boolean await(Exchange e) {
        if (closed) {
            return false;
        }
        pending.add(e);
        return true;
    }

    /** What {@link #awaitFirst} found. */
    enum First { WAITING, LATEST, OVER }

    /**
     * In one step: the relay is over, or it has a latest notification (attach the observer
     * there), or the observer now waits for the first one. One step, so that a notification
     * arriving in between cannot pass a new observer by (a lost wake-up).
     */
    synchronized First awaitFirst(Exchange e) {
        if (closed) {
            return First.OVER;
        }
        if (latest != null) {
            return First.LATEST;
        }
        pending.add(e);
        return First.WAITING;
    }

    private volatile boolean groupJoined;

    /** The proxy takes part in the origin's group observation for this relay (multicast-notifications-proxy 3). */
    void groupJoined() {
        groupJoined = true;
    }

    boolean isGroupJoined() {
        return groupJoined;
    }

    synchronized int waitingCount() {
        return pending.size();
    }

    /** The observers waiting for the first notification (a copy). */
    synchronized List<Exchange> waiting() {
        return new ArrayList<>(pending);
    }

    /** The first or a later notification; returns the observers that waited for the first. */
    synchronized List<Exchange> notification(Response r) {
        latest = r;
        List<Exchange> waiting = new ArrayList<>(pending);
        pending.clear();
        return waiting;
    }

    /** The origin answered without Observe, or failed: the waiting observers get that answer and the relay ends. */
    synchronized List<Exchange> end() {
        closed = true;
        onEnd.forEach(Runnable::run);
        List<Exchange> waiting = new ArrayList<>(pending);
        pending.clear();
        return waiting;
    }

    boolean hasNotification() {
        return latest != null;
    }

    synchronized boolean isClosed() {
        return closed;
    }

    @Override
    public void handleGET(CoapExchange exchange) {
        serve(exchange);
    }

    @Override
    public void handleFETCH(CoapExchange exchange) {
        serve(exchange);
    }

    private void serve(CoapExchange exchange) {
        Response l = latest;
        String refused = refusal.apply(exchange.advanced().getRequest(), l);
        if (refused != null) {
            // per observer: whether the option is acceptable depends on the observer's hop; the 5.02 ends its relation
            Response bad = new Response(org.eclipse.californium.core.coap.CoAP.ResponseCode.BAD_GATEWAY);
            bad.setPayload(refused);
            bad.getOptions().setContentFormat(0).setMaxAge(0);
            exchange.respond(bad);
            return;
        }
        Response r = new Response(l.getCode());
        for (Option opt : l.getOptions().asSortedList()) {
            if (opt.getNumber() != OptionNumberRegistry.OBSERVE) {
                r.getOptions().addOption(opt);
            }
        }
        byte[] p = l.getPayload();
        if (p != null && p.length > 0) {
            r.setPayload(p);
        }
        exchange.respond(r); // Californium numbers it for each observer (its relation's Observe sequence)
    }

    @Override
    public void addObserveRelation(ObserveRelation relation) {
        super.addObserveRelation(relation);
        metrics.observers().incrementAndGet();
    }

    @Override
    public void removeObserveRelation(ObserveRelation relation) {
        super.removeObserveRelation(relation);
        metrics.observers().decrementAndGet();
        if (getObserverCount() == 0) {
            cancelUpstream();
        }
    }

    /** Ends the upstream registration: proactively, with a GET with Observe 1 on its Token. */
    void cancelUpstream() {
        synchronized (this) {
            if (closed && registration == null) {
                return;
            }
            closed = true;
        }
        onEmpty.run();
        onEnd.forEach(Runnable::run);
        Request up = registration;
        registration = null;
        if (up == null || up.getToken() == null) {
            return;
        }
        upstream.cancelObservation(up.getToken());
        Request cancel = new Request(up.getCode(), up.getType());
        cancel.setToken(up.getToken());
        cancel.setOptions(up.getOptions());
        cancel.setObserveCancel();
        cancel.setDestinationContext(up.getDestinationContext());
        byte[] p = up.getPayload();
        if (p != null && p.length > 0) {
            cancel.setPayload(p);
        }
        up.cancel();
        send.accept(cancel);
    }
}
