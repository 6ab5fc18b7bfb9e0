package dev.mmspark.features;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureExtractionTest {
    @TempDir
    Path tmp;

    static FeatureExtraction.Result extract(String dataset, String output, String extra) {
        SparkSession spark = SparkTestSession.get();
        Conf conf = Conf.parse("dataset { path = \"" + dataset + "\" }\nextract { output = \"" + output + "\"\n"
                + "text { dim = 16, word2vec_iterations = 1 }\n" + extra + "}");
        DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
        ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
        BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "test");
        return FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, false, bad, null);
    }

    @Test
    void syntheticDatasetBecomesAFeatureTable() {
        String ds = TestData.synthetic(tmp, "ds", 120, 3);
        FeatureExtraction.Result r = extract(ds, tmp.resolve("features").toString(), "image { size = 16 }");
        FeatureTableMetadata m = r.metadata();
        assertEquals(120, m.totalRows());
        assertEquals(List.of("c0", "c1", "c2"), m.classes());
        assertEquals(List.of("image", "text", "tags"), m.modalityNames());
        FeatureTable t = FeatureTable.open(SparkTestSession.get(), r.output());
        Row first = t.rows().orderBy("id").first();
        Row withImage = t.rows().where("image_present").orderBy("id").first();
        assertEquals(3 * 16 * 16, withImage.getList(withImage.fieldIndex("image_values")).size());
        assertEquals(List.of(3, 16, 16), m.modality("image").shape());
        assertTrue(t.vocabulary("text").size() > 10);
        assertEquals(16, t.embeddings("text")[2].length);
    }
}
