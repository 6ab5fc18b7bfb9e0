package dev.mmspark.evaluation.retrieval;

import java.io.Serializable;

/**
 * One query or candidate of cross-modal retrieval: a sample id, its class and its vector scaled to unit length,
 * so that the similarity of two items is the dot product of their vectors -- their cosine.
 *
 * <p>The distributed evaluation and the single-machine reference both score pairs with {@link #similarity},
 * the same arithmetic in the same order (Java double arithmetic is strict), so two candidates tie for a query
 * in one exactly when they tie in the other.
 *
 * @param unit the vector divided by its Euclidean norm; all zeros for a zero vector (similar to nothing: its
 *             cosine with everything is 0)
 */
public record RetrievalItem(String id, int label, double[] unit) implements Serializable {

    public static RetrievalItem of(String id, int label, float[] vector) {
        double[] v = new double[vector.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = vector[i];
        }
        return of(id, label, v);
    }

    public static RetrievalItem of(String id, int label, double[] vector) {
        double sq = 0;
        for (double x : vector) {
            sq += x * x;
        }
        double norm = Math.sqrt(sq);
        double[] unit = new double[vector.length];
        if (norm > 0) {
            for (int i = 0; i < unit.length; i++) {
                unit[i] = vector[i] / norm;
            }
        }
        return new RetrievalItem(id, label, unit);
    }

    /** Cosine similarity of two items (the dot product of their unit vectors). */
    public static double similarity(RetrievalItem a, RetrievalItem b) {
        double[] x = a.unit;
        double[] y = b.unit;
        if (x.length != y.length) {
            throw new IllegalArgumentException("items " + a.id + " and " + b.id + " have vectors of " + x.length + " and "
                    + y.length + " values; they must live in one space");
        }
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }

    /**
     * The ranking order, the tie rule included: candidate a comes before candidate b for a query when its
     * similarity is higher, or when the similarities are equal and its id is smaller ({@link String#compareTo}).
     * A total order on candidates (ids are unique), so every rank, AP and top-K set is well defined; ties are
     * broken neither for nor against relevant items.
     *
     * @return a negative number when a ranks before b, positive when after, 0 only for the same candidate
     */
    public static int rankOrder(double scoreA, String idA, double scoreB, String idB) {
        int c = Double.compare(scoreB, scoreA);
        return c != 0 ? c : idA.compareTo(idB);
    }
}
