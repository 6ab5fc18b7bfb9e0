package dev.mmspark.data;

import dev.mmspark.common.config.ConfigException;
import dev.mmspark.data.mvsa.MvsaSingleReader;
import dev.mmspark.data.wikipedia.WikipediaXmodalReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** Reads any supported per-sample dataset into {@link SampleSchema}. */
public final class Datasets {
    private Datasets() {
    }

    public static Dataset<Row> read(SparkSession spark, DatasetConfig cfg, BadRecords bad) {
        return switch (cfg.format()) {
            case MANIFEST -> ManifestReader.read(spark, cfg.path(), bad);
            case MVSA_SINGLE -> MvsaSingleReader.read(spark, cfg.path(), new MvsaSingleReader.Options(
                    cfg.splitAssigner(), new TextDecoding(cfg.textEncodings()), cfg.hashtagsInText()), bad);
            case WIKIPEDIA_XMODAL -> WikipediaXmodalReader.read(spark, cfg.path(), cfg.splitSeed(),
                    cfg.validationFraction(), bad);
            case DBP15K -> throw new ConfigException("dataset.format = dbp15k is a knowledge-graph dataset: it is "
                    + "extracted by the knowledge-graph extraction, not as per-sample features");
        };
    }
}
