package dev.mmspark.training.model;

import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The {@link Predictor} of every {@link ModelSpec} model: one forward pass per chunk of rows computes all
 * network outputs, and each row is answered by the output that needs the most modalities among those the
 * row can use ({@link #select}). For the multitask model that is the head of exactly the row's usable
 * modalities (the trimodal head when all three are there). A row no output can use gets the training
 * prior.
 *
 * <p>The configuration (JSON) and parameters are serialised; each task thread of an executor lazily builds
 * its own network from them, because a ComputationGraph is not safe to use from two threads.
 */
public final class GraphPredictor implements Predictor {
    private static final long serialVersionUID = 1L;
    /** Rows per forward pass: bounds the memory of one call whatever the size of the list. */
    public static final int CHUNK = 256;

    private final ModelSpec spec;
    private final BatchBuilder builder;
    private final String configurationJson;
    private final INDArray parameters;
    private final float[] prior;
    private transient ThreadLocal<ComputationGraph> networks;

    /**
     * @param prior the answer for rows no output can use: training class frequencies (classification) or
     *              {@code {mean target}} (regression)
     */
    public GraphPredictor(ModelSpec spec, ComputationGraph network, float[] prior) {
        this.spec = spec;
        this.builder = spec.batchBuilder();
        this.configurationJson = network.getConfiguration().toJson();
        this.parameters = network.params().dup();
        this.prior = prior.clone();
        int width = spec.task() == Task.CLASSIFICATION ? spec.classes().size() : 1;
        if (prior.length != width) {
            throw new IllegalArgumentException("prior has " + prior.length + " values, expected " + width);
        }
    }

    @Override
    public String modelName() {
        return spec.modelName();
    }

    @Override
    public Task task() {
        return spec.task();
    }

    @Override
    public List<String> classNames() {
        return spec.classes();
    }

    @Override
    public List<String> modalities() {
        return spec.modalities();
    }

    public ModelSpec spec() {
        return spec;
    }

    /** The per-row answers of every output, plus which output {@link #predictions} uses for each row. */
    public record Scores(List<ModelOutput> outputs, float[][][] values, List<Set<String>> usable, int[] selected) {
        /** Number of rows. */
        public int size() {
            return selected.length;
        }
    }

    /**
     * All outputs for all rows: {@code values[output][row]} is that output's class distribution (or value),
     * whether or not the row has the modalities the output needs.
     */
    public Scores scores(List<Row> rows, List<Set<String>> available) {
        List<ModelOutput> outputs = spec.outputs();
        int n = rows.size();
        float[][][] values = new float[outputs.size()][n][];
        List<Set<String>> usable = new ArrayList<>(n);
        int[] selected = new int[n];
        ComputationGraph net = network();
        for (int from = 0; from < n; from += CHUNK) {
            int to = Math.min(n, from + CHUNK);
            List<Row> chunk = rows.subList(from, to);
            List<Set<String>> avail = available == null ? null : available.subList(from, to);
            MultiDataSet batch = builder.build(chunk, avail, false);
            INDArray[] out = net.output(false, cast(batch.getFeatures(), net),
                    cast(batch.getFeaturesMaskArrays(), net));
            List<Set<String>> u = builder.usable(chunk, avail);
            for (int i = 0; i < chunk.size(); i++) {
                for (int o = 0; o < outputs.size(); o++) {
                    values[o][from + i] = out[o].getRow(i).toFloatVector();
                }
                usable.add(u.get(i));
                selected[from + i] = select(outputs, u.get(i));
            }
        }
        return new Scores(outputs, values, usable, selected);
    }

    @Override
    public Predictions predictions(List<Row> rows, List<Set<String>> available) {
        Scores s = scores(rows, available);
        int n = s.size();
        String[] used = new String[n];
        float[][] answers = new float[n][];
        for (int i = 0; i < n; i++) {
            int o = s.selected()[i];
            used[i] = o < 0 ? Predictions.PRIOR : s.outputs().get(o).label();
            answers[i] = o < 0 ? prior.clone() : s.values()[o][i];
        }
        if (spec.task() == Task.CLASSIFICATION) {
            return new Predictions(spec.classes(), answers, null, used);
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = answers[i][0];
        }
        return new Predictions(List.of(), null, v, used);
    }

    @Override
    public float[][] predict(List<Row> rows, List<Set<String>> available) {
        Predictions p = predictions(rows, available);
        if (p.probabilities() != null) {
            return p.probabilities();
        }
        float[][] out = new float[p.size()][1];
        for (int i = 0; i < out.length; i++) {
            out[i][0] = p.values()[i];
        }
        return out;
    }

    /**
     * The output that answers for a row with the given usable modalities: among the outputs whose required
     * modalities are all usable, the one requiring the most (the first on ties); -1 if none.
     */
    public static int select(List<ModelOutput> outputs, Set<String> usable) {
        int best = -1;
        for (int o = 0; o < outputs.size(); o++) {
            List<String> req = outputs.get(o).requires();
            if (usable.containsAll(req) && (best < 0 || req.size() > outputs.get(best).requires().size())) {
                best = o;
            }
        }
        return best;
    }

    public float[] prior() {
        return prior.clone();
    }

    private synchronized ThreadLocal<ComputationGraph> threadNetworks() {
        if (networks == null) {
            networks = ThreadLocal.withInitial(() -> {
                ComputationGraph g = new ComputationGraph(ComputationGraphConfiguration.fromJson(configurationJson));
                g.init(parameters, true);
                return g;
            });
        }
        return networks;
    }

    private ComputationGraph network() {
        return threadNetworks().get();
    }

    private static INDArray[] cast(INDArray[] arrays, ComputationGraph net) {
        if (arrays == null) {
            return null;
        }
        DataType dt = net.params().dataType();
        return Arrays.stream(arrays).map(a -> a == null || a.dataType() == dt ? a : a.castTo(dt))
                .toArray(INDArray[]::new);
    }
}
