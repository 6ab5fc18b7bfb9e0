package dev.mmspark.training.models.meaformer;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.alignment.AlignmentModel;
import dev.mmspark.training.alignment.AlignmentSpec;
import dev.mmspark.training.alignment.Modality;

import java.util.List;

/**
 * MEAformer: Multi-modal Entity Alignment Transformer for meta modality hybrid (Chen, Chen, Zhang, Geng, Pan,
 * Xiong, Fan, Chen; ACM MM 2023), reference code {@code zjukg/MEAformer}. The modality embeddings of each
 * entity pass through a Transformer layer whose cross-modal attention gives per-entity "meta" modality weights
 * for the joint embedding (early fusion); the layer's outputs are trained per modality too (late fusion)
 * with the same contrastive losses as MCLEA ({@link MEAformerLoss}).
 */
public final class MEAformer implements AlignmentModel {
    public static final String NAME = "meaformer";
    public static final MEAformer INSTANCE = new MEAformer();

    private MEAformer() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Chen et al., MEAformer: Multi-modal Entity Alignment Transformer for Meta Modality Hybrid, ACM MM 2023";
    }

    @Override
    public AlignmentSpec parse(Conf model) {
        return MEAformerSpec.parse(model);
    }

    @Override
    public List<Modality> defaultModalities() {
        return List.of(Modality.values());
    }
}
