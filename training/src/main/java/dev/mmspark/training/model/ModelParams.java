package dev.mmspark.training.model;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.features.FeatureTableMetadata;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;

/**
 * A model's user settings, parsed and validated from its config section before Spark starts (every key
 * with its default, every bad value reported with its key path). Settings that depend on the data -- which
 * modalities exist, their dimensions, vocabulary sizes, class names -- are added by {@link #resolve}.
 */
public interface ModelParams extends Serializable {

    /**
     * Checks that the feature table has what the model needs and returns the complete, self-contained
     * description of the network to build for it.
     *
     * @throws dev.mmspark.common.config.ConfigException or {@link dev.mmspark.common.InputException} naming
     *         the key or modality at fault
     */
    ModelSpec resolve(FeatureTableMetadata table, String tablePath);

    /**
     * The {@code modalities} key of a model that reads several modalities by name (MISA, TFR-Net, TATE):
     * lower-case names, none twice, and not exactly one ({@code []} = the model's default choice).
     *
     * @param model      the model's name in the error message
     * @param whyTwo     why the model needs two or more, for the error message
     */
    static List<String> modalityNames(Conf c, String model, String whyTwo) {
        List<String> mods = c.strings("modalities", List.of());
        for (String m : mods) {
            if (!m.matches("[a-z][a-z0-9_]*")) {
                throw new ConfigException("config key '" + c.full("modalities") + "': expected modality names (lower-case "
                        + "letters, digits, '_'), found '" + m + "'");
            }
        }
        if (new HashSet<>(mods).size() != mods.size()) {
            throw new ConfigException("config key '" + c.full("modalities") + "': a modality is listed twice: " + mods);
        }
        if (mods.size() == 1) {
            throw new ConfigException("config key '" + c.full("modalities") + "': " + model + " needs at least two "
                    + "modalities (" + whyTwo + "), found " + mods);
        }
        return mods;
    }
}
