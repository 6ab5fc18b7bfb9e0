package dev.mmspark.training.models.dscmr;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.model.ModelParams;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.SampleModelDefinition;

/**
 * Deep Supervised Cross-Modal Retrieval (Zhen, Hu, Wang &amp; Peng, CVPR 2019): an image and a text
 * subnetwork whose last layer is shared map both modalities into one common space, trained with a label-space
 * loss through a shared linear classifier, a common-space discrimination loss over image/text, image/image
 * and text/text pairs, and a modality-invariance loss. Registered as {@value #NAME}; see {@link DscmrParams}
 * for the settings, {@link DscmrNetwork} for the network and {@link DscmrLoss} for the losses. Evaluated by
 * cross-modal retrieval ({@code evaluate} on a DSCMR model ranks texts for image queries and images for text
 * queries).
 */
public final class DscmrModel implements SampleModelDefinition {
    public static final String NAME = "dscmr";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String reference() {
        return "Zhen, Hu, Wang & Peng, Deep Supervised Cross-Modal Retrieval, CVPR 2019 "
                + "(reference code penghu-cs/DSCMR)";
    }

    @Override
    public ModelParams parseParams(Conf section) {
        return DscmrParams.parse(section);
    }

    @Override
    public Class<? extends ModelSpec> specType() {
        return DscmrSpec.class;
    }

    /** {@inheritDoc} (DSCMR maps each modality into a common space; there is no fused vector.) */
    @Override
    public boolean takesFusion() {
        return false;
    }
}
