package dev.mmspark.evaluation.sweep;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.evaluation.samples.EvaluateConfig;
import dev.mmspark.training.ModelRegistry;
import dev.mmspark.training.TrainConfig;
import dev.mmspark.training.model.SampleModelDefinition;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The {@code sweep} section: a grid of training runs, each trained once and evaluated under every
 * missing-modality rate, all appended to the leaderboard. Validated at load (every combination's
 * {@code train} and {@code evaluate} settings are parsed), before Spark starts.
 *
 * <pre>
 * sweep {
 *   name = synthetic-fusions            # recorded as sweep_id in every row
 *   features = [work/quickstart/features]   # feature tables (one axis)
 *   models = [multitask]                # registered model names (one axis)
 *   fusions = [concat, { name = mcb, mm_dim = 4000 }]   # train.model.fusion values (one axis); [] = the
 *                                       # model's default; an object sets the operator's sizes (label mcb{mm_dim=4000});
 *                                       # models without a fusion operator (tate, dscmr) run once per seed
 *   grid { learning_rate = [0.001, 0.003], "model.representation_dim" = [64, 128] }  # train keys x values
 *   random { samples = 0, seed = 1, params { learning_rate { min = 1e-4, max = 1e-2, scale = log } } }
 *   seeds = [1, 2, 3]                   # train.seed values (one axis)
 *   missing_rates = [0, 0.3, 0.6]       # evaluate.missing.modality_rates of every run (not an axis of training)
 *   rank_by = accuracy                  # metric the summary ranks and tests by
 *   output = work/sweep/models          # model directories, one per run id
 *   execution = auto                    # auto, parallel (one worker per run, runs side by side), distributed
 *   parallel_runs = 2                   # small runs trained at once
 *   small_run_max_rows = 50000          # auto: runs on tables with at most this many training rows are small
 *   train { ... }                       # base train settings (every train key except features/output)
 *   per_model { misa { model { patch_size = 8 }, learning_rate = 0.0001 } }  # train settings of one model,
 *                                       # over the base (models have different keys and defaults)
 *   evaluate { ... }                    # base evaluate settings (every evaluate key except model/features)
 * }
 * </pre>
 */
