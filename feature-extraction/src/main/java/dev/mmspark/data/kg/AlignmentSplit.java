package dev.mmspark.data.kg;

import dev.mmspark.data.Split;
import dev.mmspark.data.SplitAssigner;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

import java.io.Serializable;

import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY1;
import static dev.mmspark.data.kg.KnowledgeGraphPair.ENTITY2;
import static dev.mmspark.data.kg.KnowledgeGraphPair.SPLIT;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

/**
 * The seeded train/test split of aligned entity pairs ("seed alignments"). MCLEA and MEAformer train on a
 * random 30% of DBP15K's 15,000 pairs and test on the other 70%; here the random draw is
 * {@link SplitAssigner#unit}(seed, "entity1 TAB entity2"), so a pair's split depends only on the seed and the
 * pair: not on partitioning, order, or which other pairs are present. Recording (seed, train fraction)
 * reproduces the split exactly.
 */
public record AlignmentSplit(long seed, double trainFraction) implements Serializable {
    /** The share of pairs used for training in MCLEA / MEAformer's DBP15K protocol. */
    public static final double DEFAULT_TRAIN_FRACTION = 0.3;

    public AlignmentSplit {
        if (!(trainFraction > 0 && trainFraction < 1)) {
            throw new IllegalArgumentException("alignment train fraction must be in (0, 1), found " + trainFraction);
        }
    }

    /** The default 30% / 70% split. */
    public AlignmentSplit(long seed) {
        this(seed, DEFAULT_TRAIN_FRACTION);
    }

    /** TRAIN or TEST for one pair. */
    public Split assign(int entity1, int entity2) {
        return SplitAssigner.unit(seed, entity1 + "\t" + entity2) < trainFraction ? Split.TRAIN : Split.TEST;
    }

    /** The pairs with a {@code split} column ({@code train} / {@code test}) added. */
    public Dataset<Row> apply(Dataset<Row> pairs) {
        UDF2<Integer, Integer, String> f = (a, b) -> assign(a, b).id();
        UserDefinedFunction split = udf(f, DataTypes.StringType).asNonNullable();
        return pairs.withColumn(SPLIT, split.apply(col(ENTITY1), col(ENTITY2)));
    }

    /** The same graphs with split pairs. */
    public KnowledgeGraphPair apply(KnowledgeGraphPair kg) {
        return kg.withPairs(apply(kg.pairs()));
    }

    /** Pair counts per split. */
    public record Counts(long train, long test) {
        public long total() {
            return train + test;
        }
    }

    /** Counts the pairs of each split in a Dataset returned by {@link #apply(Dataset)}. */
    public static Counts counts(Dataset<Row> splitPairs) {
        long train = 0;
        long test = 0;
        for (Row r : splitPairs.groupBy(SPLIT).count().collectAsList()) {
            Split s = Split.parse(r.getString(0));
            if (s == Split.TRAIN) {
                train = r.getLong(1);
            } else if (s == Split.TEST) {
                test = r.getLong(1);
            } else {
                throw new IllegalArgumentException("pairs hold split '" + r.getString(0)
                        + "'; expected train or test");
            }
        }
        return new Counts(train, test);
    }
}
