package dev.mmspark.training.fusion;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.io.Json;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark harness of the README's operator table (not a test: run by hand): for each operator at its
 * default settings, the parameters it adds for 2 and for 3 inputs of 300 (the multitask model's
 * representation size), and the forward+backward time of inputs -> fusion -> softmax(3) on a batch of 64
 * (float, {@code computeGradientAndScore}, median of REPEATS after 2 warm-ups).
 *
 * <pre>java -cp ... dev.mmspark.training.fusion.FusionBench OUT.json [REPEATS] [name ...]</pre>
 *
 * REPEATS = 0 counts parameters only.
 */
public final class FusionBench {
    private static final Logger LOG = LoggerFactory.getLogger(FusionBench.class);
    private static final int BATCH = 64;
    private static final int SIZE = 300;

    private FusionBench() {
    }

    public static void main(String[] args) throws Exception {
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<String> names = args.length > 2 ? List.of(args).subList(2, args.length)
                : List.of(Fusions.knownNames().split(", "));
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String name : names) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("fusion", name);
            for (int n : new int[]{2, 3}) {
                int[] sizes = new int[n];
                Arrays.fill(sizes, SIZE);
                FusionOperator op = Fusions.operator(Fusions.parse(Conf.parse("fusion = " + name), "fusion", name));
                GraphBuilder g = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).seed(1)
                        .updater(new Adam(1e-3)).graphBuilder();
                List<FusionOperator.Branch> in = new ArrayList<>();
                INDArray[] xs = new INDArray[n];
                for (int m = 0; m < n; m++) {
                    g.addInputs("x" + m);
                    in.add(new FusionOperator.Branch("x" + m, SIZE));
                    xs[m] = Nd4j.rand(DataType.FLOAT, BATCH, SIZE);
                }
                InputType[] types = new InputType[n];
                Arrays.fill(types, InputType.feedForward(SIZE));
                g.setInputTypes(types);
                FusionOperator.Fused f = op.fuse(g, "fuse", in);
                g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), f.vertex()).setOutputs("out");
                ComputationGraph net = new ComputationGraph(g.build());
                net.init();
                long params = net.getVertex("fuse").numParams();
                row.put("params_" + n, params);
                row.put("output_size_" + n, f.size());
                if (n == 3 && repeats > 0) {
                    INDArray labels = Nd4j.zeros(DataType.FLOAT, BATCH, 3);
                    for (int b = 0; b < BATCH; b++) {
                        labels.putScalar(b, b % 3, 1f);
                    }
                    net.setInputs(xs);
                    net.setLabels(labels);
                    double[] ms = new double[repeats];
                    for (int i = -2; i < repeats; i++) {
                        long t0 = System.nanoTime();
                        net.computeGradientAndScore();
                        if (i >= 0) {
                            ms[i] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    Arrays.sort(ms);
                    row.put("fwd_bwd_ms_batch64_3inputs", ms[repeats / 2]);
                }
                net.close();
            }
            row.put("load_average", Files.readString(new File("/proc/loadavg").toPath()).trim());
            LOG.info("BENCH {}", row);
            rows.add(row);
        }
        Files.writeString(new File(args[0]).toPath(), Json.write(rows));
    }
}
