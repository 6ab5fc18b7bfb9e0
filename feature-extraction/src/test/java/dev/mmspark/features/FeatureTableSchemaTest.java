package dev.mmspark.features;

import dev.mmspark.common.InputException;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A feature table whose Parquet no longer matches its metadata.json is refused before training reads it. */
class FeatureTableSchemaTest {
    @TempDir
    Path tmp;

    /** A real table, then its features/ rewritten by {@code edit} (as a user's own tooling might). */
    private String tableWith(java.util.function.UnaryOperator<Dataset<Row>> edit) {
        String ds = TestData.synthetic(tmp, "ds", 30, 3);
        String out = tmp.resolve("features").toString();
        FeatureExtractionTest.extract(ds, out, "image { size = 8 }");
        SparkSession spark = SparkTestSession.get();
        Dataset<Row> rows = spark.read().parquet(out + "/features").cache();
        rows.count();
        edit.apply(rows).write().mode(SaveMode.Overwrite).parquet(out + "/features-edited");
        rows.unpersist();
        // swap the directories so the table's own metadata.json now describes the edited Parquet
        java.io.File f = new java.io.File(out, "features");
        org.apache.commons.io.FileUtils.deleteQuietly(f);
        if (!new java.io.File(out, "features-edited").renameTo(f)) {
            throw new IllegalStateException("rename failed");
        }
        return out;
    }

    @Test
    void missingColumnIsNamedWithTheColumnsFound() {
        String t = tableWith(d -> d.drop("tags_ids"));
        SparkSession spark = SparkTestSession.get();
        List<String> found = Arrays.asList(spark.read().parquet(t + "/features").schema().fieldNames());
        InputException e = assertThrows(InputException.class, () -> FeatureTable.open(spark, t));
        assertEquals("feature table " + t + ": column 'tags_ids' is missing (expected array<int>); found columns "
                + found, e.getMessage());
    }

    @Test
    void mistypedColumnIsNamedWithFoundAndExpectedType() {
        String t = tableWith(d -> d.withColumn("label_index", col("label_index").cast("string")));
        InputException e = assertThrows(InputException.class, () -> FeatureTable.open(SparkTestSession.get(), t));
        assertEquals("feature table " + t + ": column 'label_index' has type string, expected int", e.getMessage());
    }
}
