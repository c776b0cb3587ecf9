package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.keystore.StateUnavailableException;
import dev.coterie.oscore.OscoreContext;
import dev.coterie.proxy.ConfigException;
import dev.coterie.proxy.ListenFailure;
import dev.coterie.proxy.ProxyConfig;
import dev.coterie.proxy.ProxyServer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "proxy", description = "Run the Coterie CoAP proxy daemon from one YAML configuration file "
        + "(docs/configuration.md, \"Proxy\"). SIGTERM stops it cleanly and saves the hop contexts' state; SIGHUP "
        + "re-reads the routes and the access-control list. Exit status 64: a mistake in the configuration, or an "
        + "address in it that cannot be bound (in use); 3: a hop context's state is in use by another process.")
final class ProxyCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the proxy configuration (YAML)")
    Path config;

    @Option(names = "--check", description = "check the configuration and the context files, then exit")
    boolean check;

    @Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc")
    String provider;

    @Override
    public Integer call() throws Exception {
        ProxyConfig cfg;
        try {
            cfg = ProxyConfig.load(config);
        } catch (ConfigException e) {
            System.err.println("coterie proxy: " + e.getMessage());
            return 64;
        }
        List<OscoreContext> opened = new ArrayList<>();
        List<OscoreContext> clients = new ArrayList<>();
        Map<ProxyConfig.Origin, OscoreContext> origins = ProxyServer.originMap();
        try {
            int i = 0;
            for (Path p : cfg.clientContexts()) {
                clients.add(open(p, "client_contexts[" + i++ + "]", opened));
            }
            i = 0;
            for (ProxyConfig.OriginHop h : cfg.originHops()) {
                origins.put(h.origin(), open(h.context(), "origin_contexts[" + i++ + "].context", opened));
            }
        } catch (ConfigException e) {
            closeAll(opened);
            System.err.println("coterie proxy: " + e.getMessage());
            return 64;
        } catch (StateUnavailableException e) {
            closeAll(opened);
            System.err.println("coterie proxy: " + e.getMessage());
            return 3;
        }
        if (check) {
            closeAll(opened);
            System.out.println("coterie proxy: " + config + " is valid: " + cfg.routes().size() + " route(s), "
                    + cfg.access().size() + " access rule(s), " + clients.size() + " client and " + origins.size()
                    + " origin hop context(s), " + cfg.groups().size() + " group(s)");
            return 0;
        }
        ProxyServer proxy;
        try {
            proxy = new ProxyServer(cfg, clients, origins).start();
        } catch (ListenFailure e) {
            // an address of the file cannot be bound (in use, not local): the file's to fix, like any other field
            closeAll(opened);
            System.err.println("coterie proxy: " + e.getMessage());
            return 64;
        } catch (IOException e) {
            closeAll(opened);
            System.err.println("coterie proxy: cannot start: " + e.getMessage());
            return 64;
        }
        System.out.println("coterie proxy listening on " + proxy.listenAddresses()
                + (proxy.tcpListeners().isEmpty() ? "" : " and " + String.join(", ", proxy.tcpListeners()))
                + (proxy.httpAddress() == null ? "" : ", HTTP front end on http://" + hostPort(proxy.httpAddress())
                        + cfg.http().pathPrefix())
                + (proxy.adminAddress() == null ? "" : ", metrics on http://" + hostPort(proxy.adminAddress()) + "/metrics"));
        installReload(proxy);
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            proxy.close(); // stops the endpoints, then closes the hop contexts: their state is saved
            stop.countDown();
        }, "coterie-proxy-shutdown"));
        stop.await();
        return 0;
    }

    private OscoreContext open(Path p, String field, List<OscoreContext> opened)
            throws ConfigException, StateUnavailableException {
        try {
            OscoreContext c = ContextFile.load(p, CryptoProviders.byName(provider));
            opened.add(c);
            return c;
        } catch (IOException e) {
            throw new ConfigException(config.toString(), field, p + ": " + e.getMessage());
        }
    }

    /**
     * SIGHUP: re-read the file; routes and access control change, exchanges in flight go on; a
     * bad file changes nothing. The proxy logs (to stderr) a refused file and the changed fields
     * that need a restart.
     */
    private void installReload(ProxyServer proxy) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> {
                if (proxy.reload(config)) {
                    System.out.println("coterie proxy: reloaded routes and access control from " + config);
                }
            });
        } catch (IllegalArgumentException e) {
            System.err.println("coterie proxy: SIGHUP is not available here; reload needs a restart");
        }
    }

    private static String hostPort(java.net.InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    private static void closeAll(List<OscoreContext> opened) {
        for (OscoreContext c : opened) {
            try {
                c.close();
            } catch (StateUnavailableException e) {
                System.err.println("coterie proxy: could not persist state of " + c.name() + ": " + e.getMessage());
            }
        }
    }
}
