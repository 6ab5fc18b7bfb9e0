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

    private static final Map<String, Function<Conf, FusionOperator>> KNOWN = new TreeMap<>(Map.of(
            ConcatFusion.NAME, settings -> new ConcatFusion()));

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
        return f.apply(Conf.parse(Json.write(spec.settings()), "fusion settings of a model spec", java.util.List.of()));
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
