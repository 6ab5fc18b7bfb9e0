package dev.mmspark.features.text;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A token vocabulary: id 0 is padding, id 1 the unknown token, then tokens by descending training-split
 * frequency (ties by token) so ids are deterministic. Built with a distributed count; only the (small)
 * vocabulary itself reaches the driver.
 */
public final class Vocabulary implements Serializable {
    public static final int PAD = 0;
    public static final int UNK = 1;
    public static final String PAD_TOKEN = "<pad>";
    public static final String UNK_TOKEN = "<unk>";

    public static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.IntegerType, false)
            .add("token", DataTypes.StringType, false)
            .add("count", DataTypes.LongType, false);

    private final List<String> tokens;
    private final List<Long> counts;
    private final Map<String, Integer> index;

    public Vocabulary(List<String> tokens, List<Long> counts) {
        this.tokens = List.copyOf(tokens);
        this.counts = List.copyOf(counts);
        this.index = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            index.put(tokens.get(i), i);
        }
    }

    /** Counts tokens (one list per record) and keeps those seen at least {@code minCount} times. */
    public static Vocabulary build(JavaRDD<List<String>> tokenLists, int minCount, int maxSize) {
        JavaPairRDD<String, Long> counts = tokenLists
                .flatMap(List::iterator)
                .mapToPair(t -> new Tuple2<>(t, 1L))
                .reduceByKey(Long::sum)
                .filter(t -> t._2() >= minCount);
        List<Tuple2<String, Long>> top = counts.takeOrdered(Math.max(0, maxSize - 2), new ByCountThenToken());
        List<String> tokens = new ArrayList<>(List.of(PAD_TOKEN, UNK_TOKEN));
        List<Long> cs = new ArrayList<>(List.of(0L, 0L));
        for (Tuple2<String, Long> t : top) {
            tokens.add(t._1());
            cs.add(t._2());
        }
        return new Vocabulary(tokens, cs);
    }

    /** Orders by count descending, then token ascending. */
    static final class ByCountThenToken implements java.util.Comparator<Tuple2<String, Long>>, Serializable {
        @Override
        public int compare(Tuple2<String, Long> a, Tuple2<String, Long> b) {
            int c = Long.compare(b._2(), a._2());
            return c != 0 ? c : a._1().compareTo(b._1());
        }
    }

    public int size() {
        return tokens.size();
    }

    public int id(String token) {
        Integer i = index.get(token);
        return i == null ? UNK : i;
    }

    public String token(int id) {
        return tokens.get(id);
    }

    public List<String> tokens() {
        return Collections.unmodifiableList(tokens);
    }

    public Dataset<Row> toDataFrame(SparkSession spark) {
        List<Row> rows = new ArrayList<>(tokens.size());
        for (int i = 0; i < tokens.size(); i++) {
            rows.add(RowFactory.create(i, tokens.get(i), counts.get(i)));
        }
        // Slices of ~500 KB: a single local relation this size makes Spark warn about task size.
        int slices = Math.max(1, rows.size() * 8 / 500_000 + 1);
        return spark.createDataFrame(org.apache.spark.api.java.JavaSparkContext.fromSparkContext(
                spark.sparkContext()).parallelize(rows, slices), SCHEMA);
    }

    public static Vocabulary fromDataFrame(Dataset<Row> df) {
        List<Row> rows = df.orderBy("id").collectAsList();
        List<String> tokens = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (r.getInt(0) != i) {
                throw new IllegalStateException("vocabulary ids are not contiguous at " + i);
            }
            tokens.add(r.getString(1));
            counts.add(r.getLong(2));
        }
        return new Vocabulary(tokens, counts);
    }
}
