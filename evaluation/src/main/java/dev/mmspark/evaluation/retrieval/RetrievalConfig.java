package dev.mmspark.evaluation.retrieval;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;

/**
 * The {@code evaluate.retrieval} section: how a common-space model (DSCMR) is evaluated.
 *
 * <pre>
 * retrieval {
 *   ks = [1, 5, 10, 50]            # cut-offs of precision@K and recall@K
 *   block_size = 1024              # queries / candidates per block (Spark partition) of the blockwise ranking
 *   baselines = [cca, raw_cosine]  # classical baselines on the same features (raw_cosine only where the two
 *                                  # modalities' features have the same dimension)
 *   cca {
 *     regularisation = 0.001       # ridge added to each covariance: this x its mean variance, on the diagonal
 *     components = 0               # canonical pairs kept (0: all, min of the two dimensions)
 *     correlation_power = 0        # scale component j by rho_j^power before the cosine (Gong et al. 2014 use 4)
 *   }
 * }
 * </pre>
 */
public record RetrievalConfig(List<Integer> ks, int blockSize, List<Baseline> baselines, CcaSettings cca)
        implements Serializable {

    public enum Baseline { CCA, RAW_COSINE }

    /**
     * @param regularisation   r: C + r * (trace C / dim) * I for each modality's covariance C
     * @param components       canonical pairs kept; 0 keeps all
     * @param correlationPower p: the projections' component j is multiplied by rho_j^p
     */
    public record CcaSettings(double regularisation, int components, double correlationPower) implements Serializable {
    }

    public RetrievalConfig {
        ks = List.copyOf(ks);
        baselines = List.copyOf(baselines);
    }

    public static RetrievalConfig defaults() {
        return from(Conf.empty());
    }

    public static RetrievalConfig from(Conf c) {
        List<Integer> ks = c.integers("ks", List.of(1, 5, 10, 50), n -> n >= 1 && n <= 1_000_000,
                "between 1 and 1000000");
        if (ks.isEmpty() || new HashSet<>(ks).size() != ks.size()) {
            throw new ConfigException("config key '" + c.full("ks") + "': expected distinct cut-offs, found " + ks);
        }
        int block = c.integer("block_size", 1024, n -> n >= 1 && n <= 10_000_000, "between 1 and 10000000");
        List<Baseline> baselines = new ArrayList<>();
        for (String s : c.strings("baselines", List.of("cca", "raw_cosine"))) {
            try {
                Baseline b = Baseline.valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
                if (baselines.contains(b)) {
                    throw new IllegalArgumentException();
                }
                baselines.add(b);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("config key '" + c.full("baselines") + "': expected distinct entries of "
                        + Conf.enumNames(Baseline.class) + ", found '" + s + "'");
            }
        }
        Conf cc = c.section("cca");
        CcaSettings cca = new CcaSettings(
                cc.number("regularisation", 1e-3, x -> x >= 0 && x <= 1e6, "in [0, 1e6]"),
                cc.integer("components", 0, n -> n >= 0 && n <= 100_000, "between 0 and 100000 (0: all)"),
                cc.number("correlation_power", 0, x -> x >= 0 && x <= 100, "in [0, 100]"));
        return new RetrievalConfig(ks, block, baselines, cca);
    }
}
