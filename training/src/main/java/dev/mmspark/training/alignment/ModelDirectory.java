package dev.mmspark.training.alignment;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.InputException;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An entity-alignment model directory:
 * <pre>
 *   metadata.json          written last: its presence marks a complete model (resolved config, spec, data,
 *                          split, per-epoch statistics, provenance)
 *   params.bin             the trained parameters ({@link ParamSet} binary)
 *   embeddings/            Parquet (index, graph, entity, embedding): the joint embedding of every entity
 *   checkpoints/epoch-N/   state.bin (parameters, Adam moments, step) and progress.json, one per epoch, each
 *                          written to a hidden sibling and renamed (AtomicOutput), the last {@code keep} kept
 * </pre>
 * A run that dies leaves complete checkpoints only; {@code --resume} continues after the last one.
 */
public final class ModelDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(ModelDirectory.class);
    public static final String METADATA = "metadata.json";
    public static final String PARAMS = "params.bin";
    public static final String EMBEDDINGS = "embeddings";
    public static final String CHECKPOINTS = "checkpoints";
    static final String STATE = "state.bin";
    static final String PROGRESS = "progress.json";

    private final Configuration conf;
    private final FileSystem fs;
    private final Path root;

    private ModelDirectory(Configuration conf, FileSystem fs, Path root) {
        this.conf = conf;
        this.fs = fs;
        this.root = root;
    }

    /** A directory for reading (evaluation). */
    public static ModelDirectory open(Configuration conf, String path) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            ModelDirectory d = new ModelDirectory(conf, fs, fs.makeQualified(p));
            if (!fs.exists(d.root)) {
                throw new InputException("model directory " + path + " does not exist (run train-alignment first)");
            }
            if (!d.complete()) {
                throw new InputException("model directory " + path + " has no " + METADATA + ": its training did not"
                        + " finish (continue it with train-alignment --resume)");
            }
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + path, e);
        }
    }

    /**
     * The directory a training run writes. An existing complete model is replaced only with {@code overwrite};
     * an existing unfinished run is continued with {@code resume} or replaced with {@code overwrite}.
     */
    public static ModelDirectory prepare(Configuration conf, String path, boolean overwrite, boolean resume) {
        try {
            Path p = new Path(path);
            FileSystem fs = p.getFileSystem(conf);
            ModelDirectory d = new ModelDirectory(conf, fs, fs.makeQualified(p));
            if (fs.exists(d.root)) {
                if (resume && !d.complete()) {
                    return d;
                }
                if (!overwrite) {
                    throw new MmsparkException(ExitCode.OUTPUT_EXISTS, "output path " + path + (d.complete()
                            ? " already holds a trained model; choose another path or pass --overwrite to replace it"
                            : " holds an unfinished training run; pass --resume to continue it or --overwrite to"
                            + " start over"));
                }
                LOG.warn("Replacing {} (--overwrite)", d.root);
                fs.delete(d.root, true);
            } else if (resume) {
                LOG.info("--resume: {} does not exist yet, starting from scratch", path);
            }
            fs.mkdirs(d.root);
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + path, e);
        }
    }

    public String path() {
        return root.toString();
    }

    public boolean complete() throws IOException {
        return fs.exists(new Path(root, METADATA));
    }

    public String embeddingsPath() {
        return new Path(root, EMBEDDINGS).toString();
    }

    /** A checkpoint: the optimiser state after {@code progress.epochs()} and the run's bookkeeping. */
    public record Checkpoint(int epoch, AdamW.State state, TrainingProgress progress) {
    }

    /** The last complete checkpoint, or null. */
    public Checkpoint latest() {
        try {
            Path dir = new Path(root, CHECKPOINTS);
            if (!fs.exists(dir)) {
                return null;
            }
            List<Path> done = checkpoints();
            if (done.isEmpty()) {
                return null;
            }
            Path last = done.get(done.size() - 1);
            AdamW.State state;
            try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(fs.open(new Path(last, STATE))))) {
                ParamSet params = ParamSet.read(in);
                ParamSet m = ParamSet.read(in);
                ParamSet v = ParamSet.read(in);
                state = new AdamW.State(params, m, v, in.readLong());
            }
            TrainingProgress progress = Json.MAPPER.readValue(readString(new Path(last, PROGRESS)),
                    TrainingProgress.class);
            return new Checkpoint(progress.epochs(), state, progress);
        } catch (IOException e) {
            throw new InputException("cannot read the last checkpoint of " + root + ": " + e.getMessage(), e);
        }
    }

    /** Complete checkpoint directories, oldest first (the names sort by epoch). */
    private List<Path> checkpoints() throws IOException {
        Path dir = new Path(root, CHECKPOINTS);
        List<Path> out = new ArrayList<>();
        if (!fs.exists(dir)) {
            return out;
        }
        FileStatus[] all = fs.listStatus(dir, p -> p.getName().startsWith("epoch-"));
        Arrays.sort(all, (a, b) -> a.getPath().getName().compareTo(b.getPath().getName()));
        for (FileStatus s : all) {
            if (s.isDirectory() && fs.exists(new Path(s.getPath(), PROGRESS))) {
                out.add(s.getPath());
            }
        }
        return out;
    }

    /** Writes the checkpoint of {@code progress.epochs()} atomically and keeps the last {@code keep}. */
    public void checkpoint(AdamW.State state, TrainingProgress progress, int keep) {
        String name = String.format("epoch-%06d", progress.epochs());
        Path target = new Path(new Path(root, CHECKPOINTS), name);
        try (AtomicOutput out = AtomicOutput.begin(conf, target.toString(), true, "checkpoint")) {
            Path tmp = out.tempPath();
            fs.mkdirs(tmp);
            try (DataOutputStream o = new DataOutputStream(new java.io.BufferedOutputStream(
                    fs.create(new Path(tmp, STATE)), 1 << 20))) {
                state.params.write(o);
                state.m.write(o);
                state.v.write(o);
                o.writeLong(state.step);
            }
            writeString(new Path(tmp, PROGRESS), Json.write(progress));
            out.commit();
            List<Path> done = checkpoints();
            for (int i = 0; i < done.size() - keep; i++) {
                fs.delete(done.get(i), true);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + target, e);
        }
    }

    public void writeParams(ParamSet params) {
        atomicFile(PARAMS, o -> params.write(new DataOutputStream(o)));
    }

    public ParamSet readParams() {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(fs.open(new Path(root, PARAMS))))) {
            return ParamSet.read(in);
        } catch (IOException e) {
            throw new InputException("cannot read " + new Path(root, PARAMS) + ": " + e.getMessage(), e);
        }
    }

    /** Writes metadata.json last: from then on the directory is a complete model. */
    public void writeMetadata(Map<String, Object> metadata) {
        atomicFile(METADATA, o -> o.write(Json.write(metadata).getBytes(StandardCharsets.UTF_8)));
    }

    /** metadata.json as a tree (a plain Map would come back with Scala maps inside: Spark puts Jackson's Scala module on the classpath). */
    public com.fasterxml.jackson.databind.JsonNode metadata() {
        try {
            return Json.MAPPER.readTree(readString(new Path(root, METADATA)));
        } catch (IOException e) {
            throw new InputException("cannot read " + new Path(root, METADATA) + ": " + e.getMessage(), e);
        }
    }

    private interface Writer {
        void write(java.io.OutputStream out) throws IOException;
    }

    private void atomicFile(String name, Writer w) {
        Path target = new Path(root, name);
        Path tmp = new Path(root, "." + name + ".tmp-" + UUID.randomUUID());
        try {
            try (FSDataOutputStream o = fs.create(tmp, true)) {
                java.io.BufferedOutputStream b = new java.io.BufferedOutputStream(o, 1 << 20);
                w.write(b);
                b.flush();
            }
            if (fs.exists(target)) {
                fs.delete(target, false);
            }
            if (!fs.rename(tmp, target)) {
                throw new IOException("rename " + tmp + " -> " + target + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target, e);
        }
    }

    private String readString(Path p) throws IOException {
        try (FSDataInputStream in = fs.open(p)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void writeString(Path p, String s) throws IOException {
        try (FSDataOutputStream o = fs.create(p, true)) {
            o.write(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
