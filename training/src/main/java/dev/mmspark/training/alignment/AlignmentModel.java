package dev.mmspark.training.alignment;

import dev.mmspark.common.config.Conf;

/**
 * A registered entity-alignment model: its name, the paper it implements, and how its {@code train.model}
 * config section becomes a validated {@link AlignmentSpec}.
 */
public interface AlignmentModel {
    String name();

    /** The paper, for logs and metadata. */
    String reference();

    /**
     * Parses and validates the model section (every key but {@code name}, which selected this model). An absent
     * {@code modalities} key gives {@link #defaultModalities()}; the trainer narrows that to what the KG table
     * has, while an explicit list must be available.
     */
    AlignmentSpec parse(Conf model);

    /** The paper's modality set. */
    java.util.List<Modality> defaultModalities();
}
