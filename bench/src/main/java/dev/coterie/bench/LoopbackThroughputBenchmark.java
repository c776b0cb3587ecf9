package dev.coterie.bench;

import dev.coterie.oscore.ClientContextBinding;
import dev.coterie.oscore.InMemoryContextDb;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.oscore.OscoreEndpointBuilder;
import java.net.InetSocketAddress;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Requests per second over loopback UDP, client and server in one JVM, 64 requests
 * outstanding: Coterie's OSCORE stack beside plain Californium CoAP with the same settings
 * (MID_TRACKER NULL, PEERS_MARK_AND_SWEEP deduplication, 1 MiB socket buffers). Each
 * invocation sends a bounded batch of 2000 requests and waits for every response.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class LoopbackThroughputBenchmark {
    static final int BATCH = 2000;
    static final int OUTSTANDING = 64;

    @Param({"plain", "oscore"})
    public String stack;

    private CoapServer server;
    private CoapEndpoint clientEndpoint;
    private CoapClient client;
    private final AtomicInteger failures = new AtomicInteger();

    static Configuration config() {
        CoapConfig.register();
        UdpConfig.register();
        Configuration c = Configuration.createStandardWithoutFile();
        c.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        c.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
        c.set(UdpConfig.UDP_RECEIVE_BUFFER_SIZE, 1 << 20);
        c.set(UdpConfig.UDP_SEND_BUFFER_SIZE, 1 << 20);
        return c;
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Configuration cfg = config();
        InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
        CoapEndpoint serverEndpoint;
        if (stack.equals("oscore")) {
            // a window of 64: with 64 requests in flight on two protocol threads, arrival order varies
            OscoreContext serverCtx = OscoreContext.builder()
                    .masterSecret(dev.coterie.keystore.SecretBytes.copyOf(OscoreExchangeBenchmark.SECRET))
                    .masterSalt(OscoreExchangeBenchmark.SALT).senderId(new byte[] {1}).recipientId(new byte[0])
                    .replayWindowSize(64).keyUsageLimits(false).stateStore(dev.coterie.keystore.SecurityStateStore.inMemory())
                    .build();
            OscoreContext clientCtx = OscoreExchangeBenchmark.context(new byte[0], new byte[] {1});
            serverEndpoint = new OscoreEndpointBuilder().bind(any).configuration(cfg)
                    .serverContexts(new InMemoryContextDb().add(serverCtx)).build();
            clientEndpoint = new OscoreEndpointBuilder().bind(any).configuration(cfg)
                    .clientBinding(new ClientContextBinding().endpointDefault(clientCtx)).build();
        } else {
            serverEndpoint = new CoapEndpoint.Builder().setInetSocketAddress(any).setConfiguration(cfg).build();
            clientEndpoint = new CoapEndpoint.Builder().setInetSocketAddress(any).setConfiguration(cfg).build();
        }
        server = new CoapServer(cfg);
        server.addEndpoint(serverEndpoint);
        server.add(new CoapResource("bench") {
            @Override
            public void handlePOST(CoapExchange exchange) {
                exchange.respond(ResponseCode.CHANGED, exchange.getRequestPayload());
            }
        });
        server.start();
        clientEndpoint.start();
        client = new CoapClient("coap://127.0.0.1:" + serverEndpoint.getAddress().getPort() + "/bench")
                .setEndpoint(clientEndpoint).setTimeout(10_000L);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (failures.get() > 0) {
            System.out.println(stack + ": " + failures.get() + " requests failed");
        }
        client.shutdown();
        clientEndpoint.destroy();
        server.destroy();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void requests() throws InterruptedException {
        Semaphore window = new Semaphore(OUTSTANDING);
        CountDownLatch done = new CountDownLatch(BATCH);
        CoapHandler handler = new CoapHandler() {
            @Override
            public void onLoad(CoapResponse response) {
                if (response.getCode() != ResponseCode.CHANGED) {
                    failures.incrementAndGet();
                }
                window.release();
                done.countDown();
            }

            @Override
            public void onError() {
                failures.incrementAndGet();
                window.release();
                done.countDown();
            }
        };
        for (int i = 0; i < BATCH; i++) {
            window.acquire();
            Request r = Request.newPost();
            r.setPayload(OscoreExchangeBenchmark.PAYLOAD);
            client.advanced(handler, r);
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("batch did not complete within 60 s");
        }
    }
}
