package dev.coterie.fuzz;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The three rules every fuzz target checks, and what they share.
 *
 * <ol>
 * <li>Exceptions: a target catches only the documented rejection types of its parser; anything
 *     else reaches Jazzer, which reports it as a finding.
 * <li>Allocation: {@link #allocation} measures the bytes the calling thread allocated inside the
 *     parser (HotSpot's per-thread counter) and fails when they exceed a per-target constant plus
 *     a small factor times the input size. A length field that makes a parser allocate what it
 *     declares rather than what it got fails here; one that would allocate gigabytes fails
 *     earlier, as OutOfMemoryError under the module's modest -Xmx.
 * <li>State: the message targets snapshot replay windows and sender sequences before each input
 *     and compare them after every rejection.
 * </ol>
 */
final class FuzzRules {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    private FuzzRules() {
    }

    /** One parser call whose allocations are measured: it returns its outcome and throws only a finding. */
    @FunctionalInterface
    interface Call<T> {
        T run() throws Exception;
    }

    private static final java.lang.management.ClassLoadingMXBean CLASSES = ManagementFactory.getClassLoadingMXBean();

    /** Bytes the calling thread has allocated so far. */
    static long allocatedBytes() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Classes loaded so far: a call that loads one also allocates for loading and instrumenting it. */
    static long loadedClasses() {
        return CLASSES.getTotalLoadedClassCount();
    }

    /**
     * A measurement of one call's allocations. A call during which a class was loaded is not
     * judged: loading and Jazzer's instrumentation allocate on the calling thread, once per class,
     * so the next input on that path is measured instead.
     */
    static final class Measure {
        private final long bytes = allocatedBytes();
        private final long classes = loadedClasses();

        /** Whether the call allocated more than {@code bound} bytes by itself. */
        boolean over(long bound) {
            long used = used();
            return used > bound && loadedClasses() == classes;
        }

        long used() {
            return allocatedBytes() - bytes;
        }
    }

    /**
     * Runs {@code call} and fails if it allocated more than {@code base + perByte * inputLength}
     * bytes. A call over the bound is run once more and fails only if it is over again: the first
     * run of a code path also loads, instruments and initialises classes, which is not the
     * parser's doing. Only for calls that may run twice with the same outcome (a stateless parser,
     * or a rejection, which must leave the state as it was). A run that loaded a class is not
     * judged ({@link Measure}).
     */
    static <T> T bounded(long base, long perByte, int inputLength, String what, Call<T> call) throws Exception {
        long bound = base + perByte * inputLength;
        Measure m = new Measure();
        T result = call.run();
        if (m.used() > bound) {
            m = new Measure();
            call.run();
            if (m.over(bound)) {
                throw new AssertionError(what + " allocated " + m.used() + " bytes for " + inputLength
                        + " input bytes, more than the bound " + base + " + " + perByte + " x input = " + bound);
            }
        }
        return result;
    }

    /** Fails unless {@code length <= inputLength}: nothing decoded is longer than what came in. */
    static void notLongerThanInput(int length, int inputLength, String what) {
        if (length > inputLength) {
            throw new AssertionError(what + " is " + length + " bytes, longer than the " + inputLength + "-byte input");
        }
    }

    /** A target's body: it throws only a finding. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /**
     * Runs a target's body and puts the input, in hex, into the message of whatever it throws:
     * Jazzer writes a finding into the source tree of the run, which a CI run does not keep, and
     * the console shows only this message. The cause is what broke the rule.
     */
    static void reporting(byte[] input, Body body) throws Exception {
        try {
            body.run();
        } catch (Exception | Error finding) {
            throw new AssertionError("fuzz input " + dev.coterie.keystore.Hex.encode(input) + " (" + input.length + " bytes): "
                    + finding, finding);
        }
    }

    static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    /** A fresh owner-only (rwx------) directory under the system temp dir. */
    static Path tempDir(String prefix) throws IOException {
        return Files.createTempDirectory(prefix, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Writes {@code content} to a new owner-only (rw-------) file: the loaders refuse anything wider before parsing. */
    static Path ownerOnlyFile(Path dir, String name, byte[] content) throws IOException {
        Path f = dir.resolve(name);
        Files.createFile(f, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(f, content);
        return f;
    }

    /** Whether {@code candidate}, relative or absolute, names a place inside {@code dir}. */
    static boolean inside(Path dir, Path candidate) {
        Path p = dir.resolve(candidate).normalize();
        return p.startsWith(dir.normalize());
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot clean up the fuzz temp dir " + dir, e);
        }
    }
}
