package dev.mmspark.evaluation.metrics;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Classification metrics from a confusion matrix, so that many evaluation conditions can be scored in one
 * distributed pass (one matrix per condition, summed on the executors). Same definitions as
 * {@link ClassificationMetrics} (accuracy; F1 per class; macro-F1 over the classes that occur as a label or
 * a prediction, scikit-learn's convention; weighted-F1 by label frequency); {@code ConfusionMetricsTest}
 * checks the two agree.
 */
public final class ConfusionMetrics implements Serializable {
    private final long[][] counts;

    public ConfusionMetrics(int classes) {
        this.counts = new long[classes][classes];
    }

    public void add(int label, int predicted) {
        counts[label][predicted]++;
    }

    public ConfusionMetrics plus(ConfusionMetrics o) {
        ConfusionMetrics r = new ConfusionMetrics(counts.length);
        for (int i = 0; i < counts.length; i++) {
            for (int j = 0; j < counts.length; j++) {
                r.counts[i][j] = counts[i][j] + o.counts[i][j];
            }
        }
        return r;
    }

    public long n() {
        long n = 0;
        for (long[] row : counts) {
            for (long c : row) {
                n += c;
            }
        }
        return n;
    }

    public long[][] counts() {
        long[][] c = new long[counts.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = counts[i].clone();
        }
        return c;
    }

    public ClassificationMetrics metrics(List<String> classes) {
        int k = counts.length;
        long n = n();
        if (n == 0) {
            return new ClassificationMetrics(0, Double.NaN, Double.NaN, Double.NaN, Map.of(), counts());
        }
        long correct = 0;
        long[] rowSum = new long[k];
        long[] colSum = new long[k];
        for (int i = 0; i < k; i++) {
            correct += counts[i][i];
            for (int j = 0; j < k; j++) {
                rowSum[i] += counts[i][j];
                colSum[j] += counts[i][j];
            }
        }
        Map<String, Double> perClass = new LinkedHashMap<>();
        double macro = 0;
        int occurring = 0;
        double weighted = 0;
        for (int c = 0; c < k; c++) {
            if (rowSum[c] == 0 && colSum[c] == 0) {
                continue;
            }
            double precision = colSum[c] == 0 ? 0 : (double) counts[c][c] / colSum[c];
            double recall = rowSum[c] == 0 ? 0 : (double) counts[c][c] / rowSum[c];
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.put(classes.get(c), f1);
            macro += f1;
            occurring++;
            weighted += f1 * rowSum[c] / n;
        }
        return new ClassificationMetrics(n, (double) correct / n, macro / occurring, weighted, perClass, counts());
    }
}
