package dev.coterie.tests;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyMetrics;
import dev.coterie.proxy.ProxyServer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;

/**
 * Runs inside a private network namespace ({@link PrivateNetwork#IPV4}): the group-observed
 * /alarm of {@link GroupObservationScenario} behind a Coterie forward proxy with
 * {@code group_observations}, and twenty observers that reach it through the proxy and never
 * listen to multicast (multicast-notifications-proxy Section 3, unprotected variant, MNP-04,
 * MNP-05). A control run with the proxy's group_observations off shows the informative response
 * reaching the observer unchanged. Prints "CHECK ok NAME" per check and "SCENARIO OK".
 */
public final class GroupObservationProxyScenario {
    static final int OBSERVERS = 20;

    private GroupObservationProxyScenario() {
    }

    public static void main(String[] args) {
        try {
            run();
        } catch (Throwable t) {
            t.printStackTrace(System.out);
            System.out.println("SCENARIO FAILED");
            System.exit(2);
        }
        System.out.println(FAILURES.isEmpty() ? "SCENARIO OK" : "SCENARIO FAILED: " + FAILURES);
        System.exit(FAILURES.isEmpty() ? 0 : 1);
    }

    private static final List<String> FAILURES = new ArrayList<>();

    static void check(boolean ok, String name, Object detail) {
        if (ok) {
            System.out.println("CHECK ok   " + name);
        } else {
            System.out.println("CHECK FAIL " + name + ": " + detail);
            FAILURES.add(name);
        }
    }

    static ProxyServer proxy(String listen, boolean groupObservations) throws Exception {
        return proxy(listen, groupObservations ? "group_observations: {interface: lo, max_observers: 1000}" : "");
    }

    static ProxyServer proxy(String listen, String section) throws Exception {
        String yaml = String.join("\n",
                "listen: ['" + listen + "']",
                "forward_proxy: true",
                "access:",
                "  - {client: unauthenticated, allow: [{origin: '127.0.0.1:5810'}]}",
                section,
                "");
        ProxyConfig pc = ProxyConfig.parse(new ObjectMapper(new YAMLFactory()).readTree(yaml), "group-observation-proxy", null);
        return new ProxyServer(pc, List.of(), Map.of()).start();
    }

    private static final Map<org.eclipse.californium.core.coap.Token, Observer> BY_TOKEN =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** One observer through the proxy: every response on its registration, in order. */
    static final class Observer extends MessageObserverAdapter {
        final List<Response> got = new CopyOnWriteArrayList<>();
        final Request request;

        Observer(String proxy) {
            this(proxy, "alarm");
        }

        Observer(String proxy, String resource) {
            request = Request.newGet();
            request.setURI("coap://" + proxy);
            request.getOptions().setProxyUri("coap://127.0.0.1:5810/" + resource);
            request.setObserve();
            request.addMessageObserver(this);
        }

        @Override
        public void onResponse(Response response) {
            if (got.isEmpty() || got.get(got.size() - 1) != response) {
                got.add(response);
            }
        }

        @Override
        public void onReadyToSend() {
            BY_TOKEN.put(request.getToken(), this);
        }

        List<String> payloads() {
            List<String> out = new ArrayList<>();
            for (Response r : got) {
                out.add(r.getCode() + (r.getPayloadSize() > 0 ? " " + r.getPayloadString() : ""));
            }
            return out;
        }
    }


