package dev.mmspark.training.models.meaformer;

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
 * MEAformer's specification with the official run script's values as defaults ({@code zjukg/MEAformer
 * run_meaformer.sh}, {@code config.py}):
 * <pre>
 * model {
 *   name = meaformer
 *   modalities = [structure, relation, attribute, image, name, char]   # default: all (narrowed to the table's)
 *   dim = 300              # every modality embedding and the Transformer (--hidden_size, --*_dim 300)
 *   gat_layers = 2
 *   gat_heads = 2          # --heads default "2,2"
 *   heads = 1              # Transformer attention heads (--num_attention_heads 1)
 *   layers = 1             # Transformer layers (--num_hidden_layers 1)
 *   intermediate = 400     # feed-forward size (--intermediate_size default 400, --use_intermediate 1)
 *   dropout = 0.1          # dropout of the BERT-style layer (attention probabilities and both outputs)
 *   tau = 0.1              # ICL temperature
 *   ab_weight = 0.5
 *   relation_top = 1000
 *   attribute_top = 1000
 * }
 * </pre>
 */
public record MEAformerSpec(List<Modality> modalities, GraphAttention.Spec gat, int heads, int layers,
                            int intermediate, double dropout, double tau, double abWeight, int relationTop,
                            int attributeTop) implements AlignmentSpec {

    /** AdamW 5e-4 with decay 1e-4, cosine schedule with 15% warmup, clipping at 1, batch 3500. */
    public static final OptimizerSpec OPTIMIZER = new OptimizerSpec(3500, 5e-4, 1e-4,
            OptimizerSpec.Schedule.COSINE, 0.15, 1.0);

    public MEAformerSpec {
        modalities = Modality.ordered(modalities);
        if (modalities.isEmpty() || heads < 1 || gat.dim() % heads != 0 || layers < 1 || intermediate < 1
                || dropout < 0 || dropout >= 1 || !(tau > 0) || abWeight < 0 || abWeight > 1) {
            throw new IllegalArgumentException("invalid MEAformer spec");
        }
    }

    static MEAformerSpec parse(Conf c) {
        List<Modality> modalities = ModelConf.modalities(c, MEAformer.INSTANCE.defaultModalities());
        int dim = ModelConf.dim(c, "dim", 300);
        GraphAttention.Spec gat = ModelConf.gat(c, dim);
        int heads = c.integer("heads", 1, n -> n >= 1 && dim % n == 0, "that divides dim (" + dim + ")");
        int layers = c.integer("layers", 1, n -> n >= 1 && n <= 12, "between 1 and 12");
        int intermediate = ModelConf.dim(c, "intermediate", 400);
        double dropout = c.number("dropout", 0.1, x -> x >= 0 && x < 1, "in [0, 1)");
        double tau = ModelConf.positive(c, "tau", 0.1);
        double ab = ModelConf.fraction(c, "ab_weight", 0.5);
        return new MEAformerSpec(modalities, gat, heads, layers, intermediate, dropout, tau, ab,
                ModelConf.top(c, "relation_top"), ModelConf.top(c, "attribute_top"));
    }

    @Override
    public String model() {
        return MEAformer.NAME;
    }

    @Override
    public AlignmentSpec withModalities(List<Modality> m) {
        return new MEAformerSpec(m, gat, heads, layers, intermediate, dropout, tau, abWeight, relationTop,
                attributeTop);
    }

    /** The size of every modality embedding and of the Transformer. */
    public int dim() {
        return gat.dim();
    }

    @Override
    public OptimizerSpec optimizer() {
        return OPTIMIZER;
    }

    @Override
    public void initHead(ParamSet p, Map<Modality, Integer> inputDims, SplittableRandom rng) {
        MEAformerGraph.init(this, p, inputDims, rng);
    }

    @Override
    public HeadGraph buildHead(ParamSet p, Map<Modality, Integer> inputDims, boolean training, DataType dataType) {
        return MEAformerGraph.build(this, new HeadBuilder(p, inputDims, dataType), training);
    }
}
