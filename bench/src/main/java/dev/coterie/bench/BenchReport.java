package dev.coterie.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs every benchmark with its reference in one invocation and prints medians (over the
 * measurement iterations) side by side with their ratio. Usage: {@code bench/run.sh [quick]}.
 */
public final class BenchReport {
    private BenchReport() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        String only = args.length > 1 ? args[1] : null;
        OptionsBuilder ob = new OptionsBuilder();
        if (only != null) {
            ob.include(only);
        } else {
            ob.include(OscoreExchangeBenchmark.class.getSimpleName())
                    .include(CryptoProviderBenchmark.class.getSimpleName())
                    .include(GroupOscoreBenchmark.class.getSimpleName());
        }
        Options opt = ob
                .forks(1)
                .warmupIterations(quick ? 2 : 4).warmupTime(TimeValue.seconds(quick ? 1 : 2))
                .measurementIterations(quick ? 3 : 7).measurementTime(TimeValue.seconds(quick ? 1 : 3))
                .jvmArgsAppend("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC")
                .build();
        Collection<RunResult> results = new ArrayList<>(new Runner(opt).run());
        if (only == null) {
            // two endpoints, their threads and the JIT need 20-30 s here before the rate settles;
            // plain and OSCORE get the same long warm-up, in the same run
            Options loopback = new OptionsBuilder().include(LoopbackThroughputBenchmark.class.getSimpleName())
                    .forks(1)
                    .warmupIterations(quick ? 2 : 6).warmupTime(TimeValue.seconds(quick ? 1 : 6))
                    .measurementIterations(quick ? 3 : 7).measurementTime(TimeValue.seconds(quick ? 1 : 4))
                    .jvmArgsAppend("-Xms1g", "-Xmx1g", "-XX:+UseParallelGC")
                    .build();
            results.addAll(new Runner(loopback).run());
        }
        Map<String, Double> median = new HashMap<>();
        for (RunResult r : results) {
            String name = r.getParams().getBenchmark().replaceFirst(".*\\.(\\w+\\.\\w+)$", "$1");
            for (String p : r.getParams().getParamsKeys()) {
                name += "[" + r.getParams().getParam(p) + "]";
            }
            List<Double> scores = new ArrayList<>();
            for (IterationResult it : r.getBenchmarkResults().iterator().next().getIterationResults()) {
                scores.add(it.getPrimaryResult().getScore());
            }
            scores.sort(Double::compare);
            median.put(name, scores.get(scores.size() / 2));
        }
        System.out.println();
        System.out.println("Coterie benchmarks: medians of the measurement iterations (ops/s), one JMH run");
        System.out.println(String.format(Locale.ROOT, "%-55s %14s %14s %8s", "measure", "coterie", "reference", "ratio"));
        row(median, "OSCORE exchange in memory vs cf-oscore 3.13.0", "OscoreExchangeBenchmark.coterie",
                "OscoreExchangeBenchmark.cfOscore");
        row(median, "OSCORE exchange in memory vs plain CoAP (same model)", "OscoreExchangeBenchmark.coterie",
                "OscoreExchangeBenchmark.plainCoap");
        row(median, "loopback requests/s, 64 outstanding: OSCORE vs plain", "LoopbackThroughputBenchmark.requests[oscore]",
                "LoopbackThroughputBenchmark.requests[plain]");
        row(median, "AES-CCM-16-64-128 seal+open 64 B: default vs bc", "CryptoProviderBenchmark.ccm64[default]",
                "CryptoProviderBenchmark.ccm64[bc]");
        row(median, "AES-CCM-16-64-128 seal+open 1024 B: default vs bc", "CryptoProviderBenchmark.ccm1024[default]",
                "CryptoProviderBenchmark.ccm1024[bc]");
        row(median, "HKDF-SHA-256: default vs bc", "CryptoProviderBenchmark.hkdf[default]",
                "CryptoProviderBenchmark.hkdf[bc]");
        row(median, "group-mode request vs raw Ed25519 sign+verify", "GroupOscoreBenchmark.groupModeRequest[EdDSA]",
                "GroupOscoreBenchmark.rawSignAndVerify[EdDSA]");
        row(median, "group-mode request vs raw ES256 sign+verify", "GroupOscoreBenchmark.groupModeRequest[ES256]",
                "GroupOscoreBenchmark.rawSignAndVerify[ES256]");
        row(median, "deterministic request + group-mode response vs raw Ed25519", "GroupOscoreBenchmark.deterministicExchange[EdDSA]",
                "GroupOscoreBenchmark.rawSignAndVerify[EdDSA]");
        row(median, "deterministic request + group-mode response vs raw ES256", "GroupOscoreBenchmark.deterministicExchange[ES256]",
                "GroupOscoreBenchmark.rawSignAndVerify[ES256]");
        row(median, "pairwise exchange (X25519 keys) vs OSCORE exchange", "GroupOscoreBenchmark.pairwiseExchange[EdDSA]",
                "GroupOscoreBenchmark.oscoreExchange[EdDSA]");
        row(median, "pairwise exchange (P-256 keys) vs OSCORE exchange", "GroupOscoreBenchmark.pairwiseExchange[ES256]",
                "GroupOscoreBenchmark.oscoreExchange[ES256]");
        System.out.println(String.format(Locale.ROOT, "%-55s %14d bytes (median of 5 rounds, 500 members)",
                "heap per Recipient Context with cached pairwise keys", RecipientContextMemory.bytesPerRecipient(500)));
    }

    private static void row(Map<String, Double> m, String label, String ours, String reference) {
        Double a = m.get(ours);
        Double b = m.get(reference);
        if (a == null || b == null) {
            System.out.println(label + ": not measured");
            return;
        }
        System.out.println(String.format(Locale.ROOT, "%-55s %14.0f %14.0f %7.2fx", label, a, b, a / b));
    }
}
