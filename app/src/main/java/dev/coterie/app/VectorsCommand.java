package dev.coterie.app;

import dev.coterie.keystore.CryptoProviders;
import dev.coterie.vectors.VectorResult;
import dev.coterie.vectors.VectorRunner;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "vectors", subcommands = VectorsCommand.Generate.class, description = "Check every published test vector, then Coterie's own; exit status 0 only if none fails.")
final class VectorsCommand implements Callable<Integer> {

    /** Writes Coterie's own Group OSCORE vectors, recomputed from their fixed inputs. */
    @Command(name = "generate", description = "Write Coterie's own Group OSCORE vectors (what no one has published).")
    static final class Generate implements Callable<Integer> {
        @Option(names = "--out", defaultValue = "vectors/data/coterie-group-vectors.json", description = "(${DEFAULT-VALUE})")
        java.nio.file.Path out;

        @Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc")
        String provider;

        @Override
        public Integer call() throws Exception {
            var node = new dev.coterie.vectors.OwnGroupVectors(CryptoProviders.byName(provider)).generate();
            java.nio.file.Files.writeString(out, new com.fasterxml.jackson.databind.ObjectMapper()
                    .writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n");
            System.out.println("wrote " + node.get("vectors").size() + " vectors to " + out);
            return 0;
        }
    }
    @Option(names = "--provider", defaultValue = "default", description = "crypto provider: default or bc (${DEFAULT-VALUE})")
    String provider;

    @Override
    public Integer call() {
        List<VectorResult> results = new VectorRunner(CryptoProviders.byName(provider)).runAll();
        int failed = 0;
        // the published vectors first, then Coterie's own (what no one has published), each with its own count
        for (boolean own : new boolean[] {false, true}) {
            if (own) {
                System.out.println();
                System.out.println("Coterie's own vectors (" + dev.coterie.vectors.VectorRunner.OWN_FILE
                        + ", for what no one has published; not IETF vectors):");
            }
            int n = 0;
            int bad = 0;
            int skipped = 0;
            for (VectorResult r : results) {
                if (r.own() != own) {
                    continue;
                }
                System.out.println(r.line());
                n++;
                if (r.skipped()) {
                    skipped++;
                } else if (!r.passed()) {
                    bad++;
                }
            }
            System.out.println((n - bad - skipped) + " passed, " + bad + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : "")
                    + (own ? " (Coterie's own)" : " (published)"));
            failed += bad + skipped;
        }
        return failed == 0 ? 0 : 1;
    }
}
