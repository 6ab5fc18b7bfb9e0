package dev.mmspark.training.model;

import dev.mmspark.features.FeatureTableMetadata;

import java.io.Serializable;

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
}
