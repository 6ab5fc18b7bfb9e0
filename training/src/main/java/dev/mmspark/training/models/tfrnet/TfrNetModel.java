package dev.mmspark.training.models.tfrnet;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;

/**
 * TFR-Net (Yuan, Li, Xu, Yu, Shi &amp; Zhou, ACM MM 2021): robustness to random missing frames. Training shows the
 * model a damaged copy of every sequence (a share of its frames dropped); per-modality intra- and cross-modal
 * Transformers encode it, a generator per modality reconstructs the complete sequence (loss on the dropped
 * positions only), and gated per-modality encoders feed the classifier. Registered as {@value #NAME}; settings
 * in {@link TfrNetParams}, network in {@link TfrNetNetwork}.
 */
public final class TfrNetModel implements SampleModelDefinition {
    public static final String NAME = "tfrnet";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Yuan, Li, Xu, Yu, Shi & Zhou, Transformer-based Feature Reconstruction Network for Robust Multimodal "
                + "Sentiment Analysis, ACM Multimedia 2021 (thuiar/TFR-Net)";
    }

    @Override
    public ModelParams parseParams(Conf section) {
        return TfrNetParams.parse(section);
    }

    @Override
    public Class<? extends ModelSpec> specType() {
        return TfrNetSpec.class;
    }
}
