package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "client", description = "Send one OSCORE-protected request and print the response.")
final class ClientCommand implements Callable<Integer> {
    @picocli.CommandLine.Option(names = "--context", description = "OSCORE security-context file")
    Path context;

    @picocli.CommandLine.Option(names = "--bundle", description = "Group OSCORE member bundle (instead of --context)")
    Path bundle;

    @picocli.CommandLine.Option(names = "--group", description = "with --bundle: send one group-mode request to this multicast URI "
            + "and print every response until --timeout")
    boolean group;

    @picocli.CommandLine.Option(names = "--member", description = "with --bundle: the Sender ID (hex) of the one server a pairwise request is for")
    String member;

    @picocli.CommandLine.Option(names = "--passphrase-env", description = "environment variable holding the private key's passphrase")
    String passphraseEnv;

    @picocli.CommandLine.Option(names = {"-m", "--method"}, defaultValue = "GET", description = "GET, POST, PUT, DELETE or FETCH")
    String method;

    @picocli.CommandLine.Option(names = "--observe", description = "register an observation and print notifications")
    boolean observe;

    @picocli.CommandLine.Option(names = "--notifications", defaultValue = "3", description = "with --observe: stop after N notifications (${DEFAULT-VALUE})")
    int notifications;

    @picocli.CommandLine.Option(names = "--payload", description = "request payload (text)")
    String payload;

    @picocli.CommandLine.Option(names = "--timeout", defaultValue = "10", description = "seconds to wait (${DEFAULT-VALUE})")
    long timeout;

    @picocli.CommandLine.Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc")
    String provider;

    @picocli.CommandLine.Option(names = "--trace", description = "print the exchange as a message-flow trace")
    boolean trace;

    @picocli.CommandLine.Option(names = "--non", description = "send a NON request instead of CON")
    boolean non;

    @Parameters(index = "0", description = "coap://HOST:PORT/PATH")
    String uri;

    @picocli.CommandLine.Mixin
    ExtensionOptionsMixin options = new ExtensionOptionsMixin();

    @Override
    public Integer call() throws Exception {
        if ((context == null) == (bundle == null)) {
            throw new IllegalArgumentException("give either --context (OSCORE) or --bundle (Group OSCORE)");
        }
        if (bundle != null) {
            return groupClient();
        }
        OscoreContext ctx;
        try {
            ctx = ContextFile.load(context, CryptoProviders.byName(provider));
        } catch (StateUnavailableException e) {
            System.err.println("coterie client: " + e.getMessage());
            return 3;
        }
        OscoreEndpointBuilder eb = new OscoreEndpointBuilder()
                .bind(new InetSocketAddress(0))
                .configuration(Endpoints.configuration()).extensions(options.registry())
                .clientBinding(new ClientContextBinding().endpointDefault(ctx));
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        CoapEndpoint endpoint = eb.build();
        CoapClient client = new CoapClient(uri).setEndpoint(endpoint).setTimeout(TimeUnit.SECONDS.toMillis(timeout));
        try {
            Request request = new Request(Code.valueOf(method.toUpperCase()));
            request.setConfirmable(!non);
            if (payload != null) {
                request.setPayload(payload);
            }
            if (observe) {
                return observe(client, request);
            }
            CoapResponse response;
            try {
                response = client.advanced(request);
            } catch (org.eclipse.californium.elements.exception.ConnectorException | java.io.IOException e) {
                System.err.println("coterie client: request failed: " + e.getMessage());
                return 2;
            }
            if (response == null) {
                System.err.println("coterie client: no response within " + timeout + " s");
                return 2;
            }
            print(System.out, response);
            return response.isSuccess() ? 0 : 1;
        } finally {
            client.shutdown();
            endpoint.destroy();
            ctx.close();
        }
    }

