package dev.mmspark.evaluation.retrieval;

import java.io.Serializable;

/**
 * A fitted CCA: the means and the canonical directions of each modality (columns of {@code a}, p x k, and
 * {@code b}, q x k) with their canonical correlations rho_1 &gt;= ... &gt;= rho_k. A sample is compared in the
 * k-dimensional canonical space: x -&gt; diag(rho^power) A'(x - mean_x), y -&gt; diag(rho^power) B'(y - mean_y).
 *
 * @param pairs the number of paired training rows it was fitted on
 */
public record CcaModel(double[] meanX, double[] meanY, double[][] a, double[][] b, double[] correlations,
                       double power, long pairs) implements Serializable {

    public int components() {
        return correlations.length;
    }

    public double[] projectX(double[] x) {
        return project(x, meanX, a);
    }

    public double[] projectY(double[] y) {
        return project(y, meanY, b);
    }

    private double[] project(double[] v, double[] mean, double[][] dirs) {
        if (v.length != mean.length) {
            throw new IllegalArgumentException("a vector of " + v.length + " values for a CCA fitted on " + mean.length);
        }
        int k = correlations.length;
        double[] out = new double[k];
        for (int i = 0; i < v.length; i++) {
            double c = v[i] - mean[i];
            double[] row = dirs[i];
            for (int j = 0; j < k; j++) {
                out[j] += c * row[j];
            }
        }
        if (power != 0) {
            for (int j = 0; j < k; j++) {
                out[j] *= Math.pow(correlations[j], power);
            }
        }
        return out;
    }
}
