package dev.mmspark.training.models.multitask;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;

/**
 * The multimodal multitask emotion model (Page-Fortin &amp; Chaib-draa, ICMR WCRML 2019): image, text and
 * tag branches, one classifier per non-empty subset of the modalities, trained on any mix of complete and
 * incomplete samples and predicting from whichever modalities a sample has. Registered as
 * {@value #NAME}; see {@link MultitaskParams} for the settings and {@link MultitaskNetwork} for the network.
 */
public final class MultitaskModel implements SampleModelDefinition {
    public static final String NAME = "multitask";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Page-Fortin & Chaib-draa, Multimodal Multitask Emotion Recognition using Images, Texts and Tags, "
                + "ICMR Workshop on Crossmodal Learning and Application (WCRML) 2019";
    }

    @Override
    public ModelParams parseParams(Conf section) {
        return MultitaskParams.parse(section);
    }

    @Override
    public Class<? extends ModelSpec> specType() {
        return MultitaskSpec.class;
    }
}
