package dev.coterie.keystore;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.zip.CRC32;

/**
 * A directory of security-state files, one per context, each written atomically (temporary
 * file, fsync, rename, fsync of the directory). The directory also keeps a register of every
 * context it has ever held: if a registered context's file is missing or corrupt the context
 * refuses to send instead of starting again at sequence number 0.
 *
 * <p>A context has one owner at a time: {@link #load} takes an exclusive OS lock on
 * {@code <id>.lock} (a file of its own, because the state file is replaced by rename) and an
 * entry in a registry of the contexts open in this process, both held until
 * {@link ContextState#close()}. A second owner, in this process or another one, is refused
 * with a {@link StateInUseException}: two owners would hand out the same sequence numbers.
 * The lock file stays in place after close: deleting it would let two owners lock two different
 * files of one name.
 *
 * <p>File format (text, one item a line): {@code coterie-state 2}, {@code sender-reserved N},
 * {@code clean 0|1}, {@code unlisted-recipients new|invalid}, then per recipient ever seen
 * either {@code window RECIPIENT_ID_HEX HIGHEST BITMAP_HEX} (a window that was valid at a clean
 * close) or {@code window-invalid RECIPIENT_ID_HEX} (any other), and a last line
 * {@code crc32 HEX} over everything before it. A recipient is listed before its window is first
 * used, so one the file does not list never had a window ({@code unlisted-recipients new}).
 * A version-1 file (no {@code window-invalid} lines and no recipient list) is read with
 * {@code unlisted-recipients invalid}: it may have dropped windows, so a recipient it does not
 * list must rebuild its window with the Echo procedure; that stays so once it is rewritten.
 */
public final class SecurityStateStore {
    private static final String REGISTER = "contexts.register";
    /** Contexts of state directories open in this process, as canonical directory + '/' + id. */
    private static final Set<String> OPEN_IN_THIS_PROCESS = new HashSet<>();
    private final Path dir;
    /** The directory with symbolic links resolved, so two spellings of one directory are one key. */
    private final Path canonicalDir;
    private final long blockSize;
    /** Contexts open from this in-memory store: in-memory stores are independent of each other. */
    private final Set<String> openInMemory = new HashSet<>();

    private SecurityStateStore(Path dir, Path canonicalDir, long blockSize) {
        this.dir = dir;
        this.canonicalDir = canonicalDir;
        this.blockSize = blockSize;
    }

