package dev.coterie.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coterie.keystore.JsonFile;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** What the file targets share: the sandbox every input is confined to, and the open-files rule. */
final class FileRules {
    private FileRules() {
    }

    /**
     * The files under {@code dir} this process has open (/proc/self/fd). Only these count: the JDK
     * opens some files of its own lazily and keeps them (a random source, a jar), which a plain
     * count of open files would blame on the input that happened to come first.
     */
    static List<String> openFilesUnder(Path dir) throws IOException {
        List<String> open = new ArrayList<>();
        String prefix = dir.toAbsolutePath().normalize().toString();
        try (DirectoryStream<Path> fds = java.nio.file.Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = java.nio.file.Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(prefix)) {
                        open.add(target.substring(prefix.length()));
                    }
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own descriptor, or one closed while listing
                }
            }
        }
        return open;
    }

    /**
     * Whether the path a loader would take from text field {@code field} of {@code input} (or
     * {@code dflt} when it has none) stays inside {@code dir}. The loaders accept absolute paths and
     * paths with {@code ..} in a configuration file (its author chooses them), and create state
     * directories there: an input that would leave the sandbox is skipped, not loaded. What the
     * JSON reader refuses is loaded (it is refused before any path is used), and so is a path
     * that is no path at all, which the loader must refuse itself.
     */
    static boolean staysInside(Path dir, Path base, byte[] input, String field, String dflt) {
        JsonNode node;
        try {
            node = JsonFile.parse(base.resolve("probe.json"), input, "probe").node();
        } catch (IOException refused) {
            return true;
        }
        JsonNode v = node.get(field);
        String path = v != null && v.isTextual() ? v.asText() : dflt;
        if (path == null) {
            return true;
        }
        try {
            return FuzzRules.inside(dir, base.resolve(Path.of(path)));
        } catch (InvalidPathException notAPath) {
            return true;
        }
    }

    /** A text field of {@code input} if it parses and the field is text, else {@code dflt}. */
    static String text(Path base, byte[] input, String field, String dflt) {
        try {
            JsonNode v = JsonFile.parse(base.resolve("probe.json"), input, "probe").node().get(field);
            return v != null && v.isTextual() ? v.asText() : dflt;
        } catch (IOException refused) {
            return dflt;
        }
    }

    /**
     * Runs one loader call under the file rules: it loads (and {@code close} is called on what it
     * loaded) or throws one of the documented exceptions, which the caller's call catches; it
     * allocates at most {@code base + perByte * input} (judged on a second run if the first is over,
     * see {@link FuzzRules#bounded}, with the allocations of closing included); and it leaves no file under {@code sandbox} open.
     */
    @FunctionalInterface
    interface Closer<T> {
        void close(T loaded) throws Exception;
    }

    static <T> T load(String what, Path sandbox, int inputLength, long base, long perByte, FuzzRules.Call<T> call,
                      Closer<T> close) throws Exception {
        FuzzRules.Measure m = new FuzzRules.Measure();
        T loaded = call.run();
        long bound = base + perByte * inputLength;
        if (loaded != null) {
            close.close(loaded);
        }
        if (m.used() > bound) {
            // once more, as FuzzRules.bounded does: a first run may initialise what the JDK or Jazzer's hooks keep
            m = new FuzzRules.Measure();
            T again = call.run();
            if (again != null) {
                close.close(again);
            }
            if (m.over(bound)) {
                throw new AssertionError(what + " allocated " + m.used() + " bytes for " + inputLength + " input bytes, more than "
                        + base + " + " + perByte + " x input = " + bound);
            }
        }
        List<String> open = openFilesUnder(sandbox);
        if (!open.isEmpty()) {
            throw new AssertionError((loaded != null ? "a loaded and closed " : "a rejected ") + what + " left open: " + open);
        }
        return loaded;
    }
}
