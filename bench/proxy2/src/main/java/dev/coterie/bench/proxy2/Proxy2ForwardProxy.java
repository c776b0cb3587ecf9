package dev.coterie.bench.proxy2;

import java.net.InetSocketAddress;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.proxy2.ClientSingleEndpoint;
import org.eclipse.californium.proxy2.Coap2CoapTranslator;
import org.eclipse.californium.proxy2.config.Proxy2Config;
import org.eclipse.californium.proxy2.resources.ForwardProxyMessageDeliverer;
import org.eclipse.californium.proxy2.resources.ProxyCoapClientResource;
import org.eclipse.californium.proxy2.resources.ProxyCoapResource;

/**
 * The reference forward proxy for bench/proxy-run.sh: Californium proxy2 3.9.1, CoAP to CoAP,
 * as its ExampleCrossProxy2 builds it (ProxyCoapClientResource behind
 * ForwardProxyMessageDeliverer), without its cache and without its StatsResource (not
 * thread-safe). The same load settings as the Coterie side: MID_TRACKER NULL, peers
 * mark-and-sweep deduplication, 1 MiB UDP buffers (proxy2's example uses 8 KiB, unfairly small).
 *
 * <p>Usage: {@code Proxy2ForwardProxy PORT}; prints {@code READY <port>} once it listens.
 */
public final class Proxy2ForwardProxy {
    private Proxy2ForwardProxy() {
    }

    public static void main(String[] args) throws Exception {
        CoapConfig.register();
        UdpConfig.register();
        Proxy2Config.register();
        Configuration cfg = Configuration.createStandardWithoutFile();
        cfg.set(CoapConfig.MID_TRACKER, CoapConfig.TrackerMode.NULL);
        cfg.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
        cfg.set(UdpConfig.UDP_RECEIVE_BUFFER_SIZE, 1 << 20);
        cfg.set(UdpConfig.UDP_SEND_BUFFER_SIZE, 1 << 20);
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;

        CoapEndpoint upstream = CoapEndpoint.builder().setConfiguration(cfg)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        Coap2CoapTranslator translator = new Coap2CoapTranslator();
        ProxyCoapResource coap2coap = new ProxyCoapClientResource("coap2coap", false, true, translator,
                new ClientSingleEndpoint(upstream));

        CoapServer server = new CoapServer(cfg);
        CoapEndpoint front = CoapEndpoint.builder().setConfiguration(cfg)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", port)).build();
        server.addEndpoint(front);
        ForwardProxyMessageDeliverer deliverer = new ForwardProxyMessageDeliverer(server.getRoot(), translator, cfg);
        deliverer.addProxyCoapResources(coap2coap);
        server.add(coap2coap);
        server.setMessageDeliverer(deliverer);
        server.start();
        upstream.start();
        deliverer.addExposedServiceAddresses(front.getAddress());
        System.out.println("READY " + front.getAddress().getPort());
        System.out.flush();
        Thread.currentThread().join();
    }
}
