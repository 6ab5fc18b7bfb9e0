package dev.mmspark.training.models.mclea;

import dev.mmspark.common.config.Conf;
import dev.mmspark.training.alignment.AlignmentSpec;
import dev.mmspark.training.alignment.GraphAttention;
import dev.mmspark.training.alignment.HeadBuilder;
import dev.mmspark.training.alignment.HeadGraph;
import dev.mmspark.training.alignment.ModelConf;
import dev.mmspark.training.alignment.Modality;
import dev.mmspark.training.alignment.OptimizerSpec;
import dev.mmspark.training.alignment.ParamSet;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MCLEA's specification with the paper's and the official run script's values as defaults
 * ({@code lzxlin/MCLEA run_dbp15k.sh}):
 * <pre>
 * model {
 *   name = mclea
 *   modalities = [structure, relation, attribute, image, name, char]   # default: all (narrowed to the table's)
 *   dim = 300              # GAT units (--hidden_units "300,300,300")
 *   gat_layers = 2
 *   gat_heads = 2          # the reference's default --heads "2,2"
 *   modality_dim = 100     # relation, attribute, image, name and char embeddings (--attr_dim, --img_dim, --char_dim)
 *   tau = 0.1              # ICL temperature
 *   tau2 = 4.0             # IAL temperature
 *   ab_weight = 0.5        # weight of the left→right direction in both losses
 *   zoom = 0.1             # IAL scale (applied as in the reference, see MCLEALoss)
 *   relation_top = 1000    # relations in the relation bag
 *   attribute_top = 1000   # attributes in the attribute bag
 * }
 * </pre>
 */
public record MCLEASpec(List<Modality> modalities, GraphAttention.Spec gat, int modalityDim, double tau, double tau2,
                        double abWeight, double zoom, int relationTop, int attributeTop) implements AlignmentSpec {

    /** MCLEA trains with Adam(W) at 5e-4, batch 512 ({@code --bsize 512}), torch's AdamW decay, no schedule. */
    public static final OptimizerSpec OPTIMIZER = new OptimizerSpec(512, 5e-4, 0.01,
            OptimizerSpec.Schedule.CONSTANT, 0, 0);

    public MCLEASpec {
        modalities = Modality.ordered(modalities);
        if (modalities.isEmpty() || modalityDim < 1 || !(tau > 0) || !(tau2 > 0) || abWeight < 0 || abWeight > 1
                || zoom < 0 || relationTop < 1 || attributeTop < 1) {
            throw new IllegalArgumentException("invalid MCLEA spec");
        }
    }

    static MCLEASpec parse(Conf c) {
        List<Modality> modalities = ModelConf.modalities(c, MCLEA.INSTANCE.defaultModalities());
        int dim = ModelConf.dim(c, "dim", 300);
        GraphAttention.Spec gat = ModelConf.gat(c, dim);
        int modalityDim = ModelConf.dim(c, "modality_dim", 100);
        double tau = ModelConf.positive(c, "tau", 0.1);
        double tau2 = ModelConf.positive(c, "tau2", 4.0);
        double ab = ModelConf.fraction(c, "ab_weight", 0.5);
        double zoom = c.number("zoom", 0.1, x -> x >= 0, ">= 0");
        return new MCLEASpec(modalities, gat, modalityDim, tau, tau2, ab, zoom, ModelConf.top(c, "relation_top"),
                ModelConf.top(c, "attribute_top"));
    }

    @Override
    public String model() {
        return MCLEA.NAME;
    }

    @Override
    public AlignmentSpec withModalities(List<Modality> m) {
        return new MCLEASpec(m, gat, modalityDim, tau, tau2, abWeight, zoom, relationTop, attributeTop);
    }

    @Override
    public OptimizerSpec optimizer() {
        return OPTIMIZER;
    }

    /** The size of a modality's embedding: the GAT's for structure, {@code modality_dim} for the others. */
    public int dim(Modality m) {
        return m == Modality.STRUCTURE ? gat.dim() : modalityDim;
    }

    @Override
    public void initHead(ParamSet p, Map<Modality, Integer> inputDims, SplittableRandom rng) {
        MCLEAGraph.init(this, p, inputDims, rng);
    }

    @Override
    public HeadGraph buildHead(ParamSet p, Map<Modality, Integer> inputDims, boolean training, DataType dataType) {
        return MCLEAGraph.build(this, new HeadBuilder(p, inputDims, dataType), training);
    }
}