public record SweepSpec(String name, List<String> features, List<String> models, List<String> fusions,
                        List<Axis> grid, List<Double> missingRates, List<Long> seeds, String rankBy, String output,
                        Execution execution, int parallelRuns, long smallRunMaxRows, Config trainBase,
                        Map<String, Config> perModel, Config evaluateBase) {

    /** How runs are trained. */
    public enum Execution {
        /** {@link #PARALLEL} for tables with at most {@code small_run_max_rows} training rows, else distributed. */
        AUTO,
        /** One worker per run (one training task), {@code parallel_runs} runs at once. */
        PARALLEL,
        /** One run at a time, parameter averaging over {@code train.workers} workers. */
        DISTRIBUTED
    }

    /** One hyperparameter axis: a {@code train} key (relative, e.g. {@code model.representation_dim}) and its values. */
    public record Axis(String key, List<ConfigValue> values) {
    }

    /** Keys with their own axis or set by the sweep; a grid may not name them. */
    private static final Set<String> RESERVED = Set.of("features", "output", "work_dir", "seed", "model.name",
            "model.fusion", "workers");

    public static SweepSpec from(Conf c) {
        String name = c.requireString("name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new ConfigException("config key '" + c.full("name") + "': expected letters, digits, '.', '_' or '-',"
                    + " found '" + name + "' (" + c.origin("name") + ")");
        }
        List<String> features = nonEmpty(c, "features", c.strings("features", List.of()));
        List<String> models = nonEmpty(c, "models", c.strings("models", List.of()));
        List<String> fusions = fusionLabels(c);
        List<Long> seeds = new ArrayList<>();
        for (double s : nonEmpty(c, "seeds", c.numbers("seeds", List.of(), x -> x == Math.rint(x) && Math.abs(x) < 1e15,
                "that are integers"))) {
            seeds.add((long) s);
        }
        List<Double> rates = c.numbers("missing_rates", List.of(), x -> x >= 0 && x <= 1, "in [0, 1]");
        String rankBy = c.string("rank_by", "accuracy");
        String output = c.requireString("output");
        Execution execution = c.enumValue("execution", Execution.class, Execution.AUTO);
        int parallel = c.integer("parallel_runs", 2, n -> n >= 1 && n <= 1000, "between 1 and 1000");
        long smallRows = c.longValue("small_run_max_rows", 50_000, n -> n >= 0, "of at least 0");

        List<Axis> grid = new ArrayList<>(gridAxes(c));
        grid.addAll(randomAxes(c.section("random")));
        Config trainBase = c.has("train") ? c.section("train").raw() : ConfigFactory.empty();
        Config evaluateBase = c.has("evaluate") ? c.section("evaluate").raw() : ConfigFactory.empty();
        // Settings of one model over the base: the models of one sweep have different keys (MISA's
        // patch_size means nothing to the multitask model) and different official defaults.
        Map<String, Config> perModel = new LinkedHashMap<>();
        if (c.has("per_model")) {
            Conf pm = c.section("per_model");
            for (String m : new java.util.TreeSet<>(pm.keys())) {
                if (!models.contains(m)) {
                    throw new ConfigException("config key '" + pm.full(m) + "': '" + m + "' is not one of sweep.models "
                            + models + " (" + pm.origin(m) + ")");
                }
                perModel.put(m, pm.section(m).raw());
            }
            c.stringMap("per_model");
        }
        Map<String, Config> trainSections = new LinkedHashMap<>();
        trainSections.put("train", trainBase);
        perModel.forEach((m, t) -> trainSections.put("per_model." + m, t));
        for (Map.Entry<String, Config> e : trainSections.entrySet()) {
            for (String k : List.of("features", "output", "work_dir", "seed")) {
                if (e.getValue().hasPath(k)) {
                    throw new ConfigException("config key '" + c.full(e.getKey() + "." + k) + "': a sweep sets it per"
                            + " run (" + (k.equals("seed") ? "use sweep.seeds" : k.equals("features")
                            ? "use sweep.features" : "under sweep.output") + ")");
                }
            }
            for (String k : List.of("model.name", "model.fusion", "workers")) {
                if (e.getValue() != trainBase && e.getValue().hasPath(k)) {
                    throw new ConfigException("config key '" + c.full(e.getKey() + "." + k) + "': a sweep sets it per"
                            + " run (use sweep.models, sweep.fusions, sweep.train.workers)");
                }
            }
        }
        for (String k : List.of("model", "features", "sweep_id")) {
            if (evaluateBase.hasPath(k)) {
                throw new ConfigException("config key '" + c.full("evaluate." + k) + "': a sweep sets it per run");
            }
        }
        // The base sections are validated below, per combination, by the same parsers the train and
        // evaluate commands use; mark them read here so the file-level unknown-key check leaves them to that.
        c.stringMap("train");
        c.stringMap("evaluate");
        c.stringMap("grid");
        SweepSpec spec = new SweepSpec(name, features, models, fusions, grid, rates, seeds, rankBy, output, execution,
                parallel, smallRows, trainBase, Map.copyOf(perModel), evaluateBase);
        for (Combination combo : spec.combinations()) {
            spec.resolve(combo, features.get(0), output + "/validation", 1);
        }
        return spec;
    }

    private static <T> List<T> nonEmpty(Conf c, String key, List<T> values) {
        if (values.isEmpty()) {
            throw new ConfigException("config key '" + c.full(key) + "' is required: a non-empty list ("
                    + c.origin(key) + ")");
        }
        return values;
    }

    private static List<Axis> gridAxes(Conf c) {
        if (!c.has("grid")) {
            return List.of();
        }
        List<Axis> out = new ArrayList<>();
        Config grid = c.section("grid").raw();
        for (Map.Entry<String, ConfigValue> e : new java.util.TreeMap<>(toMap(grid)).entrySet()) {
            String key = String.join(".", ConfigUtil.splitPath(e.getKey()));
            String full = c.full("grid") + "." + e.getKey();
            if (RESERVED.contains(key)) {
                throw new ConfigException("config key '" + full + "': '" + key + "' is set by the sweep itself"
                        + " (models, fusions, seeds, features, output, execution have their own keys)");
            }
            if (!(e.getValue() instanceof ConfigList list) || list.isEmpty()) {
                throw new ConfigException("config key '" + full + "': expected a non-empty list of values, found "
                        + e.getValue().render(ConfigRenderOptions.concise()) + " (" + e.getValue().origin().description()
                        + ")");
            }
            out.add(new Axis(key, List.copyOf(list)));
        }
        return out;
    }

    private static Map<String, ConfigValue> toMap(Config config) {
        Map<String, ConfigValue> m = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
            m.put(e.getKey(), e.getValue());
        }
        return m;
    }

    /**
     * Random search: {@code samples} draws of every parameter in {@code params}, one joint axis (the draws
     * are a function of {@code seed}, so the expanded runs and their ids are the same on every rerun).
     */
    private static List<Axis> randomAxes(Conf r) {
        int samples = r.integer("samples", 0, n -> n >= 0 && n <= 10_000, "between 0 and 10000");
        long seed = r.longValue("seed", 1, s -> true, "");
        Conf params = r.section("params");
        if (samples == 0) {
            r.stringMap("params");
            return List.of();
        }
        Random rnd = new Random(seed);
        List<String> keys = new ArrayList<>(new java.util.TreeSet<>(params.keys()));
        if (keys.isEmpty()) {
            throw new ConfigException("config key '" + r.full("params") + "': random.samples > 0 needs at least one"
                    + " parameter range");
        }
        List<double[]> ranges = new ArrayList<>();
        List<Boolean> logs = new ArrayList<>();
        List<Boolean> ints = new ArrayList<>();
        for (String k : keys) {
            Conf p = params.section(k);
            String key = String.join(".", ConfigUtil.splitPath(k));
            if (RESERVED.contains(key)) {
                throw new ConfigException("config key '" + p.path() + "': '" + key + "' is set by the sweep itself");
            }
            if (!p.has("min") || !p.has("max")) {
                throw new ConfigException("config key '" + p.path() + "': a range needs min and max");
            }
            boolean log = p.enumValue("scale", Scale.class, Scale.LINEAR) == Scale.LOG;
            double min = p.number("min", 0, x -> !log || x > 0, log ? "> 0 (log scale)" : "");
            double max = p.number("max", 0, x -> x > min, "greater than min");
            ranges.add(new double[]{min, max});
            logs.add(log);
            ints.add(p.bool("integer", false));
        }
        // One joint axis whose values are whole objects {key: value, ...}: draws of different parameters
        // stay together instead of being crossed with each other.
        List<ConfigValue> draws = new ArrayList<>();
        for (int s = 0; s < samples; s++) {
            Map<String, Object> draw = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                double u = rnd.nextDouble();
                double[] mm = ranges.get(i);
                double v = logs.get(i) ? Math.exp(Math.log(mm[0]) + u * (Math.log(mm[1]) - Math.log(mm[0])))
                        : mm[0] + u * (mm[1] - mm[0]);
                draw.put(String.join(".", ConfigUtil.splitPath(keys.get(i))),
                        ints.get(i) ? (Object) Math.round(v) : (Object) Double.parseDouble(String.format(Locale.ROOT,
                                "%.6g", v)));
            }
            draws.add(ConfigValueFactory.fromMap(draw));
        }
        return List.of(new Axis(RANDOM_AXIS, draws));
    }

    enum Scale { LINEAR, LOG }

    /** The key of the joint random-search axis; its values are objects of train key to value. */
    static final String RANDOM_AXIS = "<random>";

    /** One point of the cross product, without the feature table. */
    public record Combination(String model, String fusion, Map<String, ConfigValue> params, long seed) {
        /** e.g. {@code multitask concat learning_rate=0.003 seed=2}. */
        public String label() {
            StringBuilder b = new StringBuilder(model);
            if (fusion != null) {
                b.append(' ').append(fusion);
            }
            params.forEach((k, v) -> b.append(' ').append(k).append('=').append(render(v)));
            return b.append(" seed=").append(seed).toString();
        }
    }

    /** Every combination of models x fusions x grid x random draws x seeds, in a stable order. */
    public List<Combination> combinations() {
        List<Map<String, ConfigValue>> points = new ArrayList<>();
        points.add(new LinkedHashMap<>());
        for (Axis a : grid) {
            List<Map<String, ConfigValue>> next = new ArrayList<>();
            for (Map<String, ConfigValue> p : points) {
                for (ConfigValue v : a.values()) {
                    Map<String, ConfigValue> q = new LinkedHashMap<>(p);
                    if (a.key().equals(RANDOM_AXIS)) {
                        for (Map.Entry<String, Object> e : ((com.typesafe.config.ConfigObject) v).unwrapped()
                                .entrySet()) {
                            q.put(e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
                        }
                    } else {
                        q.put(a.key(), v);
                    }
                    next.add(q);
                }
            }
            points = next;
        }
        List<Combination> out = new ArrayList<>();
        for (String m : models) {
            // a model without a fusion operator (TATE, DSCMR) is not crossed with the fusion axis: it runs once
            // per point and seed with fusion = null (an unknown model is reported when its run is resolved)
            boolean crossed = !fusions.isEmpty()
                    && ModelRegistry.find(m).map(SampleModelDefinition::takesFusion).orElse(true);
            List<String> fusionAxis = crossed ? fusions : java.util.Collections.singletonList(null);
            for (String f : fusionAxis) {
                for (Map<String, ConfigValue> p : points) {
                    for (long s : seeds) {
                        out.add(new Combination(m, f, p, s));
                    }
                }
            }
        }
        return out;
    }

    /** A combination's train and evaluate settings, parsed and validated like the train and evaluate commands'. */
    public record Resolved(TrainConfig train, EvaluateConfig evaluate) {
    }

    /**
     * Parses one run's settings: the base sections with the run's values and paths as overrides.
     *
     * @param workers {@code train.workers} of this run (1 for a parallel run)
     */
    public Resolved resolve(Combination combo, String featureTable, String modelDir, int workers) {
        List<String> overrides = new ArrayList<>();
        overrides.add("train.features=" + quote(featureTable));
        overrides.add("train.output=" + quote(modelDir));
        overrides.add("train.model.name=" + quote(combo.model()));
        if (combo.fusion() != null) {
            overrides.add("train.model.fusion=" + fusionOverride(combo.fusion()));
        }
        combo.params().forEach((k, v) -> overrides.add("train." + k + "=" + v.render(ConfigRenderOptions.concise())));
        overrides.add("train.seed=" + combo.seed());
        overrides.add("train.workers=" + workers);
        overrides.add("evaluate.model=" + quote(modelDir));
        overrides.add("evaluate.features=" + quote(featureTable));
        overrides.add("evaluate.sweep_id=" + quote(name));
        overrides.add("evaluate.missing.modality_rates=" + ConfigValueFactory.fromIterable(missingRates)
                .render(ConfigRenderOptions.concise()));
        Config trainOfModel = perModel.containsKey(combo.model())
                ? perModel.get(combo.model()).withFallback(trainBase) : trainBase;
        Config base = ConfigFactory.empty().withValue("train", trainOfModel.root())
                .withValue("evaluate", evaluateBase.root());
        try {
            Conf conf = Conf.of(base, "sweep '" + name + "'", overrides);
            TrainConfig train = TrainConfig.from(conf.section("train"));
            EvaluateConfig evaluate = EvaluateConfig.from(conf.section("evaluate"));
            conf.rejectUnknownKeys();
            return new Resolved(train, evaluate);
        } catch (ConfigException e) {
            throw new ConfigException("sweep '" + name + "', run " + combo.label() + " (sweep.train / sweep.evaluate"
                    + " with the run's values): " + e.getMessage());
        }
    }

    /**
     * The fusion axis: names as given, objects ({@code { name = mcb, mm_dim = 4000 }}) as the label
     * {@code mcb{mm_dim=4000}} (settings sorted), which is what the {@code fusion} column of the results holds.
     */
    static List<String> fusionLabels(Conf c) {
        com.typesafe.config.ConfigValue v = c.rawValue("fusions");
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof com.typesafe.config.ConfigList list)) {
            return c.strings("fusions", List.of());
        }
        List<String> out = new ArrayList<>();
        for (com.typesafe.config.ConfigValue e : list) {
            if (e instanceof com.typesafe.config.ConfigObject o) {
                Object name = o.containsKey("name") ? o.get("name").unwrapped() : null;
                if (!(name instanceof String n) || n.isBlank()) {
                    throw new ConfigException("config key '" + c.full("fusions") + "': an operator object needs a "
                            + "'name', found " + o.render(ConfigRenderOptions.concise()) + " (" + c.origin("fusions")
                            + ")");
                }
                List<String> settings = new ArrayList<>();
                new java.util.TreeMap<>(o.withoutKey("name")).forEach((k, x) -> settings.add(k + "=" + render(x)));
                out.add(n + "{" + String.join(",", settings) + "}");
            } else if (e.valueType() == com.typesafe.config.ConfigValueType.STRING) {
                out.add((String) e.unwrapped());
            } else {
                throw new ConfigException("config key '" + c.full("fusions") + "': expected operator names or objects "
                        + "such as { name = mcb, mm_dim = 4000 }, found " + e.render(ConfigRenderOptions.concise())
                        + " (" + c.origin("fusions") + ")");
            }
        }
        return List.copyOf(out);
    }

    /** The {@code train.model.fusion} value of a fusion label: a name, or {@code {name = …, settings}}. */
    static String fusionOverride(String label) {
        int brace = label.indexOf('{');
        if (brace < 0) {
            return quote(label);
        }
        String body = label.substring(brace + 1, label.length() - 1);
        return "{name = " + quote(label.substring(0, brace)) + (body.isEmpty() ? "" : ", " + body) + "}";
    }

    private static String quote(String s) {
        return ConfigValueFactory.fromAnyRef(s).render(ConfigRenderOptions.concise());
    }

    private static String render(ConfigValue v) {
        return v.valueType() == com.typesafe.config.ConfigValueType.STRING ? String.valueOf(v.unwrapped())
                : v.render(ConfigRenderOptions.concise());
    }
}