    /** A store in {@code dir} (created owner-only if absent) reserving {@code blockSize} numbers at a time. */
    public static SecurityStateStore open(Path dir, long blockSize) throws StateUnavailableException {
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be positive");
        }
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                try {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                } catch (UnsupportedOperationException ignored) {
                    // non-POSIX file system: rely on its own access control
                }
            }
            return new SecurityStateStore(dir, dir.toRealPath(), blockSize);
        } catch (IOException e) {
            throw new StateUnavailableException("cannot create state directory " + dir, e);
        }
    }

    private long inMemoryStart;

    /** A store that keeps nothing on disk: for benchmarks and unit tests only. */
    public static SecurityStateStore inMemory() {
        return new SecurityStateStore(null, null, Long.MAX_VALUE / 4);
    }

    /** Set for a store of {@link #inMemoryStartingAt}: it loads one context, once. */
    private boolean singleUse;
    private boolean used;

    /**
     * TEST FIXTURE, never for real secrets: a store that keeps nothing on disk and whose one
     * context starts at sequence number {@code start}, for reproducing published test vectors
     * (which fix the Sender Sequence Number) and for tests near the limits. Every in-memory store
     * forgets what it handed out, so two contexts over one secret would repeat nonces; this one
     * therefore loads a single context once and refuses every later load, even after close, so a
     * store cannot be shared or reused to seal twice at one number.
     */
    public static SecurityStateStore inMemoryStartingAt(long start) {
        SecurityStateStore s = inMemory();
        s.inMemoryStart = start;
        s.singleUse = true;
        return s;
    }

    public boolean isPersistent() {
        return dir != null;
    }

    public Path directory() {
        return dir;
    }

    /**
     * Loads the state of context {@code id} (a non-secret name, such as a hash of the context's
     * identifiers), or creates it if the directory has never held this context. The caller owns
     * the context until {@link ContextState#close()}.
     *
     * @throws StateInUseException if the context is open already, in this process or in another
     * @throws StateUnavailableException if the state is missing, corrupt or cannot be written
     */
    public synchronized ContextState load(String id) throws StateUnavailableException {
        if (!id.matches("[A-Za-z0-9._-]{1,128}")) {
            throw new IllegalArgumentException("state id must be a plain file name: " + id);
        }
        StateLease lease = acquire(id);
        boolean loaded = false;
        try {
            ContextState s = loadOwned(id, lease);
            loaded = true;
            return s;
        } finally {
            if (!loaded) {
                lease.release(); // a failed load must not keep the context locked
            }
        }
    }

    /** Lock file of context {@code id}, as it is named in messages. */
    private Path lockFile(String id) {
        return dir.toAbsolutePath().normalize().resolve(id + ".lock");
    }

    private StateLease acquire(String id) throws StateUnavailableException {
        if (dir == null) {
            synchronized (openInMemory) {
                if (singleUse && used) {
                    throw new StateInUseException("this test-vector store (inMemoryStartingAt) has loaded its one context"
                            + " already; a second load would hand out the same sequence numbers again", null);
                }
                used = true;
                if (!openInMemory.add(id)) {
                    throw new StateInUseException("in-memory state " + id + " is in use: this store has the context"
                            + " open already; two owners would reuse sequence numbers", null);
                }
            }
            return new StateLease(openInMemory, id, null, null);
        }
        Path lockFile = lockFile(id);
        String key = canonicalDir.resolve(id).toString();
        // checked before the lock file is opened: closing a second channel on it would drop our own lock
        synchronized (OPEN_IN_THIS_PROCESS) {
            if (!OPEN_IN_THIS_PROCESS.add(key)) {
                throw new StateInUseException("state " + id + " in " + lockFile.getParent() + " is in use: lock " + lockFile
                        + " is held by this process (the context is open already); two owners would reuse sequence numbers",
                        lockFile);
            }
        }
        FileChannel ch = null;
        boolean handedOver = false;
        try {
            ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            String holder;
            try {
                lock = ch.tryLock();
                holder = "another process" + ownerOf(ch);
            } catch (OverlappingFileLockException e) {
                lock = null;
                holder = "this process (a channel outside the store)";
            }
            if (lock == null) {
                throw new StateInUseException("state " + id + " in " + lockFile.getParent() + " is in use: lock " + lockFile
                        + " is held by " + holder + "; two owners would reuse sequence numbers."
                        + " Stop the other owner first.", lockFile);
            }
            recordOwner(ch);
            StateLease lease = new StateLease(OPEN_IN_THIS_PROCESS, key, ch, lock);
            handedOver = true;
            return lease;
        } catch (IOException e) {
            throw new StateUnavailableException("cannot lock " + lockFile, e);
        } finally {
            // on every refusal, also when the lock file could not even be opened: no entry stays behind
            if (!handedOver) {
                if (ch != null) {
                    try {
                        ch.close();
                    } catch (IOException ignored) {
                        // refusing anyway
                    }
                }
                synchronized (OPEN_IN_THIS_PROCESS) {
                    OPEN_IN_THIS_PROCESS.remove(key);
                }
            }
        }
    }

    /** Writes our process id into the lock file, for the message that refuses a second owner. */
    private static void recordOwner(FileChannel ch) throws IOException {
        ch.truncate(0);
        ByteBuffer b = ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII));
        while (b.hasRemaining()) {
            ch.write(b, b.position());
        }
    }

    /** " (pid N)" as the holder wrote it, or nothing if it cannot be read. */
    private static String ownerOf(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            ch.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return s.matches("pid \\d{1,19}") ? " (" + s + ")" : "";
        } catch (IOException e) {
            return "";
        }
    }

    private ContextState loadOwned(String id, StateLease lease) throws StateUnavailableException {
        if (dir == null) {
            return new ContextState(this, id, lease, inMemoryStart, blockSize, Map.of(), Set.of(), true, true);
        }
        Path file = dir.resolve(id + ".state");
        boolean registered = register().contains(id);
        if (!Files.exists(file)) {
            if (registered) {
                throw new StateUnavailableException("state file " + file + " of a known context is missing;"
                        + " refusing to send (sequence numbers could repeat). Restore the file or provision a new context.");
            }
            // brand new: no recipient ever had a window, so each may start valid and empty
            ContextState fresh = new ContextState(this, id, lease, 0, blockSize, Map.of(), Set.of(), true, true);
            fresh.markUnclean();
            addToRegister(id);
            return fresh;
        }
        Parsed p = parse(file);
        ContextState s = new ContextState(this, id, lease, p.reserved, blockSize, p.windows, p.invalid, p.clean,
                p.unlistedNew);
        // from now on the windows in memory are ahead of the file: mark it unclean
        s.markUnclean();
        if (!registered) {
            addToRegister(id);
        }
        return s;
    }

    /**
     * The reservation bound in the state file of {@code id} as it is now, or -1 for an in-memory
     * store: a new reservation starts at least there, so that even a writer that bypassed the
     * lock cannot make this one hand out a number again.
     */
    long reservedOnDisk(String id) throws StateUnavailableException {
        if (dir == null) {
            return -1;
        }
        Path file = dir.resolve(id + ".state");
        if (!Files.exists(file)) {
            throw new StateUnavailableException("state file " + file + " of an open context is missing;"
                    + " refusing to send (sequence numbers could repeat). Restore the file or provision a new context.");
        }
        return parse(file).reserved;
    }

    /**
     * Writes the state file of {@code id}: the reservation bound, whether the windows may be
     * trusted, and every recipient ever seen, as a valid window ({@code valid}, only meaningful
     * when clean) or as invalid ({@code invalid}).
     */
    void write(String id, long reserved, boolean clean, boolean unlistedNew, Map<String, long[]> valid,
               Collection<String> invalid) throws StateUnavailableException {
        if (dir == null) {
            return;
        }
        StringBuilder sb = new StringBuilder();
        sb.append("coterie-state 2\n");
        sb.append("sender-reserved ").append(reserved).append('\n');
        sb.append("clean ").append(clean ? 1 : 0).append('\n');
        sb.append("unlisted-recipients ").append(unlistedNew ? "new" : "invalid").append('\n');
        for (Map.Entry<String, long[]> e : new TreeMap<>(valid).entrySet()) {
            sb.append("window ").append(e.getKey().isEmpty() ? "-" : e.getKey()).append(' ')
                    .append(e.getValue()[0]).append(' ').append(Long.toHexString(e.getValue()[1])).append('\n');
        }
        for (String k : new TreeSet<>(invalid)) {
            if (!valid.containsKey(k)) {
                sb.append("window-invalid ").append(k.isEmpty() ? "-" : k).append('\n');
            }
        }
        CRC32 crc = new CRC32();
        byte[] body = sb.toString().getBytes(StandardCharsets.US_ASCII);
        crc.update(body);
        sb.append("crc32 ").append(Long.toHexString(crc.getValue())).append('\n');
        writeAtomically(dir.resolve(id + ".state"), sb.toString().getBytes(StandardCharsets.US_ASCII));
    }

    private void writeAtomically(Path target, byte[] content) throws StateUnavailableException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer buf = ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new StateUnavailableException("file system cannot rename atomically: " + dir, e);
            }
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException ignored) {
                // some file systems cannot fsync a directory; the rename itself is atomic
            }
        } catch (IOException e) {
            throw new StateUnavailableException("cannot persist security state to " + target, e);
        }
    }

    private static final class Parsed {
        long reserved = -1;
        boolean clean;
        /** Whether a recipient the file does not list never had a window (version 2 files only). */
        boolean unlistedNew;
        Map<String, long[]> windows = new HashMap<>();
        Set<String> invalid = new HashSet<>();
    }

    private Parsed parse(Path file) throws StateUnavailableException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new StateUnavailableException("cannot read state file " + file, e);
        }
        try {
            int version = lines.isEmpty() ? 0 : lines.get(0).equals("coterie-state 1") ? 1
                    : lines.get(0).equals("coterie-state 2") ? 2 : 0;
            if (lines.size() < 4 || version == 0) {
                throw new IllegalArgumentException("bad header");
            }
            String last = lines.get(lines.size() - 1);
            if (!last.startsWith("crc32 ")) {
                throw new IllegalArgumentException("no checksum");
            }
            CRC32 crc = new CRC32();
            for (int i = 0; i < lines.size() - 1; i++) {
                crc.update((lines.get(i) + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            if (crc.getValue() != Long.parseLong(last.substring(6), 16)) {
                throw new IllegalArgumentException("checksum mismatch");
            }
            Parsed p = new Parsed();
            String unlisted = null;
            for (int i = 1; i < lines.size() - 1; i++) {
                String[] f = lines.get(i).split(" ");
                switch (f[0]) {
                    case "sender-reserved": p.reserved = Long.parseLong(f[1]); break;
                    case "clean": p.clean = f[1].equals("1"); break;
                    case "window":
                        p.windows.put(f[1].equals("-") ? "" : f[1],
                                new long[] {Long.parseLong(f[2]), Long.parseUnsignedLong(f[3], 16)});
                        break;
                    case "window-invalid":
                        if (version < 2 || f.length != 2) {
                            throw new IllegalArgumentException("unknown line");
                        }
                        p.invalid.add(f[1].equals("-") ? "" : f[1]);
                        break;
                    case "unlisted-recipients":
                        if (version < 2 || f.length != 2 || !(f[1].equals("new") || f[1].equals("invalid"))) {
                            throw new IllegalArgumentException("unknown line");
                        }
                        unlisted = f[1];
                        break;
                    default: throw new IllegalArgumentException("unknown line");
                }
            }
            if (p.reserved < 0) {
                throw new IllegalArgumentException("no reservation");
            }
            if (version == 2 && unlisted == null) {
                throw new IllegalArgumentException("no recipient list");
            }
            // a version-1 file may have dropped windows at a clean close: an unlisted recipient is not new
            p.unlistedNew = "new".equals(unlisted);
            return p;
        } catch (RuntimeException e) {
            throw new StateUnavailableException("state file " + file + " is corrupt (" + e.getMessage()
                    + "); refusing to send. Restore it or provision a new context.");
        }
    }

    private List<String> register() throws StateUnavailableException {
        Path r = dir.resolve(REGISTER);
        try {
            return Files.readAllLines(r, StandardCharsets.US_ASCII);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new StateUnavailableException("cannot read " + r, e);
        }
    }

    private void addToRegister(String id) throws StateUnavailableException {
        StringBuilder sb = new StringBuilder();
        for (String s : register()) {
            sb.append(s).append('\n');
        }
        sb.append(id).append('\n');
        writeAtomically(dir.resolve(REGISTER), sb.toString().getBytes(StandardCharsets.US_ASCII));
    }
}
