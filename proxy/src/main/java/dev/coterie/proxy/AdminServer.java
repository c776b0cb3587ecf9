package dev.coterie.proxy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The admin endpoint: {@code GET /metrics} in the Prometheus text format, on a loopback address
 * only (the configuration refuses any other), served by the JDK's HTTP server. Anything else
 * is 404; methods other than GET and HEAD are 405.
 */
final class AdminServer {
    private final HttpServer server;

    AdminServer(InetSocketAddress address, ProxyMetrics metrics) throws IOException {
        if (!address.getAddress().isLoopbackAddress()) {
            throw new IOException("the admin endpoint listens on loopback only");
        }
        server = HttpServer.create(address, 16);
        server.createContext("/", exchange -> {
            try (exchange) {
                String method = exchange.getRequestMethod();
                if (!exchange.getRequestURI().getPath().equals("/metrics")) {
                    exchange.sendResponseHeaders(404, -1);
                    return;
                }
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().add("Allow", "GET, HEAD");
                    exchange.sendResponseHeaders(405, -1);
                    return;
                }
                byte[] body = metrics.scrape().getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                if (method.equals("HEAD")) {
                    exchange.sendResponseHeaders(200, -1);
                    return;
                }
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
        });
    }

    void start() {
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    void stop() {
        server.stop(0);
    }
}
