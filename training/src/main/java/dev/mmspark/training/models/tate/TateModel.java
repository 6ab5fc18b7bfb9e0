package dev.mmspark.training.models.tate;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;

/**
 * TATE (Zeng, Liu &amp; Zhou, "Tag-assisted Multimodal Sentiment Analysis under Uncertain Missing Modalities",
 * SIGIR 2022; official code {@code JaydenZeng/TATE}): robustness to missing modalities. Any sample may lack any
 * modality; a missing tag of M + 1 bits says which, and is appended to every token. Per-modality self-attention
 * encoders, a common space through shared pair matrices, a Transformer encoder over the tagged tokens of all
 * modalities, a decoder that reconstructs them, sigmoid-attention pooling and a classifier; the encoder is pulled
 * towards the encoder of the same network trained first on complete data (the teacher), by a KL term in both
 * directions. Registered as {@value #NAME}; settings in {@link TateParams}, network in {@link TateNetwork},
 * missing patterns in {@link TateBatchBuilder}, objective in {@link TateLoss}, and the deviations from the
 * official code listed in {@link TateCore} and {@link TateLoss}.
 */
public final class TateModel implements SampleModelDefinition {
    public static final String NAME = "tate";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Zeng, Liu & Zhou, Tag-assisted Multimodal Sentiment Analysis under Uncertain Missing Modalities, "
                + "SIGIR 2022 (JaydenZeng/TATE)";
    }

    @Override
    public ModelParams parseParams(Conf section) {
        return TateParams.parse(section);
    }

    @Override
    public Class<? extends ModelSpec> specType() {
        return TateSpec.class;
    }

    /** {@inheritDoc} (TATE fuses by its Transformer over every modality's tokens (no fusion operator).) */
    @Override
    public boolean takesFusion() {
        return false;
    }
}