    private int observe(CoapClient client, Request request) throws InterruptedException {
        request.setObserve();
        CountDownLatch done = new CountDownLatch(notifications);
        int[] errors = {0};
        CoapObserveRelation relation = client.observe(request, new CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                if (done.getCount() == 0) {
                    return; // the answer to our own cancellation
                }
                print(System.out, response);
                if (!response.isSuccess()) {
                    errors[0]++;
                }
                done.countDown();
            }

            @Override
            public void onError() {
                errors[0]++;
                done.countDown();
            }
        });
        boolean all = done.await(timeout, TimeUnit.SECONDS);
        relation.proactiveCancel();
        Thread.sleep(200);
        if (!all) {
            System.err.println("coterie client: fewer than " + notifications + " notifications within " + timeout + " s");
            return 2;
        }
        return errors[0] == 0 ? 0 : 1;
    }

    private int groupClient() throws Exception {
        if (group == (member != null)) {
            throw new IllegalArgumentException("with --bundle give --group (a group-mode multicast request) or --member SID (pairwise)");
        }
        char[] pass = passphraseEnv == null ? null : GroupCommand.requireEnv(passphraseEnv).toCharArray();
        dev.coterie.grouposcore.GroupContext ctx;
        try {
            ctx = dev.coterie.app.group.MemberBundle.load(bundle, CryptoProviders.byName(provider), pass);
        } catch (StateUnavailableException e) {
            System.err.println("coterie client: " + e.getMessage());
            return 3;
        }
        ClientContextBinding binding = new ClientContextBinding();
        dev.coterie.grouposcore.GroupEndpointBuilder eb = new dev.coterie.grouposcore.GroupEndpointBuilder()
                .bind(new InetSocketAddress(0)).extensions(options.registry()).clientBinding(binding);
        if (trace) {
            eb.trace(new FlowTrace(System.out, "C", "S"));
        }
        CoapEndpoint endpoint = eb.build();
        endpoint.start();
        try {
            Request request = new Request(Code.valueOf(method.toUpperCase()), group ? org.eclipse.californium.core.coap.CoAP.Type.NON
                    : org.eclipse.californium.core.coap.CoAP.Type.CON);
            request.setURI(uri);
            if (payload != null) {
                request.setPayload(payload);
            }
            if (group) {
                binding.bind(request, ctx.groupMode());
            } else {
                binding.bind(request, ctx.pairwise(dev.coterie.keystore.Hex.decode(member)));
            }
            java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicBoolean errors = new java.util.concurrent.atomic.AtomicBoolean();
            CountDownLatch unicastDone = new CountDownLatch(1);
            java.util.concurrent.atomic.AtomicReference<Throwable> sendError = new java.util.concurrent.atomic.AtomicReference<>();
            request.addMessageObserver(new org.eclipse.californium.core.coap.MessageObserverAdapter() {
                @Override
                public void onResponse(org.eclipse.californium.core.coap.Response r) {
                    dev.coterie.oscore.OscorePeer g = dev.coterie.oscore.OscorePeer.of(r);
                    String who = g != null
                            ? "member " + dev.coterie.keystore.Hex.encode(g.kid()) + " (" + g.mode().label() + ")"
                            : "(unprotected)";
                    synchronized (System.out) {
                        System.out.println("from " + r.getSourceContext().getPeerAddress() + " " + who + ":");
                        print(System.out, r);
                    }
                    answers.incrementAndGet();
                    errors.compareAndSet(false, !r.isSuccess());
                    unicastDone.countDown();
                }

                @Override
                public void onSendError(Throwable e) {
                    sendError.set(e);
                    unicastDone.countDown();
                }
            });
            endpoint.sendRequest(request);
            if (group) {
                Thread.sleep(TimeUnit.SECONDS.toMillis(timeout));
            } else {
                unicastDone.await(timeout, TimeUnit.SECONDS);
            }
            if (sendError.get() != null) {
                System.err.println("coterie client: request not sent: " + sendError.get().getMessage());
                return 2;
            }
            if (answers.get() == 0) {
                System.err.println("coterie client: no response within " + timeout + " s");
                return 2;
            }
            if (group) {
                System.out.println(answers.get() + " response(s)");
            }
            return errors.get() ? 1 : 0;
        } finally {
            endpoint.destroy();
            ctx.close();
        }
    }

    static void print(PrintStream out, CoapResponse r) {
        print(out, r.advanced());
    }

    static void print(PrintStream out, org.eclipse.californium.core.coap.Response r) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.getCode()).append(' ').append(r.getCode().name());
        for (Option o : r.getOptions().asSortedList()) {
            sb.append("\n  ").append(o.getDefinition().getName()).append(": ").append(o.toValueString());
        }
        byte[] p = r.getPayload();
        if (p != null && p.length > 0) {
            sb.append("\n").append(new String(p, StandardCharsets.UTF_8));
        }
        out.println(sb);
    }
}
