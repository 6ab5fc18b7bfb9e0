package dev.mmspark.training;

import dev.mmspark.training.model.BatchBuilder;
import dev.mmspark.training.model.GraphPredictor;
import dev.mmspark.training.model.ModelOutput;
import dev.mmspark.training.model.RowValues;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Accuracy of a classifier on labelled feature-table rows, computed on the executors with a broadcast
 * predictor (only the counts come back). DL4J's Spark evaluation scores one output; multi-output models
 * need this. Three views:
 *
 * <ul>
 *   <li>{@link Result#accuracy()}: the model's predictions as {@link GraphPredictor#predictions} makes them,
 *       each row answered by the output for its modalities (a row without any: the training prior);</li>
 *   <li>{@link Result#outputAccuracy()}: each output on the rows that have all the modalities it needs
 *       (a different subset per output);</li>
 *   <li>{@link Result#completeAccuracy()}: each output on the rows that have every modality of the model,
 *       the one subset on which all outputs can be compared.</li>
 * </ul>
 */
public final class OutputAccuracy {
    private OutputAccuracy() {
    }

    /** Counts per output, plus the routed predictions. */
    public record Result(List<String> outputs, long[] correct, long[] total, long[] completeCorrect, long complete,
                         long routedCorrect, long rows) implements Serializable {

        public double accuracy() {
            return rows == 0 ? Double.NaN : (double) routedCorrect / rows;
        }

        public Map<String, Double> outputAccuracy() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (int o = 0; o < outputs.size(); o++) {
                m.put(outputs.get(o), total[o] == 0 ? Double.NaN : (double) correct[o] / total[o]);
            }
            return m;
        }

        public Map<String, Double> completeAccuracy() {
            Map<String, Double> m = new LinkedHashMap<>();
            for (int o = 0; o < outputs.size(); o++) {
                m.put(outputs.get(o), complete == 0 ? Double.NaN : (double) completeCorrect[o] / complete);
            }
            return m;
        }

        Result plus(Result r) {
            long[] c = correct.clone();
            long[] t = total.clone();
            long[] cc = completeCorrect.clone();
            for (int o = 0; o < c.length; o++) {
                c[o] += r.correct[o];
                t[o] += r.total[o];
                cc[o] += r.completeCorrect[o];
            }
            return new Result(outputs, c, t, cc, complete + r.complete, routedCorrect + r.routedCorrect, rows + r.rows);
        }
    }

    /** Rows must have a label ({@code label_index >= 0}) and the columns of the predictor's batch builder. */
    public static Result evaluate(JavaRDD<Row> rows, Broadcast<GraphPredictor> predictor) {
        List<String> labels = predictor.value().spec().outputs().stream().map(ModelOutput::label).toList();
        Result zero = new Result(labels, new long[labels.size()], new long[labels.size()], new long[labels.size()],
                0, 0, 0);
        return rows.mapPartitions(it -> List.of(count(it, predictor.value(), zero)).iterator())
                .fold(zero, Result::plus);
    }

    static Result count(Iterator<Row> it, GraphPredictor p, Result zero) {
        Result acc = zero;
        List<Row> batch = new ArrayList<>(GraphPredictor.CHUNK);
        while (it.hasNext()) {
            batch.add(it.next());
            if (batch.size() == GraphPredictor.CHUNK || !it.hasNext()) {
                acc = acc.plus(countBatch(batch, p));
                batch.clear();
            }
        }
        return acc;
    }

    private static Result countBatch(List<Row> batch, GraphPredictor p) {
        GraphPredictor.Scores s = p.scores(batch, null);
        List<ModelOutput> outputs = s.outputs();
        int k = outputs.size();
        long[] correct = new long[k];
        long[] total = new long[k];
        long[] completeCorrect = new long[k];
        long complete = 0;
        long routed = 0;
        List<String> all = p.modalities();
        float[] prior = p.prior();
        for (int i = 0; i < batch.size(); i++) {
            Row r = batch.get(i);
            int label = r.getInt(RowValues.index(r, BatchBuilder.LABEL_INDEX));
            Set<String> usable = s.usable().get(i);
            boolean isComplete = usable.containsAll(all);
            complete += isComplete ? 1 : 0;
            for (int o = 0; o < k; o++) {
                boolean hit = argmax(s.values()[o][i]) == label;
                if (usable.containsAll(outputs.get(o).requires())) {
                    total[o]++;
                    correct[o] += hit ? 1 : 0;
                }
                if (isComplete && hit) {
                    completeCorrect[o]++;
                }
            }
            int sel = s.selected()[i];
            routed += argmax(sel < 0 ? prior : s.values()[sel][i]) == label ? 1 : 0;
        }
        return new Result(outputs.stream().map(ModelOutput::label).toList(), correct, total, completeCorrect, complete,
                routed, batch.size());
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int j = 1; j < v.length; j++) {
            if (v[j] > v[best]) {
                best = j;
            }
        }
        return best;
    }
}
