package dev.coterie.tests;

import dev.coterie.app.DemoResources;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.cose.AlgorithmID;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.oscore.HashMapCtxDB;
import org.eclipse.californium.oscore.OSCoreCoapStackFactory;
import org.eclipse.californium.oscore.OSCoreCtx;

/** Eclipse Californium cf-oscore 3.13.0 as the independent peer (test scope only). */
final class CfOscorePeer {
    private CfOscorePeer() {
    }

    static OSCoreCtx context(Rfc8613Contexts c, boolean client) throws Exception {
        byte[] sender = client ? Rfc8613Contexts.CLIENT_ID : Rfc8613Contexts.SERVER_ID;
        byte[] recipient = client ? Rfc8613Contexts.SERVER_ID : Rfc8613Contexts.CLIENT_ID;
        OSCoreCtx ctx = new OSCoreCtx(Rfc8613Contexts.MASTER_SECRET, client, AlgorithmID.AES_CCM_16_64_128, sender,
                recipient, AlgorithmID.HKDF_HMAC_SHA_256, 32, Rfc8613Contexts.MASTER_SALT, c.idContext, 4096);
        if (c.idContext != null) {
            ctx.setIncludeContextId(true);
        }
        return ctx;
    }

    static CoapEndpoint endpoint(HashMapCtxDB db, Configuration config) {
        return new CoapEndpoint.Builder().setConfiguration(config)
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0))
                .setCoapStackFactory(new OSCoreCoapStackFactory()).setCustomCoapStackArgument(db).build();
    }

    /** A cf-oscore server with Coterie's demo resources. */
    static final class Server implements AutoCloseable {
        final CoapServer server;
        final CoapEndpoint endpoint;
        final ScheduledExecutorService ticker;

        Server(Rfc8613Contexts c, Configuration config) throws Exception {
            HashMapCtxDB db = new HashMapCtxDB();
            db.addContext(context(c, false));
            server = new CoapServer(config);
            endpoint = endpoint(db, config);
            server.addEndpoint(endpoint);
            ticker = DemoResources.install(server, 150);
            server.start();
        }

        String uri(String path) {
            return "coap://127.0.0.1:" + endpoint.getAddress().getPort() + "/" + path;
        }

        @Override
        public void close() {
            ticker.shutdownNow();
            server.destroy();
        }
    }

    /** A cf-oscore client bound (by URI, its only way) to the server at {@code baseUri}. */
    static CoapClient client(Rfc8613Contexts c, String baseUri, Configuration config) throws Exception {
        HashMapCtxDB db = new HashMapCtxDB();
        db.addContext(baseUri, context(c, true));
        CoapEndpoint ep = endpoint(db, config);
        ep.start();
        CoapClient client = new CoapClient();
        client.setEndpoint(ep);
        return client;
    }
}
