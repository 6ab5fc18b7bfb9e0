package dev.mmspark.training;

import dev.mmspark.common.InputException;
import dev.mmspark.common.io.AtomicOutput;
import dev.mmspark.common.io.Json;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The per-epoch checkpoints of a training run: {@code <dir>/epoch-000003/} with the network and its updater
 * state ({@code network.zip}, DL4J's ModelSerializer format) and {@code checkpoint.json}. Each is written to a
 * hidden temporary directory and renamed into place, so a directory named {@code epoch-*} is always complete;
 * only the newest {@code keep} are kept.
 */
final class Checkpoints {
    private static final Logger LOG = LoggerFactory.getLogger(Checkpoints.class);
    // epoch-000003: after epoch 3; epoch-000003-round-000004: after epoch 3 and 4 averaging rounds of epoch 4
    // (sorts between epoch-000003 and epoch-000004, so the newest is always last by name)
    private static final Pattern NAME = Pattern.compile("epoch-(\\d{6})(-round-\\d{6})?");
    static final String NETWORK = "network.zip";
    static final String STATE = "checkpoint.json";

    /**
     * What a checkpoint records besides the network.
     *
     * @param epoch           complete epochs
     * @param resumeKeys      the settings a resuming run must share ({@link TrainConfig#resumeKeys})
     * @param round           averaging rounds already done in epoch {@code epoch + 1} (0 at an epoch's end)
     * @param partialLoss     the weighted loss sum of those rounds (for the epoch's mean loss)
     * @param partialExamples examples fitted in those rounds
     * @param partialSeconds  seconds spent on those rounds
     */
    record State(int epoch, Map<String, Object> resumeKeys, String tableHash, List<EpochStats> history,
                 double trainingSeconds, String createdAt, int round, double partialLoss, long partialExamples,
                 double partialSeconds) {
        State(int epoch, Map<String, Object> resumeKeys, String tableHash, List<EpochStats> history,
              double trainingSeconds, String createdAt) {
            this(epoch, resumeKeys, tableHash, history, trainingSeconds, createdAt, 0, 0, 0, 0);
        }
    }

    record Checkpoint(String path, State state) {
    }

    private final Configuration hadoopConf;
    private final Path dir;
    private final int keep;

    Checkpoints(Configuration hadoopConf, String dir, int keep) {
        this.hadoopConf = hadoopConf;
        this.dir = new Path(dir);
        this.keep = keep;
    }

    private FileSystem fs() throws IOException {
        return dir.getFileSystem(hadoopConf);
    }

    /** Complete checkpoint directories, oldest first. */
    List<Path> list() {
        try {
            FileSystem fs = fs();
            if (!fs.exists(dir)) {
                return List.of();
            }
            List<Path> out = new ArrayList<>();
            for (FileStatus s : fs.listStatus(dir)) {
                if (s.isDirectory() && NAME.matcher(s.getPath().getName()).matches()) {
                    out.add(s.getPath());
                }
            }
            out.sort(Comparator.comparing(Path::getName));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list checkpoints in " + dir, e);
        }
    }

    Optional<Checkpoint> latest() {
        List<Path> all = list();
        if (all.isEmpty()) {
            return Optional.empty();
        }
        Path p = all.get(all.size() - 1);
        return Optional.of(new Checkpoint(p.toString(), readState(p)));
    }

    private State readState(Path p) {
        try (FSDataInputStream in = fs().open(new Path(p, STATE))) {
            return Json.MAPPER.readValue(new String(in.readAllBytes(), StandardCharsets.UTF_8), State.class);
        } catch (IOException e) {
            throw new InputException("checkpoint " + p + ": cannot read " + STATE + " (" + e.getMessage() + ")");
        }
    }

    /** Writes the checkpoint of a finished epoch atomically and drops the oldest beyond {@code keep}. */
    void write(ComputationGraph network, State state) {
        String name = String.format(Locale.ROOT, "epoch-%06d", state.epoch())
                + (state.round() > 0 ? String.format(Locale.ROOT, "-round-%06d", state.round()) : "");
        try (AtomicOutput out = AtomicOutput.begin(hadoopConf, new Path(dir, name).toString(), true, "checkpoint")) {
            FileSystem fs = out.fileSystem();
            fs.mkdirs(out.tempPath());
            try (FSDataOutputStream o = fs.create(new Path(out.tempPath(), NETWORK), false)) {
                ModelSerializer.writeModel(network, o, true);
            }
            try (FSDataOutputStream o = fs.create(new Path(out.tempPath(), STATE), false)) {
                o.write(Json.write(state).getBytes(StandardCharsets.UTF_8));
            }
            out.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + name + " in " + dir, e);
        }
        List<Path> all = list();
        for (int i = 0; i < all.size() - keep; i++) {
            delete(all.get(i));
        }
    }

    /** The network of a checkpoint, with its updater state. */
    ComputationGraph restore(Checkpoint c) {
        Path p = new Path(c.path(), NETWORK);
        try (FSDataInputStream in = fs().open(p)) {
            return ModelSerializer.restoreComputationGraph(in, true);
        } catch (IOException e) {
            throw new InputException("checkpoint " + c.path() + ": cannot read " + NETWORK + " (" + e.getMessage()
                    + ")");
        }
    }

    /** Removes every checkpoint (a run started over with --overwrite). */
    void clear() {
        list().forEach(this::delete);
    }

    private void delete(Path p) {
        try {
            fs().delete(p, true);
        } catch (IOException e) {
            LOG.warn("Could not delete old checkpoint {}: {}", p, e.getMessage());
        }
    }
}
