package dev.mmspark.training.models.mclea;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.alignment.AlignmentModel;
import dev.mmspark.training.alignment.AlignmentSpec;
import dev.mmspark.training.alignment.Modality;

import java.util.List;

/**
 * MCLEA: Multi-modal Contrastive Learning based Entity Alignment (Lin, Zhang, Wang, Shi, Wang, Zhou; COLING
 * 2022), reference code {@code lzxlin/MCLEA}. Per-modality encoders (GAT over the structure, linear layers over
 * relation, attribute, image, name and character features), a weighted concatenation as the joint embedding,
 * intra-modal contrastive losses for every modality and the joint embedding, inter-modal KL alignment of each
 * modality towards the joint distribution, and learned uncertainty weights ({@link MCLEALoss}).
 */
public final class MCLEA implements AlignmentModel {
    public static final String NAME = "mclea";
    public static final MCLEA INSTANCE = new MCLEA();

    private MCLEA() {
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Lin et al., Multi-modal Contrastive Representation Learning for Entity Alignment, COLING 2022";
    }

    @Override
    public AlignmentSpec parse(Conf model) {
        return MCLEASpec.parse(model);
    }

    @Override
    public List<Modality> defaultModalities() {
        return List.of(Modality.values());
    }
}