    private static void run() throws Exception {
        Configuration cfg = dev.coterie.grouposcore.GroupEndpointBuilder.defaultConfiguration();
        CoapServer server = new CoapServer(cfg);
        CoapEndpoint sep = CoapEndpoint.builder().setInetSocketAddress(GroupObservationScenario.SERVER).setConfiguration(cfg)
                .build();
        server.addEndpoint(sep);
        GroupObservationScenario.Alarm alarm = new GroupObservationScenario.Alarm();
        server.add(alarm);
        GroupObservationScenario.Alarm door = new GroupObservationScenario.Alarm("door");
        server.add(door);
        server.start();
        door.sendFrom(sep.getConnector(), GroupObservationScenario.SERVER);
        alarm.sendFrom(sep.getConnector(), GroupObservationScenario.SERVER);
        CoapEndpoint cep = CoapEndpoint.builder().setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setConfiguration(cfg).build();
        cep.start();
        // Californium hands the notifications after the first to the endpoint's notification listeners: by Token to each observer
        cep.addNotificationListener((req, resp) -> {
            Observer o = BY_TOKEN.get(req.getToken());
            if (o != null) {
                o.onResponse(resp);
            }
        });
        int fd = dev.coterie.oscore.ExtensionOptionRegistry.defaults()
                .byName(dev.coterie.oscore.ExtensionOptionRegistry.FEEDBACK_DIVIDER).number();
        // rough counting on /alarm (M 1000: Q = 0, every answer comes), asked for below
        dev.coterie.oscore.FeedbackCounting counting = alarm.counting(
                dev.coterie.oscore.FeedbackCounting.Config.defaults(1000).withWaitMs(60_000));
        try {
            // control: without group_observations, the observer gets the informative response itself
            try (ProxyServer off = proxy("127.0.0.1:5601", false)) {
                Observer o = new Observer("127.0.0.1:5601");
                cep.sendRequest(o.request);
                boolean got = GroupObservationScenario.await(() -> !o.got.isEmpty(), 5000);
                Response r = got ? o.got.get(0) : null;
                check(r != null && r.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE && !r.getOptions().hasObserve(),
                        "MNP_04 control: a proxy without group_observations relays the informative response as it is", r);
                // the observer listens to the group itself; its Feedback-Divider answer goes where its registration went,
                // to this proxy, which forwards it to the server as a one-off request (not an Observe relay)
                if (r != null) {
                    dev.coterie.oscore.FeedbackAnswer answer = new dev.coterie.oscore.FeedbackAnswer(o.request, fd, 0,
                            0, new java.util.SplittableRandom(3), null); // no hold-off: two answers in a row on purpose
                    GroupObservationScenario.Observer listening = new GroupObservationScenario.Observer();
                    Request own = Request.newGet(); // what the registration asked the server for (it went with Proxy-Uri)
                    own.getOptions().addUriPath("alarm").setObserve(0);
                    dev.coterie.oscore.GroupObservationClient gc = dev.coterie.oscore.GroupObservationClient.join(r, own,
                            dev.coterie.oscore.InformativeResponse.DEFAULT_CONTENT_FORMAT,
                            dev.coterie.oscore.GroupObservationClient.networkInterface("lo"),
                            dev.coterie.oscore.ExtensionOptionRegistry.defaults().californiumRegistry(), listening, answer);
                    try {
                        counting.start();
                        alarm.state = 9;
                        alarm.changed();
                        boolean confirmed = GroupObservationScenario.await(() -> counting.confirmations() == 1, 10_000);
                        // a second one for the same resource while the first is still unanswered upstream (No-Response 26):
                        // an Observe registration would wait for the first one's relay and never reach the server
                        answer.accept(0);
                        confirmed &= GroupObservationScenario.await(() -> counting.confirmations() == 2, 10_000);
                        dev.coterie.oscore.FeedbackCounting.Result res = counting.finish();
                        check(confirmed && answer.sent() == 2 && res != null && res.confirmations() == 2
                                && off.metrics().observers().get() == 0, "MNP_07 a client's Feedback-Divider answers through a "
                                + "proxy without group_observations are each forwarded to the server, not taken into an Observe relay",
                                res + " sent " + answer.sent() + " observers at the proxy " + off.metrics().observers().get());
                    } finally {
                        answer.close();
                        gc.close();
                        alarm.state = 0;
                    }
                }
                o.request.cancel();
            }
            alarm.cancel(); // the control's group observation; the proxy run starts a fresh one
            // group_observations.max_joined 1: the second group observation is not joined, its informative response relayed
            try (ProxyServer one = proxy("127.0.0.1:5602", "group_observations: {interface: lo, max_joined: 1}")) {
                Observer a = new Observer("127.0.0.1:5602", "alarm");
                cep.sendRequest(a.request);
                boolean joined = GroupObservationScenario.await(() -> !a.got.isEmpty(), 5000);
                Observer d = new Observer("127.0.0.1:5602", "door");
                cep.sendRequest(d.request);
                boolean relayed = GroupObservationScenario.await(() -> !d.got.isEmpty(), 5000);
                check(joined && a.got.get(0).getCode() == CoAP.ResponseCode.CONTENT && relayed
                        && d.got.get(0).getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE
                        && one.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                        "MNP_04 max_joined 1: one group observation joined (2.05), the second's informative response relayed (5.03)",
                        a.payloads() + " / " + d.payloads());
                a.request.cancel();
                d.request.cancel();
            }
            alarm.cancel();
            door.cancel();
            try (ProxyServer proxy = proxy("127.0.0.1:5600",
                    "group_observations: {interface: lo, max_observers: 1000, feedback_leisure_ms: 100}")) {
                List<Observer> observers = new ArrayList<>();
                for (int i = 0; i < OBSERVERS; i++) {
                    Observer o = new Observer("127.0.0.1:5600");
                    observers.add(o);
                    cep.sendRequest(o.request);
                }
                boolean first = GroupObservationScenario.await(() -> observers.stream().allMatch(o -> !o.got.isEmpty()), 10_000);
                boolean allLast = true;
                for (Observer o : observers) {
                    allLast &= !o.got.isEmpty() && o.got.get(0).getCode() == CoAP.ResponseCode.CONTENT
                            && o.got.get(0).getOptions().hasObserve() && "state 0".equals(o.got.get(0).getPayloadString());
                }
                check(first && allLast, "MNP_05 each observer's first answer is the latest notification (from last_notif), "
                        + "2.05 with Observe, not the informative response", observers.get(0).payloads());
                check(alarm.observers() == 1, "MNP_04 the proxy registered with the server once for twenty observers",
                        alarm.observers());
                boolean ownTokens = true;
                for (Observer o : observers) {
                    ownTokens &= !o.got.isEmpty() && o.got.get(0).getToken().equals(o.request.getToken());
                }
                check(ownTokens, "MNP_04 every observer's notifications carry its own Token", "");

                long sentBefore = alarm.multicastSent();
                double inBefore = proxy.metrics().groupNotificationCount();
                alarm.state = 1;
                alarm.changed();
                boolean all = GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.payloads().contains("2.05 state 1")), 10_000);
                alarm.state = 2;
                alarm.changed();
                all &= GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.payloads().contains("2.05 state 2")), 10_000);
                check(all, "MNP_04 every multicast notification fanned out to all twenty observers", observers.get(0).payloads()
                        + " observers at the proxy " + proxy.metrics().observers().get());
                check(alarm.multicastSent() - sentBefore == 2 && proxy.metrics().groupNotificationCount() - inBefore == 2,
                        "MNP_04 one datagram from the server per change (and one in at the proxy), twenty out",
                        (alarm.multicastSent() - sentBefore) + " / " + (proxy.metrics().groupNotificationCount() - inBefore));
                boolean increasing = true;
                for (Observer o : observers) {
                    int last = -1;
                    for (Response r : o.got) {
                        if (r.getOptions().hasObserve()) {
                            increasing &= r.getOptions().getObserve() > last;
                            last = r.getOptions().getObserve();
                        }
                    }
                }
                check(increasing, "MNP_04 each observer's Observe numbers increase", observers.get(0).got);

                // a late observer joins from the proxy's latest notification, with no traffic to the server
                Observer late = new Observer("127.0.0.1:5600");
                cep.sendRequest(late.request);
                boolean lateOk = GroupObservationScenario.await(() -> !late.got.isEmpty(), 5000);
                check(lateOk && "state 2".equals(late.got.get(0).getPayloadString()) && alarm.observers() == 1,
                        "MNP_05 a later observer is answered from the proxy's latest notification, nothing sent to the server",
                        late.payloads() + " / " + alarm.observers());

                // MNP-07: a count asked for with Q = 0 (M 1000, N 1): the proxy answers it itself, once, as one client, and
                // relays the notification to every observer without the option
                counting.start();
                alarm.state = 3;
                alarm.changed();
                boolean fdAll = GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.payloads()
                        .contains("2.05 state 3")), 10_000);
                boolean stripped = true;
                for (Observer o : observers) {
                    Response r = o.got.get(o.got.size() - 1);
                    stripped &= "state 3".equals(r.getPayloadString()) && r.getOptions().getOthers().stream()
                            .noneMatch(x -> x.getNumber() == fd) && r.getToken().equals(o.request.getToken());
                }
                boolean answered = GroupObservationScenario.await(() -> counting.confirmations() == 1, 10_000);
                dev.coterie.oscore.FeedbackCounting.Result res = counting.finish();
                check(fdAll && stripped && answered && res != null && res.q() == 0 && res.confirmations() == 1
                        && alarm.observers() == 1, "MNP_07 unprotected variant: the proxy answers the server's "
                        + "Feedback-Divider itself (one confirmation, one client) and relays the notification to every "
                        + "observer without it", res + " / " + observers.get(0).got);

                // the server ends the group observation: every observer's relation ends with the 5.03
                alarm.cancel();
                boolean ended = GroupObservationScenario.await(() -> observers.stream().allMatch(o -> o.payloads().get(o.payloads().size() - 1)
                        .startsWith("5.03")), 10_000);
                check(ended, "MNP_04 the server's cancellation reaches every observer as a final 5.03",
                        observers.get(0).payloads());
                check(proxy.metrics().count(ProxyMetrics.Outcome.GROUP_OBSERVATION_JOINED) == 1,
                        "MNP_04 the proxy took part in one group observation", proxy.metrics().scrape().length());
                for (Observer o : observers) {
                    o.request.cancel();
                }
                late.request.cancel();
            }
        } finally {
            cep.destroy();
            alarm.close();
            door.close();
            server.destroy();
        }
    }
}
