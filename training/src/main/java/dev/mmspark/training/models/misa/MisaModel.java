package dev.mmspark.training.models.misa;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;

/**
 * MISA (Hazarika, Zimmermann &amp; Poria, ACM MM 2020): modality-invariant (shared) and modality-specific
 * (private) representations of each modality's utterance vector, kept apart by CMD similarity, soft
 * orthogonality and reconstruction losses, fused by a Transformer layer over the six vectors. Registered as
 * {@value #NAME}; settings in {@link MisaParams}, network in {@link MisaNetwork}.
 */
public final class MisaModel implements SampleModelDefinition {
    public static final String NAME = "misa";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Hazarika, Zimmermann & Poria, MISA: Modality-Invariant and -Specific Representations for Multimodal "
                + "Sentiment Analysis, ACM Multimedia 2020 (declare-lab/MISA)";
    }

    @Override
    public ModelParams parseParams(Conf section) {
        return MisaParams.parse(section);
    }

    @Override
    public Class<? extends ModelSpec> specType() {
        return MisaSpec.class;
    }
}
