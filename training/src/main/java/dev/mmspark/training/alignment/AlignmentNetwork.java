package dev.mmspark.training.alignment;

import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One model instance on one worker: the structure encoder ({@link GraphAttention}, plain Java) feeding the
 * model's SameDiff head ({@link HeadGraph}). {@link #step} computes the loss of a minibatch of aligned pairs
 * and the gradient of every parameter; {@link #embed} the joint embeddings of entities. Parameters live outside
 * (a {@link ParamSet} the trainer owns and averages); the instance holds the prepared inputs, the two graphs
 * (training, inference) and reusable gradient buffers. Not thread-safe: one task uses it at a time.
 */
public final class AlignmentNetwork {
    /** Entities per inference batch of {@link #embed}. */
    static final int EMBED_BATCH = 4096;

    private final AlignmentSpec spec;
    private final EntityFeatures features;
    private final GraphAttention gat;
    private final Map<Modality, Integer> inputDims = new EnumMap<>(Modality.class);
    private final DataType dataType;
    private HeadGraph train;
    private HeadGraph infer;
    private ParamSet grads;
    private int[] touchedEntities = new int[0];

    /**
     * @param dataType of the SameDiff head: FLOAT for training, DOUBLE for gradient checks
     */
    public AlignmentNetwork(AlignmentData data, AlignmentSpec spec, DataType dataType) {
        this.spec = spec;
        this.dataType = dataType;
        this.features = EntityFeatures.build(data, spec.modalities(), spec.relationTop(), spec.attributeTop());
        this.gat = spec.hasStructure() ? new GraphAttention(data.tensors().adjacency(), spec.gat()) : null;
        for (Modality m : spec.modalities()) {
            inputDims.put(m, m == Modality.STRUCTURE ? spec.gat().dim() : features.dim(m));
        }
    }

    public AlignmentSpec spec() {
        return spec;
    }

    public EntityFeatures features() {
        return features;
    }

    public Map<Modality, Integer> inputDims() {
        return Map.copyOf(inputDims);
    }

    /** Fresh parameters: the structure encoder's and the head's, from one seeded generator. */
    public ParamSet init(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        ParamSet p = new ParamSet();
        if (gat != null) {
            GraphAttention.init(p, features.entities(), spec.gat(), rng);
        }
        spec.initHead(p, inputDims, rng);
        return p;
    }

    /** Size of the joint embedding. */
    public int jointDim(ParamSet p) {
        return inference(p).jointDim();
    }

    private HeadGraph training(ParamSet p) {
        if (train == null) {
            train = spec.buildHead(p, inputDims, true, dataType);
        }
        return train;
    }

    private HeadGraph inference(ParamSet p) {
        if (infer == null) {
            infer = spec.buildHead(p, inputDims, false, dataType);
        }
        return infer;
    }

    /** A minibatch's loss and the gradients of all parameters (a buffer reused by the next step). */
    public record Step(double loss, ParamSet gradients) {
    }

    /**
     * Loss and gradients for the pairs {@code (left[i], right[i])}.
     *
     * @param rng draws the dropout masks of the head (when it has dropout)
     */
    public Step step(ParamSet p, int[] left, int[] right, SplittableRandom rng) {
        if (left.length != right.length || left.length < 2) {
            throw new IllegalArgumentException("a minibatch needs at least 2 pairs, got " + left.length);
        }
        HeadGraph head = training(p);
        int b = left.length;
        Map<String, INDArray> feed = new HashMap<>();
        GraphAttention.Forward forward = null;
        int d = spec.hasStructure() ? spec.gat().dim() : 0;
        if (gat != null) {
            int[] targets = new int[2 * b];
            System.arraycopy(left, 0, targets, 0, b);
            System.arraycopy(right, 0, targets, b, b);
            forward = gat.forward(p, gat.blocks(targets), true);
            float[] l = new float[b * d];
            float[] r = new float[b * d];
            for (int t = 0; t < b; t++) {
                forward.target(t, d, l, t * d);
                forward.target(b + t, d, r, t * d);
            }
            setInput(head, HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L), array(l, b, d));
            setInput(head, HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.R), array(r, b, d));
        }
        feedSide(feed, left, HeadGraph.Side.L);
        feedSide(feed, right, HeadGraph.Side.R);
        for (HeadGraph.Dropout drop : head.dropouts()) {
            feed.put(drop.name(), dropoutMask(drop, b, rng));
        }
        setParams(head, p);
        List<String> wrt = new ArrayList<>(head.params());
        if (gat != null) {
            wrt.add(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L));
            wrt.add(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.R));
        }
        OutAndGrad og = head.sd().calculateGradientsAndOutputs(feed, List.of(head.loss()), wrt);
        double loss = og.getOutputs().get(head.loss()).getDouble(0);
        ParamSet g = gradients(p);
        for (String name : head.params()) {
            INDArray gradient = og.getGradients().get(name);
            if (gradient == null) {
                throw new IllegalStateException("no gradient for parameter '" + name + "'; have "
                        + og.getGradients().keySet());
            }
            float[] src = floats(gradient);
            System.arraycopy(src, 0, g.get(name), 0, src.length);
        }
        if (gat != null) {
            float[] dTargets = new float[2 * b * d];
            float[] dl = floats(og.getGradients().get(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L)));
            float[] dr = floats(og.getGradients().get(HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.R)));
            System.arraycopy(dl, 0, dTargets, 0, b * d);
            System.arraycopy(dr, 0, dTargets, b * d, b * d);
            gat.backward(p, forward, dTargets, g);
            touchedEntities = forward.blocks.inputs();
        }
        return new Step(loss, g);
    }

    /** Zeroes the gradient buffer after an update (only the entity rows the last step touched). */
    public void clearGradients() {
        if (grads == null) {
            return;
        }
        for (String name : grads.names()) {
            if (!name.equals(GraphAttention.ENTITY)) {
                java.util.Arrays.fill(grads.get(name), 0f);
            }
        }
        if (grads.has(GraphAttention.ENTITY)) {
            float[] ge = grads.get(GraphAttention.ENTITY);
            int d = spec.gat().dim();
            for (int e : touchedEntities) {
                java.util.Arrays.fill(ge, e * d, (e + 1) * d, 0f);
            }
        }
        touchedEntities = new int[0];
    }

    private ParamSet gradients(ParamSet p) {
        if (grads == null) {
            grads = p.zerosLike();
        }
        return grads;
    }

    /**
     * The joint embeddings of {@code entities} (rows of {@code entities.length × jointDim}), from one full-graph
     * pass of the structure encoder and batches through the inference head.
     */
    public float[] embed(ParamSet p, int[] entities) {
        HeadGraph head = inference(p);
        setParams(head, p);
        double[] structure = null;
        int d = spec.hasStructure() ? spec.gat().dim() : 0;
        if (gat != null) {
            structure = gat.forward(p, gat.fullGraph(), false).output;
        }
        int dim = head.jointDim();
        float[] out = new float[entities.length * dim];
        for (int from = 0; from < entities.length; from += EMBED_BATCH) {
            int to = Math.min(entities.length, from + EMBED_BATCH);
            int[] rows = java.util.Arrays.copyOfRange(entities, from, to);
            Map<String, INDArray> feed = new HashMap<>();
            if (structure != null) {
                float[] s = new float[rows.length * d];
                for (int r = 0; r < rows.length; r++) {
                    for (int k = 0; k < d; k++) {
                        s[r * d + k] = (float) structure[rows[r] * d + k];
                    }
                }
                setInput(head, HeadGraph.input(Modality.STRUCTURE, HeadGraph.Side.L), array(s, rows.length, d));
            }
            feedSide(feed, rows, HeadGraph.Side.L);
            float[] joint = floats(head.sd().output(feed, head.joint()).get(head.joint()));
            System.arraycopy(joint, 0, out, from * dim, joint.length);
        }
        return out;
    }

    /** Inputs and masks of every non-structure modality, and the structure mask, for one side. */
    private void feedSide(Map<String, INDArray> feed, int[] rows, HeadGraph.Side side) {
        int b = rows.length;
        for (Modality m : spec.modalities()) {
            float[] mask = new float[b];
            if (m == Modality.STRUCTURE) {
                java.util.Arrays.fill(mask, 1f);
            } else {
                int dim = features.dim(m);
                float[] x = new float[b * dim];
                features.fill(m, rows, x, mask);
                feed.put(HeadGraph.input(m, side), array(x, b, dim));
            }
            feed.put(HeadGraph.mask(m, side), Nd4j.createFromArray(mask).castTo(dataType));
        }
    }

    /** The values of an array in row-major order, as float32. */
    static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').reshape(a.length()).toFloatVector();
    }

    private INDArray array(float[] v, int rows, int cols) {
        return Nd4j.createFromArray(v).reshape(rows, cols).castTo(dataType);
    }

    private INDArray dropoutMask(HeadGraph.Dropout drop, int batch, SplittableRandom rng) {
        long[] shape = new long[drop.shape().length + 1];
        shape[0] = batch;
        System.arraycopy(drop.shape(), 0, shape, 1, drop.shape().length);
        long n = ParamSet.length(shape);
        float[] v = new float[Math.toIntExact(n)];
        float keep = (float) (1 / (1 - drop.rate()));
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextDouble() < drop.rate() ? 0f : keep;
        }
        return Nd4j.createFromArray(v).reshape(shape).castTo(dataType);
    }

    private static void setInput(HeadGraph head, String name, INDArray value) {
        head.sd().getVariable(name).setArray(value);
    }

    private void setParams(HeadGraph head, ParamSet p) {
        SameDiff sd = head.sd();
        for (String name : head.params()) {
            INDArray arr = Nd4j.createFromArray(p.get(name)).reshape(p.shape(name)).castTo(dataType);
            sd.getVariable(name).setArray(arr);
        }
    }
}
