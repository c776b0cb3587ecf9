package dev.coterie.keystore;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * The one place that decides who besides its owner may touch a file holding key material:
 * private-key files, group member bundles and Group Manager state must be owner-only; OSCORE
 * context files, which the project also ships as public examples, must at least not be writable
 * by others. On a file system without POSIX permissions the checks pass (it has its own access
 * control).
 */
public final class OwnerOnlyFiles {
    private static final String OWNER_ONLY = "rw-------";

    private OwnerOnlyFiles() {
    }

    /**
     * Refuses {@code file} if group or others have any permission on it.
     *
     * @param what what the file is, for the message ("private key file", "group member bundle")
     * @throws IOException naming the file, its permissions and the fix
     */
    public static void requireOwnerOnly(Path file, String what) throws IOException {
        Set<PosixFilePermission> perms = permissions(file);
        if (perms == null) {
            return;
        }
        for (PosixFilePermission p : perms) {
            if (p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")) {
                throw new IOException(what + " " + file + " is accessible to others (" + PosixFilePermissions.toString(perms)
                        + "); run chmod 600 on it");
            }
        }
    }

    /**
     * Refuses {@code file} if anyone but its owner may write it: whoever can write it can swap
     * the keys in it. A group named like the owner (a user private group, which a umask of 002
     * yields on a fresh clone) counts as the owner.
     *
     * @return whether anyone but the owner may read it
     */
    public static boolean requireWritableOnlyByOwner(Path file, String what) throws IOException {
        exists(file);
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class);
        } catch (UnsupportedOperationException nonPosix) {
            return false;
        }
        Set<PosixFilePermission> perms = a.permissions();
        boolean privateGroup = a.group() != null && a.owner() != null && a.group().getName().equals(a.owner().getName());
        if (perms.contains(PosixFilePermission.OTHERS_WRITE)
                || (!privateGroup && perms.contains(PosixFilePermission.GROUP_WRITE))) {
            throw new IOException(what + " " + file + " is writable by others (" + PosixFilePermissions.toString(perms)
                    + "); run chmod go-w on it (chmod 600 if its keys are real)");
        }
        return perms.contains(PosixFilePermission.OTHERS_READ) || (!privateGroup && perms.contains(PosixFilePermission.GROUP_READ));
    }

    /**
     * Writes {@code content} to {@code file} owner-only ({@code rw-------}), replacing it
     * atomically: a reader sees the old file or the new one, and the secret is never in a file
     * with wider permissions, even for a moment.
     */
    public static void write(Path file, byte[] content) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp;
        try {
            FileAttribute<Set<PosixFilePermission>> ownerOnly =
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(OWNER_ONLY));
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp", ownerOnly);
        } catch (UnsupportedOperationException nonPosix) {
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        }
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(content);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void exists(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
    }

    private static Set<PosixFilePermission> permissions(Path file) throws IOException {
        exists(file);
        try {
            return Files.getPosixFilePermissions(file);
        } catch (UnsupportedOperationException nonPosix) {
            return null;
        }
    }
}
