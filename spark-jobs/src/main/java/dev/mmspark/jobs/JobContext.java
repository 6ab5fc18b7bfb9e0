package dev.mmspark.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mmspark.common.io.Json;
import org.apache.spark.sql.SparkSession;

/** What a job gets: the validated config, the command-line flags and a running SparkSession. */
public record JobContext(PlatformConfig config, SparkSession spark, boolean overwrite, boolean resume,
                         boolean dryRun) {

    /** The resolved configuration, recorded in every output's metadata. */
    public JsonNode resolvedConfig() {
        return Json.tree(config.root().toJson());
    }
}
