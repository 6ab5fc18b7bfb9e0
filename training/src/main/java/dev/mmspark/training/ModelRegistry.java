package dev.mmspark.training;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.training.model.SampleModelDefinition;
import dev.mmspark.training.models.dscmr.DscmrModel;
import dev.mmspark.training.models.misa.MisaModel;
import dev.mmspark.training.models.multitask.MultitaskModel;
import dev.mmspark.training.models.tate.TateModel;
import dev.mmspark.training.models.tfrnet.TfrNetModel;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The models this build can train and load, by name. A new model adds one line to {@link #MODELS}.
 */
public final class ModelRegistry {

    private static final Map<String, SampleModelDefinition> MODELS = register(
            new MultitaskModel(),
            new DscmrModel(),
            new MisaModel(),
            new TfrNetModel(),
            new TateModel());

    private ModelRegistry() {
    }

    private static Map<String, SampleModelDefinition> register(SampleModelDefinition... definitions) {
        Map<String, SampleModelDefinition> m = new TreeMap<>();
        for (SampleModelDefinition d : definitions) {
            if (m.put(d.name(), d) != null) {
                throw new IllegalStateException("two models are registered as '" + d.name() + "'");
            }
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(m));
    }

    public static Set<String> names() {
        return MODELS.keySet();
    }

    public static Optional<SampleModelDefinition> find(String name) {
        return Optional.ofNullable(MODELS.get(name));
    }

    /**
     * The model called {@code name}.
     *
     * @param where what named it, for the message, e.g. "config key 'train.model.name'"
     * @throws MmsparkException ({@link ExitCode#BAD_CONFIG}) listing the known names
     */
    public static SampleModelDefinition require(String name, String where) {
        SampleModelDefinition d = MODELS.get(name);
        if (d == null) {
            throw new MmsparkException(ExitCode.BAD_CONFIG, where + ": unknown model '" + name + "'; known models: "
                    + String.join(", ", MODELS.keySet()));
        }
        return d;
    }
}
