package dev.mmspark.training.fusion;

import com.typesafe.config.ConfigValueType;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.common.io.Json;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The fusion operators a model config can name. To add one: implement {@link FusionOperator} and register
 * a factory here that reads (and thereby validates) its settings from a {@link Conf} view.
 */
public final class Fusions {

    private static final int MAX = 1_000_000;
    private static final String SIZE = "between 1 and 1000000";

    private static final Map<String, Function<Conf, FusionOperator>> KNOWN = new TreeMap<>();

    static {
        KNOWN.put(ConcatFusion.NAME, c -> new ConcatFusion());
        KNOWN.put("sum", c -> {
            int dim = size(c, "dim", 300);
            return new VertexFusion("sum", s -> new WeightedSumVertex(s, dim));
        });
        KNOWN.put("attention", c -> {
            int dim = size(c, "dim", 300);
            return new VertexFusion("attention", s -> new AttentionVertex(s, dim));
        });
        KNOWN.put("gmu", c -> {
            int dim = size(c, "dim", 300);
            return new VertexFusion("gmu", s -> new GmuVertex(s, dim));
        });
        KNOWN.put("tfn", c -> {
            int dim = c.integer("dim", 16, n -> n >= 0 && n <= 1000, "between 0 and 1000 (0: no projection)");
            return new VertexFusion("tfn", s -> {
                long out = 1;
                for (int d : s) {
                    out *= (dim > 0 ? dim : d) + 1;
                }
                if (out > 10_000_000) {
                    throw new IllegalArgumentException("fusion tfn of inputs " + java.util.Arrays.toString(s)
                            + " with dim " + dim + " would output " + out + " values per sample; lower '"
                            + c.full("dim") + "'");
                }
                return new TfnVertex(s, dim);
            });
        });
        KNOWN.put("lmf", c -> {
            int rank = c.integer("rank", 4, n -> n >= 1 && n <= 1000, "between 1 and 1000");
            int out = size(c, "output_dim", 300);
            return new VertexFusion("lmf", s -> new LmfVertex(s, rank, out));
        });
        KNOWN.put("mcb", c -> {
            int mm = size(c, "mm_dim", 16000);
            int out = size(c, "output_dim", 300);
            long seed = c.longValue("seed", 1L, n -> true, "");
            return new VertexFusion("mcb", s -> new McbVertex(s, mm, out, seed));
        });
        KNOWN.put("mlb", c -> {
            int mm = size(c, "mm_dim", 1200);
            int out = size(c, "output_dim", 300);
            boolean norm = c.bool("normalize", false);
            return new VertexFusion("mlb", s -> new MlbVertex(s, mm, out, norm));
        });
        KNOWN.put("mfb", c -> mfb(c, "mfb", 1));
        KNOWN.put("mfh", c -> mfb(c, "mfh", 2));
        KNOWN.put("mutan", c -> {
            int mm = size(c, "mm_dim", 1600);
            int rank = c.integer("rank", 15, n -> n >= 1 && n <= 1000, "between 1 and 1000");
            int out = size(c, "output_dim", 300);
            boolean norm = c.bool("normalize", false);
            return new VertexFusion("mutan", s -> new MutanVertex(s, mm, rank, out, norm));
        });
        KNOWN.put("block", c -> {
            int mm = size(c, "mm_dim", 1600);
            int chunks = c.integer("chunks", 20, n -> n >= 1 && n <= 10_000, "between 1 and 10000");
            int rank = c.integer("rank", 15, n -> n >= 1 && n <= 1000, "between 1 and 1000");
            int out = size(c, "output_dim", 300);
            if (chunks > mm) {
                throw new ConfigException("config key '" + c.full("chunks") + "': " + chunks + " chunks of mm_dim "
                        + mm + " would leave some empty; use at most " + mm);
            }
            BlockVertex.chunkSizes(mm, chunks);
            return new VertexFusion("block", s -> new BlockVertex(s, mm, chunks, rank, out));
        });
    }

    private static int size(Conf c, String key, int def) {
        return c.integer(key, def, n -> n >= 1 && n <= MAX, SIZE);
    }

    /** MFB is MFH with one stage (Yu et al. 2018 build MFH by cascading MFB blocks). */
    private static FusionOperator mfb(Conf c, String name, int defaultStages) {
        int mm = size(c, "mm_dim", 1200);
        int factor = c.integer("factor", 2, n -> n >= 1 && n <= 100, "between 1 and 100 (sum-pooling window)");
        int stages = name.equals("mfb") ? 1
                : c.integer("stages", defaultStages, n -> n >= 2 && n <= 10, "between 2 and 10 (cascaded MFB blocks)");
        int out = size(c, "output_dim", 300);
        boolean norm = c.bool("normalize", false);
        return new VertexFusion(name, s -> new MfbVertex(s, mm, factor, stages, out, norm));
    }

    private Fusions() {
    }

    public static String knownNames() {
        return String.join(", ", KNOWN.keySet());
    }

    /**
     * Reads the fusion at {@code key} of {@code parent}: a name, or an object with {@code name} and the
     * operator's settings; absent means {@code defaultName}. Unknown names and bad settings fail here, naming
     * the key.
     */
    public static FusionSpec parse(Conf parent, String key, String defaultName) {
        boolean isObject = parent.has(key) && parent.raw().getValue(key).valueType() == ConfigValueType.OBJECT;
        if (!isObject) {
            String name = parent.string(key, defaultName);
            factory(name, parent.full(key));
            return FusionSpec.of(name);
        }
        Conf section = parent.section(key);
        String name = section.requireString("name");
        Function<Conf, FusionOperator> f = factory(name, section.full("name"));
        f.apply(section);
        Map<String, Object> settings = new LinkedHashMap<>(section.raw().root().unwrapped());
        settings.remove("name");
        return new FusionSpec(name, settings);
    }

    /** The operator a spec describes (settings are validated again: a spec may come from a saved model). */
    public static FusionOperator operator(FusionSpec spec) {
        Function<Conf, FusionOperator> f = factory(spec.name(), "fusion");
        Conf settings = Conf.parse(Json.write(spec.settings()), "fusion settings of a model spec", java.util.List.of());
        FusionOperator op = f.apply(settings);
        settings.rejectUnknownKeys();
        return op;
    }

    private static Function<Conf, FusionOperator> factory(String name, String key) {
        Function<Conf, FusionOperator> f = KNOWN.get(name);
        if (f == null) {
            throw new ConfigException("config key '" + key + "': unknown fusion '" + name + "'; known fusions: "
                    + knownNames());
        }
        return f;
    }
}
