package dev.coterie.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.coterie.app.ContextFile;
import dev.coterie.app.Coterie;
import dev.coterie.keystore.CryptoProviders;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.EmptyMessage;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Coterie server ends an observation with a protected 5.00 that carries no Observe option,
 * sent CON (Californium sends error notifications CON). {@code coterie client --observe} must
 * take it as the end of the observation: acknowledge it (not RST), print it as such, exit 1, and
 * send no deregistration for an observation that is over.
 */
class ObservationEndTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aProtectedFinal500WithoutObserveSentConIsAcknowledgedPrintedAsTheEndAndExits1() throws Exception {
        Ending ending = new Ending(2);
        List<String> wire = new CopyOnWriteArrayList<>();
        try (CoterieServer server = new CoterieServer(ContextFile.load(contextFile("server", "01", ""),
                CryptoProviders.defaultProvider()), TestConfig.standard())) {
            server.server.add(ending);
            server.endpoint.addInterceptor(new MessageInterceptorAdapter() {
                @Override
                public void sendResponse(Response r) {
                    wire.add("sent " + r.getType() + " " + r.getCode() + " observe=" + r.getOptions().hasObserve() + " mid=" + r.getMID());
                }

                @Override
                public void receiveEmptyMessage(EmptyMessage m) {
                    wire.add("got " + m.getType() + " mid=" + m.getMID());
                }
            });
            Path client = contextFile("client", "", "01");
            String[] out = new String[2];
            int status = run(out, "client", "--context", client.toString(), "--observe", "--notifications", "5", "--timeout", "30",
                    server.uri("ending"));
            List<String> lines = out[0].lines().collect(Collectors.toList());
            assertEquals(1, status, out[0] + out[1]);
            assertEquals(List.of("notification 1:", "notification 2:"), lines.stream().filter(l -> l.startsWith("notification"))
                    .collect(Collectors.toList()), out[0]);
            int end = lines.indexOf("observation ended by the server:");
            assertTrue(end > 0, out[0]);
            assertEquals(List.of("observation ended by the server:", "5.00 INTERNAL_SERVER_ERROR", "  Content-Format: \"text/plain\"",
                    "ended"),
                    lines.subList(end, lines.size()), out[0]);
            assertFalse(out[0].contains("deregister"), "an ended observation is not deregistered: " + out[0]);

            // on the wire: the final response went CON without Observe, and the client acknowledged it
            List<String> finals = wire.stream().filter(w -> w.startsWith("sent CON") && w.contains("observe=false"))
                    .collect(Collectors.toList());
            assertEquals(1, finals.size(), wire.toString());
            String mid = finals.get(0).substring(finals.get(0).indexOf("mid="));
            assertTrue(wire.contains("got ACK " + mid), wire.toString());
            assertTrue(wire.stream().noneMatch(w -> w.startsWith("got RST")), wire.toString());
            assertEquals(0, ending.getObserverCount());
        }
    }

    /** The positive control: the same resource, asked for fewer notifications than it gives, ends normally. */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void theSameObservationAskedForFewerNotificationsEndsWithStatus0() throws Exception {
        try (CoterieServer server = new CoterieServer(ContextFile.load(contextFile("server", "01", ""),
                CryptoProviders.defaultProvider()), TestConfig.standard())) {
            server.server.add(new Ending(5));
            String[] out = new String[2];
            int status = run(out, "client", "--context", contextFile("client", "", "01").toString(), "--observe", "--notifications",
                    "2", "--timeout", "30", server.uri("ending"));
            assertEquals(0, status, out[0] + out[1]);
            assertFalse(out[0].contains("observation ended"), out[0]);
            assertTrue(out[0].contains("\nderegistration answered: 2.05 CONTENT\n"), out[0]);
        }
    }

    private static int run(String[] outErr, String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            return Coterie.execute(args);
        } finally {
            System.setOut(out);
            System.setErr(err);
            outErr[0] = o.toString(StandardCharsets.UTF_8);
            outErr[1] = e.toString(StandardCharsets.UTF_8);
        }
    }

    private Path contextFile(String name, String sender, String recipient) throws Exception {
        Path f = dir.resolve(name + ".json");
        Files.writeString(f, "{\n  \"master_secret\": \"0102030405060708090a0b0c0d0e0f10\",\n"
                + "  \"master_salt\": \"9e7ca92223786340\",\n  \"sender_id\": \"" + sender + "\",\n"
                + "  \"recipient_id\": \"" + recipient + "\",\n  \"state_dir\": \"" + name + "-state\"\n}\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    /**
     * Observable; the first {@code good} answers are 2.05 notifications, the next a 5.00 (which
     * Californium sends CON and without Observe, ending the relation). Changes on a timer of its own.
     */
    private static final class Ending extends CoapResource {
        private final int good;
        private final AtomicInteger answers = new AtomicInteger();
        private final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "ending-ticker");
                    t.setDaemon(true);
                    return t;
                });

        Ending(int good) {
            super("ending");
            this.good = good;
            setObservable(true);
            setObserveType(Type.CON);
            getAttributes().setObservable();
            timer.scheduleAtFixedRate(this::changed, 300, 300, TimeUnit.MILLISECONDS);
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            Integer observe = exchange.getRequestOptions().getObserve();
            if (observe == null || observe == 1) {
                exchange.respond(ResponseCode.CONTENT, "not observing", MediaTypeRegistry.TEXT_PLAIN);
                return;
            }
            int n = answers.getAndIncrement();
            if (n < good) {
                exchange.respond(ResponseCode.CONTENT, "value " + n, MediaTypeRegistry.TEXT_PLAIN);
            } else {
                exchange.respond(ResponseCode.INTERNAL_SERVER_ERROR, "ended");
            }
        }
    }
}
