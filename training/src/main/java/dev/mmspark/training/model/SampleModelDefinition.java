package dev.mmspark.training.model;

import dev.mmspark.common.config.Conf;

/**
 * A per-sample model trained as one DL4J {@code ComputationGraph}, registered by name in
 * {@link dev.mmspark.training.ModelRegistry}. The definition only parses settings; everything else hangs off
 * the resolved {@link ModelSpec}. See the package documentation of {@code dev.mmspark.training} for how a model plugs in.
 */
public interface SampleModelDefinition {

    /** The registry name used in configs ({@code train.model.name}) and saved models. */
    String name();

    /** The paper the model implements, for logs and metadata. */
    String reference();

    /**
     * Parses the model's config section (the keys besides {@code name}); every key read is marked known, so
     * a misspelt one is reported by {@link Conf#rejectUnknownKeys()}.
     */
    ModelParams parseParams(Conf section);

    /** The spec record type, to read a saved model's spec back from {@code metadata.json}. */
    Class<? extends ModelSpec> specType();

    /**
     * Whether the model's section takes a {@code fusion} operator ({@code train.model.fusion}). A sweep crosses
     * only these models with its fusion axis; the others (TATE, DSCMR: their papers fix how modalities meet) run
     * once per seed with an empty {@code fusion} column, instead of failing on an unknown key.
     */
    default boolean takesFusion() {
        return true;
    }
}
