package dev.coterie.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import dev.coterie.keystore.JsonFile;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** What the file targets share: the sandbox every input is confined to, and the open-files rule. */
final class FileRules {
    private static final com.sun.management.UnixOperatingSystemMXBean OS =
            (com.sun.management.UnixOperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    private FileRules() {
    }

    static long openFiles() {
        return OS.getOpenFileDescriptorCount();
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
     * allocates at most {@code base + perByte * input}; and it leaves no file open.
     */
    @FunctionalInterface
    interface Closer<T> {
        void close(T loaded) throws Exception;
    }

    static <T> T load(String what, int inputLength, long base, long perByte, FuzzRules.Call<T> call, Closer<T> close)
            throws Exception {
        long files = openFiles();
        long classes = FuzzRules.loadedClasses();
        FuzzRules.Measure m = new FuzzRules.Measure();
        T loaded = call.run();
        long bound = base + perByte * inputLength;
        if (m.over(bound)) {
            throw new AssertionError(what + " allocated " + m.used() + " bytes for " + inputLength + " input bytes, more than "
                    + base + " + " + perByte + " x input = " + bound);
        }
        if (loaded != null) {
            close.close(loaded);
        }
        long after = openFiles();
        if (after > files && FuzzRules.loadedClasses() == classes) {
            throw new AssertionError((loaded != null ? "a loaded and closed " : "a rejected ") + what + " left "
                    + (after - files) + " file(s) open");
        }
        return loaded;
    }
}
