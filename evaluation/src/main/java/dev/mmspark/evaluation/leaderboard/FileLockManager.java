package dev.mmspark.evaluation.leaderboard;

import org.apache.iceberg.LockManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Cross-process commit lock for Iceberg's Hadoop catalog on a local file system.
 *
 * <p>The Hadoop catalog commits a table version by checking that {@code vN.metadata.json} does not exist
 * and renaming a temporary file onto it, inside {@link LockManager#acquire}/{@link LockManager#release}.
 * Iceberg's default lock manager only serialises threads of one JVM, and a local-file-system rename
 * silently replaces an existing file, so two sweep processes committing the same version could lose one
 * commit. This manager takes an OS-level file lock ({@code fcntl}, via {@link FileChannel#lock}) on one
 * lock file per table directory, plus a JVM-local lock (Java file locks are per process). On HDFS the
 * rename itself refuses to replace, so this lock is harmless there; for non-local URIs it only takes the
 * JVM-local lock.
 */
public final class FileLockManager implements LockManager {
    private static final Logger LOG = LoggerFactory.getLogger(FileLockManager.class);
    private static final Map<String, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();
    private static final Map<String, Held> HELD = new ConcurrentHashMap<>();

    private record Held(ReentrantLock jvmLock, FileChannel channel, FileLock fileLock, String owner) {
    }

    private long timeoutMillis = 120_000;

    @Override
    public void initialize(Map<String, String> properties) {
        String t = properties.get("lock.acquire-timeout-ms");
        if (t != null) {
            timeoutMillis = Long.parseLong(t);
        }
    }

    /** The lock file of the table that {@code entityId} (a metadata file path) belongs to. */
    static Path lockFile(String entityId) {
        String p = entityId;
        if (p.startsWith("file:")) {
            p = URI.create(p).getPath();
        }
        Path file = Path.of(p);
        Path metadataDir = file.getParent();
        return metadataDir.resolve(".mmspark-commit.lock");
    }

    private static boolean isLocal(String entityId) {
        return entityId.startsWith("file:") || entityId.startsWith("/");
    }

    @Override
    public boolean acquire(String entityId, String ownerId) {
        String key = isLocal(entityId) ? lockFile(entityId).toString() : entityId;
        ReentrantLock jvm = JVM_LOCKS.computeIfAbsent(key, k -> new ReentrantLock(true));
        try {
            if (!jvm.tryLock(timeoutMillis, TimeUnit.MILLISECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        if (!isLocal(entityId)) {
            HELD.put(entityId, new Held(jvm, null, null, ownerId));
            return true;
        }
        try {
            Path lf = lockFile(entityId);
            Files.createDirectories(lf.getParent());
            FileChannel ch = FileChannel.open(lf, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            long deadline = System.currentTimeMillis() + timeoutMillis;
            FileLock fl = null;
            while (fl == null) {
                try {
                    fl = ch.tryLock();
                } catch (OverlappingFileLockException e) {
                    fl = null;
                }
                if (fl == null) {
                    if (System.currentTimeMillis() > deadline) {
                        ch.close();
                        jvm.unlock();
                        return false;
                    }
                    Thread.sleep(20);
                }
            }
            HELD.put(entityId, new Held(jvm, ch, fl, ownerId));
            return true;
        } catch (IOException | InterruptedException e) {
            LOG.warn("Could not take the commit lock for {}: {}", entityId, e.toString());
            jvm.unlock();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return false;
        }
    }

    @Override
    public boolean release(String entityId, String ownerId) {
        Held h = HELD.remove(entityId);
        if (h == null) {
            return false;
        }
        try {
            if (h.fileLock() != null) {
                h.fileLock().release();
                h.channel().close();
            }
        } catch (IOException e) {
            LOG.warn("Could not release the commit lock for {}: {}", entityId, e.toString());
        } finally {
            h.jvmLock().unlock();
        }
        return true;
    }

    @Override
    public void close() {
        // locks are released by release(); nothing is pooled per instance
    }
}
