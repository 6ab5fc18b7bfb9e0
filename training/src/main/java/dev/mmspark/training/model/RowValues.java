package dev.mmspark.training.model;

import dev.mmspark.common.InputException;
import org.apache.spark.sql.Row;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads feature-table values from Spark rows by column name. Rows must carry their schema (rows of a
 * DataFrame do). Array columns arrive from Parquet as Scala sequences of boxed numbers; Java lists and
 * primitive arrays are accepted too, for rows built by hand.
 */
public final class RowValues {
    private RowValues() {
    }

    public static String presentColumn(String modality) {
        return modality + "_present";
    }

    /** Whether the row has the modality ({@code <m>_present}); a null flag counts as absent. */
    public static boolean present(Row row, String modality) {
        int i = index(row, presentColumn(modality));
        return !row.isNullAt(i) && row.getBoolean(i);
    }

    /**
     * The modalities of {@code modalities} the model may use for a row: those the row has, intersected with
     * {@code available} when given (evaluation drops modalities to simulate missing ones; a dropped modality
     * is then treated exactly like an absent one).
     */
    public static Set<String> usable(Row row, List<String> modalities, Set<String> available) {
        Set<String> out = new HashSet<>();
        for (String m : modalities) {
            if ((available == null || available.contains(m)) && present(row, m)) {
                out.add(m);
            }
        }
        return out;
    }

    public static int index(Row row, String column) {
        if (row.schema() == null) {
            throw new IllegalArgumentException("rows must carry their schema (rows of a DataFrame do); cannot find "
                    + "column '" + column + "'");
        }
        try {
            return row.fieldIndex(column);
        } catch (IllegalArgumentException e) {
            throw new InputException("row " + id(row) + " has no column '" + column + "'; is it a row of the "
                    + "feature table the model was trained on? Columns: " + List.of(row.schema().fieldNames()));
        }
    }

    /** The row's sample id for messages, or "?" when it has none. */
    public static String id(Row row) {
        if (row.schema() == null) {
            return "?";
        }
        for (String f : row.schema().fieldNames()) {
            if (f.equals("id")) {
                int i = row.fieldIndex("id");
                return row.isNullAt(i) ? "?" : "'" + row.get(i) + "'";
            }
        }
        return "?";
    }

    /** A float array column, or null when the value is null. */
    public static float[] floats(Row row, String column) {
        int i = index(row, column);
        if (row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        if (v instanceof float[] f) {
            return f;
        }
        if (v instanceof scala.collection.Seq<?> seq) {
            float[] out = new float[seq.length()];
            for (int j = 0; j < out.length; j++) {
                out[j] = ((Number) seq.apply(j)).floatValue();
            }
            return out;
        }
        if (v instanceof List<?> list) {
            float[] out = new float[list.size()];
            for (int j = 0; j < out.length; j++) {
                out[j] = ((Number) list.get(j)).floatValue();
            }
            return out;
        }
        throw new InputException("row " + id(row) + ": column '" + column + "' holds " + v.getClass().getName()
                + ", expected an array of floats");
    }

    /** An int array column, or null when the value is null. */
    public static int[] ints(Row row, String column) {
        int i = index(row, column);
        if (row.isNullAt(i)) {
            return null;
        }
        Object v = row.get(i);
        if (v instanceof int[] a) {
            return a;
        }
        if (v instanceof scala.collection.Seq<?> seq) {
            int[] out = new int[seq.length()];
            for (int j = 0; j < out.length; j++) {
                out[j] = ((Number) seq.apply(j)).intValue();
            }
            return out;
        }
        if (v instanceof List<?> list) {
            int[] out = new int[list.size()];
            for (int j = 0; j < out.length; j++) {
                out[j] = ((Number) list.get(j)).intValue();
            }
            return out;
        }
        throw new InputException("row " + id(row) + ": column '" + column + "' holds " + v.getClass().getName()
                + ", expected an array of integers");
    }
}
