package dev.mmspark.training;

import dev.mmspark.common.MmsparkException;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.deeplearning4j.core.loader.MultiDataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One epoch's minibatches as files, one per minibatch, for {@code SparkComputationGraph.fitPaths}: the
 * executors write them where they build them, and the training workers stream them back. This is what
 * dl4j-spark's {@code RDDTrainingApproach.Export} does, with two differences that matter here: no
 * re-batching (the model's batch builder already made minibatches of {@code batch_size_per_worker}), and a
 * {@link Loader} that restores null feature masks. ND4J 1.0.0-M2.1 writes a null mask as a [-1] placeholder
 * and recognises it on reading only on a thread that has itself written a MultiDataSet before, so a worker
 * thread would otherwise get a bogus rank-1 mask for the image input (and fail in the CNN).
 */
final class MinibatchFiles {
    private MinibatchFiles() {
    }

    /**
     * Writes every minibatch under {@code dir} and returns the file paths in partition order (small: one string
     * per minibatch).
     */
    static List<String> write(JavaSparkContext jsc, JavaRDD<MultiDataSet> batches, String dir) {
        Broadcast<SerializableConfiguration> hc =
                jsc.broadcast(new SerializableConfiguration(jsc.hadoopConfiguration()));
        try {
            List<String> paths = batches.mapPartitionsWithIndex((p, it) -> {
                List<String> out = new ArrayList<>();
                Path base = new Path(dir);
                FileSystem fs = base.getFileSystem(hc.value().value());
                int i = 0;
                while (it.hasNext()) {
                    MultiDataSet mds = it.next();
                    Path f = new Path(base, String.format(Locale.ROOT, "part-%05d-%06d.bin", p, i++));
                    try (FSDataOutputStream o = fs.create(f, true)) {
                        mds.save(o);
                    }
                    out.add(f.toString());
                }
                return out.iterator();
            }, true).collect();
            if (paths.isEmpty()) {
                throw new MmsparkException(dev.mmspark.common.ExitCode.INTERNAL_ERROR, "no minibatches were written to "
                        + dir);
            }
            return paths;
        } finally {
            hc.destroy();
        }
    }

    /** Reads a minibatch file; a rank-1 [-1] mask is ND4J's placeholder for "no mask" and becomes null. */
    static final class Loader implements MultiDataSetLoader {
        private static final long serialVersionUID = 1L;

        @Override
        public MultiDataSet load(Source source) throws IOException {
            org.nd4j.linalg.dataset.MultiDataSet mds = new org.nd4j.linalg.dataset.MultiDataSet();
            try (InputStream in = source.getInputStream()) {
                mds.load(in);
            }
            mds.setFeaturesMaskArrays(restoreNulls(mds.getFeaturesMaskArrays()));
            mds.setLabelsMaskArray(restoreNulls(mds.getLabelsMaskArrays()));
            return mds;
        }

        static INDArray[] restoreNulls(INDArray[] masks) {
            if (masks == null) {
                return null;
            }
            INDArray[] out = masks.clone();
            for (int i = 0; i < out.length; i++) {
                INDArray m = out[i];
                if (m != null && m.rank() == 1 && m.length() == 1 && m.getDouble(0) == -1.0) {
                    out[i] = null;
                }
            }
            return out;
        }
    }
}
