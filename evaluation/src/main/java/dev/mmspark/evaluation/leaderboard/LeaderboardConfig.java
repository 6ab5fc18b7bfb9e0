package dev.mmspark.evaluation.leaderboard;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;

import java.io.Serializable;

/**
 * The {@code leaderboard} section: where result tables live. Tables are Iceberg tables in a Hadoop
 * (directory) catalog: no server, atomic appends, time travel, and the same table names from any Spark
 * session configured with the catalog (README "Querying the leaderboard").
 *
 * @param warehouse the catalog's warehouse directory (local path, hdfs://, s3a://)
 * @param catalog   the Spark SQL catalog name the tables are registered under
 * @param namespace the namespace (database) inside the catalog
 * @param table     the results table name
 */
public record LeaderboardConfig(String warehouse, String catalog, String namespace, String table)
        implements Serializable {

    public static LeaderboardConfig from(Conf c) {
        String warehouse = c.string("warehouse", "work/warehouse");
        String catalog = c.string("catalog", "mmspark");
        String namespace = c.string("namespace", "leaderboard");
        String table = c.string("table", "results");
        for (String[] kv : new String[][]{{"catalog", catalog}, {"namespace", namespace}, {"table", table}}) {
            if (!kv[1].matches("[a-z][a-z0-9_]*")) {
                throw new ConfigException("config key '" + c.full(kv[0]) + "': expected a lower-case SQL identifier"
                        + " (letters, digits, '_'), found '" + kv[1] + "'");
            }
        }
        return new LeaderboardConfig(warehouse, catalog, namespace, table);
    }

    public static LeaderboardConfig defaults() {
        return from(Conf.empty());
    }

    /** {@code catalog.namespace.table}, the name to use in Spark SQL. */
    public String qualifiedName() {
        return catalog + "." + namespace + "." + table;
    }

    public String qualified(String tableName) {
        return catalog + "." + namespace + "." + tableName;
    }
}
