package dev.mmspark.training.models.dscmr;

import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.EmbeddingPredictor;
import dev.mmspark.training.model.GraphPredictor;
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
 * DSCMR's common-space embeddings on the executors: a row's image (or text) representation u (v) is the
 * activation of {@code common_image} ({@code common_text}), computed from that modality alone -- the two
 * subnetworks never see each other's input, so what the other modality holds (or whether it is there) does
 * not change it. Only the vertices up to the shared layer are computed.
 *
 * <p>Like {@link GraphPredictor}, the configuration and a copy of the parameters are serialised, and every task
 * thread lazily builds its own network from them (a ComputationGraph is not thread-safe).
 */
public final class DscmrPredictor implements EmbeddingPredictor {
    private static final long serialVersionUID = 1L;

    private final DscmrSpec spec;
    private final BatchBuilder builder;
    private final String configurationJson;
    private final INDArray parameters;
    private transient ThreadLocal<ComputationGraph> networks;

    public DscmrPredictor(DscmrSpec spec, ComputationGraph network) {
        this.spec = spec;
        this.builder = spec.batchBuilder();
        this.configurationJson = network.getConfiguration().toJson();
        this.parameters = network.params().dup();
    }

    @Override
    public String modelName() {
        return spec.modelName();
    }

    @Override
    public List<String> modalities() {
        return spec.modalities();
    }

    @Override
    public int dimension() {
        return spec.params().commonDim();
    }

    @Override
    public List<String> columns() {
        return builder.columns();
    }

    @Override
    public float[][] embeddings(List<Row> rows, String modality) {
        DscmrParams.Role role = role(modality);
        String vertex = DscmrNetwork.commonVertex(role);
        int n = rows.size();
        float[][] out = new float[n][];
        ComputationGraph net = network();
        for (int from = 0; from < n; from += GraphPredictor.CHUNK) {
            int to = Math.min(n, from + GraphPredictor.CHUNK);
            List<Row> chunk = rows.subList(from, to);
            List<Set<String>> available = new ArrayList<>(chunk.size());
            for (int i = 0; i < chunk.size(); i++) {
                available.add(Set.of(modality));
            }
            List<Set<String>> usable = builder.usable(chunk, available);
            if (usable.stream().noneMatch(u -> u.contains(modality))) {
                continue;
            }
            MultiDataSet batch = builder.build(chunk, available, false);
            INDArray u = net.output(List.of(vertex), false, cast(batch.getFeatures(), net),
                    cast(batch.getFeaturesMaskArrays(), net))[0];
            for (int i = 0; i < chunk.size(); i++) {
                if (usable.get(i).contains(modality)) {
                    out[from + i] = u.getRow(i).toFloatVector();
                }
            }
        }
        return out;
    }

    private DscmrParams.Role role(String modality) {
        for (DscmrParams.Role r : DscmrParams.Role.values()) {
            if (spec.input(r).modality().equals(modality)) {
                return r;
            }
        }
        throw new IllegalArgumentException("DSCMR embeds " + spec.modalities() + ", not '" + modality + "'");
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
        return Arrays.stream(arrays).map(a -> a == null || a.dataType() == dt ? a : a.castTo(dt)).toArray(INDArray[]::new);
    }
}
