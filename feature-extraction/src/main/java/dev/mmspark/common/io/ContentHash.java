package dev.mmspark.common.io;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import scala.Tuple2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Content hashes of inputs and outputs (SHA-256 over the sorted relative paths and the bytes of every
 * file), recorded in metadata so that a result can be traced to exactly the data it was computed from.
 * Bookkeeping files ({@code _SUCCESS}, {@code *.crc}, hidden files) are skipped so that the same data
 * hashes the same wherever it was written. Large trees are hashed on the executors.
 */
public final class ContentHash {
    /** Above this many files the per-file hashes are computed by a Spark job. */
    static final int DISTRIBUTED_THRESHOLD = 256;

    private ContentHash() {
    }

    public static String of(Configuration conf, String path) {
        return of(conf, path, null);
    }

    /** Hashes a file or directory tree; {@code sc} may be null (then everything is hashed here). */
    public static String of(Configuration conf, String path, JavaSparkContext sc) {
        try {
            Path root = new Path(path);
            FileSystem fs = root.getFileSystem(conf);
            root = fs.makeQualified(root);
            FileStatus rootStatus = fs.getFileStatus(root);
            if (rootStatus.isFile()) {
                return fileHash(fs, root);
            }
            List<String> rel = new ArrayList<>();
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
            String prefix = root.toUri().getPath();
            while (it.hasNext()) {
                LocatedFileStatus s = it.next();
                String rp = s.getPath().toUri().getPath().substring(prefix.length());
                if (rp.startsWith("/")) {
                    rp = rp.substring(1);
                }
                if (!skipped(rp)) {
                    rel.add(rp);
                }
            }
            rel.sort(String::compareTo);
            List<String> hashes;
            if (sc != null && rel.size() > DISTRIBUTED_THRESHOLD) {
                Broadcast<SerializableConfiguration> bc = sc.broadcast(new SerializableConfiguration(conf));
                String rootUri = root.toString();
                hashes = sc.parallelize(rel, Math.max(1, Math.min(rel.size() / 64, 200)))
                        .map(r -> {
                            Path p = new Path(rootUri + "/" + r);
                            return new Tuple2<>(r, fileHash(p.getFileSystem(bc.value().value()), p));
                        })
                        .collect().stream()
                        .sorted((a, b) -> a._1().compareTo(b._1()))
                        .map(Tuple2::_2).toList();
            } else {
                hashes = new ArrayList<>();
                for (String r : rel) {
                    hashes.add(fileHash(fs, new Path(root, r)));
                }
            }
            MessageDigest md = sha256();
            for (int i = 0; i < rel.size(); i++) {
                md.update(rel.get(i).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(hashes.get(i).getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hash " + path, e);
        }
    }

    private static boolean skipped(String relativePath) {
        for (String part : relativePath.split("/")) {
            if (part.startsWith(".") || part.equals("_SUCCESS") || part.endsWith(".crc")) {
                return true;
            }
        }
        return false;
    }

    static String fileHash(FileSystem fs, Path p) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 16];
        try (FSDataInputStream in = fs.open(p)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static String ofString(String s) {
        return HexFormat.of().formatHex(sha256().digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
