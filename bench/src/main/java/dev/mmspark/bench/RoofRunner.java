package dev.mmspark.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ND4J's fp32 matrix multiply at the harness's sizes, in its own JVM (same thread count as the cases):
 * <pre>java -cp ... dev.mmspark.bench.RoofRunner OUT.json</pre>
 * The PyTorch twin is {@code bench/pytorch/roof.py}.
 */
public final class RoofRunner {
    /** The reference size of platform-notes.md; the other sizes are layers of the models. */
    static final String REFERENCE = "1024x768x384";
    /**
     * m x k x n: the reference; the multitask model's trimodal head (64 x 900 -> 256); its text convolution
     * as a matrix product (64*150 positions x window 3 * 100 dims -> 100 filters); its first image convolution
     * (64*32*32 pixels x 3*3*3 -> 32 channels); a fusion projection (64 x 300 -> 1200).
     */
    static final List<String> SIZES = List.of(REFERENCE, "64x900x256", "9600x300x100", "65536x27x32", "64x300x1200");

    private RoofRunner() {
    }

    public static void main(String[] args) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String size : SIZES) {
            String[] p = size.split("x");
            int m = Integer.parseInt(p[0]);
            int k = Integer.parseInt(p[1]);
            int n = Integer.parseInt(p[2]);
            INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
            INDArray b = Nd4j.rand(DataType.FLOAT, k, n);
            INDArray c = Nd4j.create(DataType.FLOAT, m, n);
            double flop = 2.0 * m * k * n;
            int reps = (int) Math.max(3, Math.min(200, 2e9 / flop));
            for (int i = 0; i < 3; i++) {
                a.mmul(b, c);
            }
            double[] runs = new double[5];
            for (int r = 0; r < runs.length; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    a.mmul(b, c);
                }
                runs[r] = flop * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
            out.put(size, CaseRunner.median(runs));
        }
        CaseFiles.writeJson(new File(args[0]), out);
    }
}
