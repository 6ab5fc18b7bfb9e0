package dev.mmspark.training.alignment;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Shared pieces of the model heads: variables from a {@link ParamSet}, the per-side inputs and masks, and the
 * modality encoders (MCLEA {@code MultiModalEncoder}: structure passes through, every other modality is one
 * {@code nn.Linear} of its input row).
 */
public final class HeadBuilder {
    private final SameDiff sd = SameDiff.create();
    private final ParamSet params;
    private final Map<Modality, Integer> inputDims;
    private final DataType dataType;
    private final List<String> used = new ArrayList<>();
    private final List<HeadGraph.Dropout> dropouts = new ArrayList<>();

    public HeadBuilder(ParamSet params, Map<Modality, Integer> inputDims, DataType dataType) {
        this.params = params;
        this.inputDims = inputDims;
        this.dataType = dataType;
    }

    public SameDiff sd() {
        return sd;
    }

    public DataType dataType() {
        return dataType;
    }

    /** The variable of a parameter, created from its current value on first use. */
    public SDVariable param(String name) {
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        long[] shape = params.shape(name);
        SDVariable v = sd.var(name, Nd4j.createFromArray(params.get(name)).castTo(dataType).reshape(shape));
        used.add(name);
        return v;
    }

    /**
     * The input of a modality for one side: a placeholder, except for the structure embeddings, which are a
     * variable whose value the trainer sets every step. (SameDiff M2.1 returns the gradient of a placeholder only
     * when some op consuming it also has a trainable input; the structure embeddings feed normalisations and
     * products with each other only, and their gradient is what the graph encoder back-propagates.)
     */
    public SDVariable input(Modality m, HeadGraph.Side s, int dim) {
        String name = HeadGraph.input(m, s);
        if (sd.hasVariable(name)) {
            return sd.getVariable(name);
        }
        return m == Modality.STRUCTURE ? sd.var(name, Nd4j.zeros(dataType, 1, dim))
                : sd.placeHolder(name, dataType, -1, dim);
    }

    public SDVariable mask(Modality m, HeadGraph.Side s) {
        String name = HeadGraph.mask(m, s);
        return sd.hasVariable(name) ? sd.getVariable(name) : sd.placeHolder(name, dataType, -1);
    }

    /** A dropout mask input [B, shape...] (training graphs only). */
    public SDVariable dropout(String name, double rate, long... shape) {
        long[] full = new long[shape.length + 1];
        full[0] = -1;
        System.arraycopy(shape, 0, full, 1, shape.length);
        dropouts.add(new HeadGraph.Dropout(name, rate, shape.clone()));
        return sd.placeHolder(name, dataType, full);
    }

    /** y = x·W + b with the parameters {@code prefix.W} [in, out] and {@code prefix.b} [out]. */
    public SDVariable linear(String prefix, SDVariable x) {
        return sd.mmul(x, param(prefix + ".W")).add(param(prefix + ".b"));
    }

    /** Adds the parameters of the non-structure encoders: one linear layer per modality, torch's init. */
    public static void initEncoders(ParamSet p, List<Modality> modalities, Map<Modality, Integer> inputDims,
                                    int outDim, java.util.SplittableRandom rng) {
        for (Modality m : modalities) {
            if (m != Modality.STRUCTURE) {
                p.linear(m.id(), inputDims.get(m), outDim, rng);
            }
        }
    }

    /** Encoded modality embeddings of one side, in modality order. */
    public Map<Modality, SDVariable> encode(List<Modality> modalities, HeadGraph.Side s, int structureDim) {
        Map<Modality, SDVariable> out = new LinkedHashMap<>();
        for (Modality m : modalities) {
            if (m == Modality.STRUCTURE) {
                out.put(m, input(m, s, structureDim));
            } else {
                out.put(m, linear(m.id(), input(m, s, inputDims.get(m))));
            }
        }
        return out;
    }

    /** Presence masks of one side, in modality order. */
    public Map<Modality, SDVariable> masks(List<Modality> modalities, HeadGraph.Side s) {
        Map<Modality, SDVariable> out = new LinkedHashMap<>();
        for (Modality m : modalities) {
            out.put(m, mask(m, s));
        }
        return out;
    }

    /** 1 where any modality is present: 1 − Π(1 − mask_m). */
    public SDVariable anyPresent(Map<Modality, SDVariable> masks) {
        SDVariable absentAll = null;
        for (SDVariable m : masks.values()) {
            SDVariable absent = m.rsub(1.0);
            absentAll = absentAll == null ? absent : absentAll.mul(absent);
        }
        return absentAll.rsub(1.0);
    }

    public HeadGraph build(SDVariable loss, SDVariable joint, int jointDim) {
        String lossName = null;
        if (loss != null) {
            loss.rename("loss");
            sd.setLossVariables("loss");
            lossName = "loss";
        }
        joint.rename("joint");
        return new HeadGraph(sd, List.copyOf(used), lossName, "joint", jointDim, List.copyOf(dropouts));
    }
}
