package dev.mmspark.evaluation.metrics;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.MulticlassMetrics;
import scala.Tuple2;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accuracy, macro-F1, weighted-F1, per-class F1 and the confusion matrix of (label, prediction) pairs,
 * computed on the executors by Spark MLlib's {@link MulticlassMetrics}. Macro-F1 averages the F1 of the
 * classes that occur as a label or a prediction, as scikit-learn (which the papers' numbers come from)
 * does: MLlib averages only over classes that occur as labels, so a class that is only ever predicted
 * (F1 = 0) is added here. Weighted-F1 weights by label frequency.
 *
 * @param confusion [true class][predicted class] counts over all {@code classes}
 */
public record ClassificationMetrics(long n, double accuracy, double macroF1, double weightedF1,
                                    Map<String, Double> f1PerClass, long[][] confusion) {

    /** @param labelPrediction (true class index, predicted class index) per sample */
    public static ClassificationMetrics compute(JavaRDD<Tuple2<Integer, Integer>> labelPrediction, List<String> classes) {
        JavaRDD<Tuple2<Object, Object>> pl = labelPrediction.map(t -> new Tuple2<>((Object) t._2().doubleValue(),
                (Object) t._1().doubleValue()));
        pl.cache();
        try {
            long n = pl.count();
            if (n == 0) {
                return new ClassificationMetrics(0, Double.NaN, Double.NaN, Double.NaN, Map.of(),
                        new long[classes.size()][classes.size()]);
            }
            MulticlassMetrics m = new MulticlassMetrics(pl.rdd());
            double[] labels = m.labels();
            java.util.Set<Integer> asLabel = new java.util.HashSet<>();
            for (double l : labels) {
                asLabel.add((int) l);
            }
            java.util.TreeSet<Integer> occurring = new java.util.TreeSet<>(asLabel);
            pl.map(t -> ((Double) t._1()).intValue()).distinct().collect().forEach(occurring::add);
            double macro = 0;
            Map<String, Double> perClass = new LinkedHashMap<>();
            for (int c : occurring) {
                double f = asLabel.contains(c) ? m.fMeasure(c) : 0.0; // only predicted: no true positive
                macro += f;
                perClass.put(classes.get(c), f);
            }
            macro /= occurring.size();
            // MLlib's confusion matrix only has columns for classes that occur as labels: count directly.
            long[][] confusion = new long[classes.size()][classes.size()];
            for (Map.Entry<Tuple2<Object, Object>, Long> e : pl.countByValue().entrySet()) {
                int pred = ((Double) e.getKey()._1()).intValue();
                int label = ((Double) e.getKey()._2()).intValue();
                confusion[label][pred] += e.getValue();
            }
            return new ClassificationMetrics(n, m.accuracy(), macro, m.weightedFMeasure(), perClass, confusion);
        } finally {
            pl.unpersist(false);
        }
    }

    public Map<String, Double> asMap() {
        Map<String, Double> out = new LinkedHashMap<>();
        out.put("accuracy", accuracy);
        out.put("macro_f1", macroF1);
        out.put("weighted_f1", weightedF1);
        return out;
    }
}
