package dev.mmspark.bench;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;

/** A DL4J ComputationGraph timed with {@code fit(MultiDataSet)} and {@code output(false, ...)}. */
final class GraphTarget implements Target {
    private final ComputationGraph net;
    private final MultiDataSet batch;

    GraphTarget(ComputationGraph net, INDArray[] features, INDArray[] featureMasks, INDArray[] labels,
                INDArray[] labelMasks) {
        this.net = net;
        this.batch = new MultiDataSet(features, labels, nullIfAllNull(featureMasks), nullIfAllNull(labelMasks));
    }

    private static INDArray[] nullIfAllNull(INDArray[] a) {
        if (a == null) {
            return null;
        }
        for (INDArray x : a) {
            if (x != null) {
                return a;
            }
        }
        return null;
    }

    @Override
    public void trainStep() {
        net.fit(batch);
    }

    @Override
    public void inferStep() {
        INDArray[] out = net.output(false, batch.getFeatures(), batch.getFeaturesMaskArrays(),
                batch.getLabelsMaskArrays());
        for (INDArray o : out) {
            o.close();
        }
    }

    @Override
    public double score() {
        return net.score();
    }

    @Override
    public long parameters() {
        // numParams() counts layers only; SameDiff vertices (e.g. MISA's core) hold parameters too.
        return net.params().length();
    }

    @Override
    public void close() {
        net.close();
    }
}
