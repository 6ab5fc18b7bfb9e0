package dev.mmspark.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;

import java.io.File;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes the case files of the per-sample models and of the fusion operators: the model's spec resolved
 * against the benchmark's synthetic feature table, and one real training minibatch of its rows (with the
 * table's missing modalities, so masks are exercised as in training).
 */
final class SampleCases {

    /**
     * A per-sample model case: case name, registry name, the model section it is built from, the PyTorch module.
     */
    record SampleCase(String name, String model, String modelSection, String pytorchModule) {
        SampleCase(String name, String modelSection, String pytorchModule) {
            this(name, name, modelSection, pytorchModule);
        }
    }

    /**
     * The per-sample models at their default sizes (MISA and TFR-Net with the quickstart's 8x8 patches, as in their
     * confs, TATE's default; TFR-Net at the official MOSI sizes, its defaults: dim 30, 6 heads, 3 layers, length 50).
     */
    static final List<SampleCase> MODELS = List.of(
            new SampleCase("multitask", "name = multitask", "multitask"),
            new SampleCase("misa", "name = misa\npatch_size = 8", "misa"),
            new SampleCase("dscmr", "name = dscmr\ncommon_dim = 128\nimage { hidden = [256] }\ntext { hidden = [256] }",
                    "dscmr"),
            new SampleCase("tfrnet", "name = tfrnet\npatch_size = 8", "tfrnet"),
            // TFR-Net at the sizes a CPU user would pick: one layer per Transformer, sequences cut to 24
            new SampleCase("tfrnet-small", "tfrnet", "name = tfrnet\npatch_size = 8\nlayers = 1\nmax_length = 24",
                    "tfrnet"),
            // TATE at its defaults (dim 32, 4 heads, length 24, 8x8 patches). The case is a step of the main
            // (student) phase: spec.batchBuilder() is the student's builder, so the minibatch has the missing
            // patterns (missing_rate 0.2) and the KL switch on, and the frozen teacher encoder (learning rate 0,
            // no regularisation) runs inside the network on the complete sample. Its parameters keep their
            // initial values here instead of a trained teacher's copy: the timing does not depend on the values.
            new SampleCase("tate", "name = tate", "tate"));

    /** Every fusion operator on three inputs of 300 (the multitask model's representation size). */
    static final int FUSION_SIZE = 300;

    private SampleCases() {
    }

    static ObjectNode header(String name, String kind, String model, String pytorch, int batch, int threads,
                             Timing timing) {
        ObjectNode c = Json.MAPPER.createObjectNode();
        c.put("name", name);
        c.put("kind", kind);
        c.put("model", model);
        c.put("pytorch", pytorch);
        c.put("batch", batch);
        c.put("threads", threads);
        c.put("seed", 1);
        ObjectNode opt = c.putObject("optimisation");
        opt.put("optimizer", "ADAM");
        opt.put("learningRate", 1e-3);
        opt.put("weightDecay", 0.0);
        ObjectNode t = c.putObject("timing");
        t.put("warmup", timing.warmup());
        t.put("runs", timing.runs());
        t.put("steps", timing.steps());
        return c;
    }

    record Timing(int warmup, int runs, int steps) {
    }

    static File writeSample(SparkSession spark, String tablePath, SampleCase sc, File root, int batch, int threads,
                            Timing timing) {
        FeatureTable table = FeatureTable.open(spark, tablePath);
        Conf section = Conf.parse(sc.modelSection());
        SampleModelDefinition def = ModelRegistry.require(sc.model(), "bench");
        ModelSpec spec = def.parseParams(section).resolve(table.metadata(), tablePath);
        BatchBuilder builder = spec.batchBuilder();
        List<Row> rows = table.split("train").where(functions.col(BatchBuilder.LABEL_INDEX).geq(0))
                .select(builder.columns().stream().map(functions::col).toArray(Column[]::new))
                .orderBy(BatchBuilder.ID).limit(batch).collectAsList();
        MultiDataSet mds = builder.build(new ArrayList<>(rows), null, true);
        // the batch builder alone (rows already collected -> the minibatch's arrays), median of 7 after 3 warm-ups
        double[] build = new double[7];
        for (int i = -3; i < build.length; i++) {
            long t0 = System.nanoTime();
            builder.build(new ArrayList<>(rows), null, true);
            if (i >= 0) {
                build[i] = (System.nanoTime() - t0) / 1e6;
            }
        }
        File dir = new File(root, sc.name());
        dir.mkdirs();
        ObjectNode c = header(sc.name(), "sample", sc.model(), sc.pytorchModule(), rows.size(), threads, timing);
        c.put("batch_build_ms", CaseRunner.median(build));
        c.set("spec", Json.MAPPER.valueToTree(spec));
        write(dir, c, mds.getFeatures(), mds.getFeaturesMaskArrays(), mds.getLabels(), mds.getLabelsMaskArrays());
        return dir;
    }

    static File writeFusion(String fusion, File root, int batch, int threads, Timing timing, int classes) {
        File dir = new File(root, "fusion-" + fusion);
        dir.mkdirs();
        ObjectNode c = header("fusion-" + fusion, "fusion", "fusion", "fusion", batch, threads, timing);
        ObjectNode spec = c.putObject("spec");
        spec.put("name", fusion);
        spec.putArray("inputSizes").add(FUSION_SIZE).add(FUSION_SIZE).add(FUSION_SIZE);
        spec.put("classes", classes);
        spec.set("settings", Json.MAPPER.valueToTree(Targets.fusionSpec(fusion).settings()));
        org.nd4j.linalg.api.rng.Random rng = org.nd4j.linalg.factory.Nd4j.getRandomFactory().getNewRandomInstance(7);
        INDArray[] xs = new INDArray[3];
        for (int m = 0; m < 3; m++) {
            xs[m] = org.nd4j.linalg.factory.Nd4j.rand(new int[]{batch, FUSION_SIZE}, rng)
                    .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        }
        INDArray labels = org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, batch, classes);
        for (int b = 0; b < batch; b++) {
            labels.putScalar(b, b % classes, 1f);
        }
        write(dir, c, xs, null, new INDArray[]{labels}, null);
        return dir;
    }

    static void write(File dir, ObjectNode c, INDArray[] features, INDArray[] featureMasks, INDArray[] labels,
                      INDArray[] labelMasks) {
        c.set("features", CaseFiles.writeArrays(dir, "features", features));
        c.set("featureMasks", featureMasks == null ? Json.MAPPER.createArrayNode()
                : CaseFiles.writeArrays(dir, "feature-mask", featureMasks));
        c.set("labels", CaseFiles.writeArrays(dir, "labels", labels));
        c.set("labelMasks", labelMasks == null ? Json.MAPPER.createArrayNode()
                : CaseFiles.writeArrays(dir, "label-mask", labelMasks));
        CaseFiles.writeJson(new File(dir, "case.json"), c);
    }
}
