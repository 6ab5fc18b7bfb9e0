package dev.mmspark.features.image;

import dev.mmspark.common.config.ConfigException;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pretrained image network (a Keras 2 HDF5 file or a DL4J model zip) used as a fixed feature extractor:
 * the activations of one named layer are the image's features. For a layer with a spatial output (H x W
 * cells of D channels) {@link Embedding#pooled()} is the global average over the cells (D floats) and
 * {@link Embedding#regions()} the grid itself, R = H*W cells in row-major order (y, then x), each cell's D
 * channels contiguous: index {@code (y*W + x)*D + d}. For a layer with a vector output (a global pooling or
 * dense layer) the vector is the pooled embedding and there are no regions.
 *
 * <p>The network is cut after the feature layer when it is loaded: every vertex that does not feed the
 * feature layer (a classifier head, auxiliary branches) is removed, so no time is spent computing them.
 *
 * <p>Data layout: Keras models are channels-last and DL4J's Keras import keeps that (its convolution and
 * pooling layers are configured NHWC, so the input is {@code [N, H, W, 3]} and spatial activations are
 * {@code [N, H, W, D]}); DL4J's own models are usually NCHW. The input layout is read from the first
 * layers that consume the input and the feature layout from DL4J's shape inference; both are checked with a
 * forward pass of one blank image when the network is loaded.
 *
 * <p>Thread-safety: a DL4J network keeps per-call state in its layers and must not run two forward passes
 * at once. Instances are safe to share between threads: images are resized and converted in the calling
 * thread, and only the forward pass is serialised on the network. ND4J already spreads each operation over
 * all cores, so concurrent callers lose little by waiting for each other. {@link #shared} keeps one loaded
 * network per JVM (per Spark executor) for each model path, layer, input size and normalisation.
 */
public final class KerasImageBackbone implements ImageBackbone {
    private static final Logger LOG = LoggerFactory.getLogger(KerasImageBackbone.class);

    public static final int DEFAULT_INPUT_SIZE = 224;

    private static final Map<Key, FeatureNetwork> CACHE = new ConcurrentHashMap<>();

    /** What identifies a loaded network in the per-JVM cache. */
    private record Key(String modelPath, String featureLayer, int inputSize, Normalisation normalisation,
                       ImagePreprocessor.Resize resize) {
    }

    private final FeatureNetwork net;
    private final int batchSize;

    /** Loads the network now (not cached), resolving the path with a default Hadoop configuration. */
    public KerasImageBackbone(String modelPath, String featureLayer, int inputSize, Normalisation normalisation,
                              int batchSize) {
        this(new Configuration(), modelPath, featureLayer, inputSize, normalisation, batchSize);
    }

    /** Loads the network now (not cached); {@code hadoopConf} resolves the model path (HDFS, S3, local). */
    public KerasImageBackbone(Configuration hadoopConf, String modelPath, String featureLayer, int inputSize,
                              Normalisation normalisation, int batchSize) {
        this(checkBatchSize(batchSize), load(hadoopConf, new Key(modelPath, featureLayer, inputSize, normalisation,
                ImagePreprocessor.Resize.CROP)));
    }

    private KerasImageBackbone(int batchSize, FeatureNetwork net) {
        this.net = net;
        this.batchSize = batchSize;
    }

    private static int checkBatchSize(int batchSize) {
        if (batchSize < 1) {
            throw new ConfigException("backbone batch size must be at least 1, found " + batchSize);
        }
        return batchSize;
    }

    /**
     * The backbone for these settings, loading the network at most once per JVM: the first call loads it, later
     * calls (other tasks on the same executor) reuse it. The batch size is per backbone and does not reload.
     */
    public static KerasImageBackbone shared(Configuration hadoopConf, String modelPath, String featureLayer,
                                            int inputSize, Normalisation normalisation, int batchSize) {
        return shared(hadoopConf, modelPath, featureLayer, inputSize, normalisation, ImagePreprocessor.Resize.CROP,
                batchSize);
    }

    /** Like {@link #shared(Configuration, String, String, int, Normalisation, int)} with a resize mode. */
    public static KerasImageBackbone shared(Configuration hadoopConf, String modelPath, String featureLayer,
                                            int inputSize, Normalisation normalisation,
                                            ImagePreprocessor.Resize resize, int batchSize) {
        checkBatchSize(batchSize);
        Key key = new Key(modelPath, featureLayer, inputSize, normalisation, resize);
        return new KerasImageBackbone(batchSize, CACHE.computeIfAbsent(key, k -> load(hadoopConf, k)));
    }

    private static FeatureNetwork load(Configuration hadoopConf, Key key) {
        Objects.requireNonNull(hadoopConf, "hadoopConf");
        if (key.modelPath() == null || key.modelPath().isBlank()) {
            throw new ConfigException("backbone model path is empty");
        }
        if (key.featureLayer() == null || key.featureLayer().isBlank()) {
            throw new ConfigException("backbone feature layer name is empty (model " + key.modelPath() + ")");
        }
        if (key.inputSize() < 8) {
            throw new ConfigException("backbone input size must be at least 8 pixels, found " + key.inputSize());
        }
        if (key.normalisation() == null) {
            throw new ConfigException("backbone normalisation is missing (model " + key.modelPath() + ")");
        }
        long t0 = System.nanoTime();
        BackboneModelFile.Loaded loaded = BackboneModelFile.load(hadoopConf, key.modelPath());
        FeatureNetwork net = FeatureNetwork.cut(loaded, key);
        LOG.info("Backbone {} ({}) layer {}: input {}x{}x3 {}, features {} ({}), {} parameters kept; ready in {} ms",
                key.modelPath(), loaded.kind(), key.featureLayer(), key.inputSize(), key.inputSize(),
                net.inputFormat, net.describeOutput(), net.featureFormat == null ? "vector" : net.featureFormat,
                net.graph.numParams(), (System.nanoTime() - t0) / 1_000_000);
        return net;
    }

    @Override
    public int inputSize() {
        return net.preprocessor.size();
    }

    @Override
    public int pooledDim() {
        return net.channels;
    }

    @Override
    public int regionCount() {
        return net.gridH * net.gridW;
    }

    @Override
    public int regionDim() {
        return net.featureFormat == null ? 0 : net.channels;
    }

    /** Side of the region grid in cells (height, width); both 0 for a vector feature layer. */
    public int[] regionGrid() {
        return new int[]{net.gridH, net.gridW};
    }

    public int batchSize() {
        return batchSize;
    }

    /** Layout the network expects its input in (NHWC for Keras imports). */
    public CNN2DFormat inputFormat() {
        return net.inputFormat;
    }

    /** Layout of the feature layer's activations, or null when they are a vector. */
    public CNN2DFormat featureFormat() {
        return net.featureFormat;
    }

    /** Parameters of the network as cut after the feature layer. */
    public long parameterCount() {
        return net.graph.numParams();
    }

    /** True if both backbones run the same loaded network (what {@link #shared} guarantees per JVM). */
    boolean sharesNetworkWith(KerasImageBackbone other) {
        return net == other.net;
    }

    @Override
    public List<Embedding> embed(List<BufferedImage> images, boolean withRegions) {
        if (withRegions && regionCount() == 0) {
            throw new ConfigException("backbone layer " + net.featureLayer + " outputs a vector ("
                    + net.channels + " values), not a spatial grid, so it has no region vectors;"
                    + " choose a convolutional layer or do not ask for regions");
        }
        List<Embedding> out = new ArrayList<>(images.size());
        int s = inputSize();
        int perImage = 3 * s * s;
        for (int start = 0; start < images.size(); start += batchSize) {
            int n = Math.min(batchSize, images.size() - start);
            float[] pixels = new float[n * perImage];
            for (int i = 0; i < n; i++) {
                BufferedImage img = images.get(start + i);
                float[] one = net.inputFormat == CNN2DFormat.NHWC ? net.preprocessor.hwc(img) : net.preprocessor.chw(img);
                System.arraycopy(one, 0, pixels, i * perImage, perImage);
            }
            float[] act = net.forward(pixels, n);
            for (int i = 0; i < n; i++) {
                out.add(net.embedding(act, i, withRegions));
            }
        }
        return out;
    }

    /** The loaded network, cut after the feature layer, with what is known about its layouts and shapes. */
    private static final class FeatureNetwork {
        final ComputationGraph graph;
        /** The feature layer's vertex in {@link #graph}. */
        final String featureVertex;
        /** The feature layer's name as the user gave it (differs from the vertex for a MultiLayerNetwork). */
        final String featureLayer;
        final ImagePreprocessor preprocessor;
        final CNN2DFormat inputFormat;
        /** Layout of the feature activations; null when they are a vector [N, D]. */
        final CNN2DFormat featureFormat;
        final int gridH;
        final int gridW;
        final int channels;
        final DataType dataType;

        private FeatureNetwork(ComputationGraph graph, String featureVertex, String featureLayer,
                               ImagePreprocessor preprocessor, CNN2DFormat inputFormat, CNN2DFormat featureFormat,
                               int gridH, int gridW, int channels) {
            this.graph = graph;
            this.featureVertex = featureVertex;
            this.featureLayer = featureLayer;
            this.preprocessor = preprocessor;
            this.inputFormat = inputFormat;
            this.featureFormat = featureFormat;
            this.gridH = gridH;
            this.gridW = gridW;
            this.channels = channels;
            this.dataType = graph.params() == null ? DataType.FLOAT : graph.params().dataType();
        }

        static FeatureNetwork cut(BackboneModelFile.Loaded loaded, Key key) {
            ComputationGraph full = loaded.graph();
            ComputationGraphConfiguration conf = full.getConfiguration();
            String layer = loaded.vertexByLayerName().get(key.featureLayer());
            if (layer == null) {
                throw new ConfigException("backbone feature layer '" + key.featureLayer() + "' is not a layer of model "
                        + key.modelPath() + "; its layers are (input to output): "
                        + String.join(", ", loaded.vertexByLayerName().keySet()));
            }
            if (conf.getNetworkInputs().size() != 1) {
                throw new ConfigException("backbone model " + key.modelPath() + " has " + conf.getNetworkInputs().size()
                        + " inputs " + conf.getNetworkInputs() + "; an image backbone must have exactly one");
            }
            CNN2DFormat inputFormat = inputFormat(conf, key.modelPath());
            int s = key.inputSize();
            InputType inputType = InputType.convolutional(s, s, 3, inputFormat);
            InputType featureType;
            try {
                featureType = conf.getLayerActivationTypes(inputType).get(layer);
            } catch (RuntimeException e) {
                throw new ConfigException("backbone model " + key.modelPath() + " does not accept " + s + "x" + s
                        + "x3 images (" + BackboneModelFile.describe(e) + ")");
            }
            CNN2DFormat featureFormat;
            int h;
            int w;
            int d;
            if (featureType instanceof InputType.InputTypeConvolutional conv) {
                featureFormat = conv.getFormat();
                h = (int) conv.getHeight();
                w = (int) conv.getWidth();
                d = (int) conv.getChannels();
            } else if (featureType instanceof InputType.InputTypeFeedForward ff) {
                featureFormat = null;
                h = 0;
                w = 0;
                d = (int) ff.getSize();
            } else {
                throw new ConfigException("backbone feature layer '" + key.featureLayer() + "' of " + key.modelPath()
                        + " outputs " + featureType + "; expected a 2-D feature map or a vector");
            }

            ComputationGraph graph = truncate(full, layer);
            graph.getConfiguration().setInferenceWorkspaceMode(WorkspaceMode.ENABLED);
            FeatureNetwork net = new FeatureNetwork(graph, layer, key.featureLayer(),
                    new ImagePreprocessor(s, key.normalisation(), key.resize()),
                    inputFormat, featureFormat, h, w, d);
            net.checkWithBlankImage(key.modelPath());
            return net;
        }

        /**
         * The layout the network's input must have: that of the first layers (breadth-first from the input) that
         * declare one. Layers without a layout of their own (activations, padding) pass the input through.
         */
        private static CNN2DFormat inputFormat(ComputationGraphConfiguration conf, String modelPath) {
            Map<String, List<String>> inputs = conf.getVertexInputs();
            Deque<String> queue = new ArrayDeque<>(conf.getNetworkInputs());
            Set<String> seen = new HashSet<>(queue);
            Set<CNN2DFormat> found = new LinkedHashSet<>();
            while (!queue.isEmpty() && found.isEmpty()) {
                int levelSize = queue.size();
                for (int i = 0; i < levelSize; i++) {
                    String from = queue.poll();
                    for (Map.Entry<String, List<String>> e : inputs.entrySet()) {
                        if (!e.getValue().contains(from) || !seen.add(e.getKey())) {
                            continue;
                        }
                        CNN2DFormat f = declaredFormat(conf.getVertices().get(e.getKey()));
                        if (f != null) {
                            found.add(f);
                        } else {
                            queue.add(e.getKey());
                        }
                    }
                }
            }
            if (found.size() != 1) {
                throw new ConfigException("backbone model " + modelPath + ": cannot tell whether it expects images"
                        + " channels-first (NCHW) or channels-last (NHWC): the first image layers declare "
                        + (found.isEmpty() ? "no layout" : found));
            }
            return found.iterator().next();
        }

        private static CNN2DFormat declaredFormat(GraphVertex vertex) {
            if (!(vertex instanceof LayerVertex lv)) {
                return null;
            }
            Layer layer = lv.getLayerConf().getLayer();
            if (layer instanceof ConvolutionLayer c) {
                return c.getCnn2dDataFormat();
            }
            if (layer instanceof SubsamplingLayer p) {
                return p.getCnn2dDataFormat();
            }
            if (layer instanceof BatchNormalization b) {
                return b.getCnn2DFormat();
            }
            return null;
        }

        /** The graph without the vertices that do not feed the feature layer, which becomes its only output. */
        private static ComputationGraph truncate(ComputationGraph full, String layer) {
            ComputationGraphConfiguration conf = full.getConfiguration();
            Set<String> needed = new HashSet<>();
            Deque<String> stack = new ArrayDeque<>(List.of(layer));
            while (!stack.isEmpty()) {
                String v = stack.pop();
                if (needed.add(v)) {
                    List<String> in = conf.getVertexInputs().get(v);
                    if (in != null) {
                        stack.addAll(in);
                    }
                }
            }
            List<String> unneeded = new ArrayList<>();
            for (String v : conf.getVertices().keySet()) {
                if (!needed.contains(v)) {
                    unneeded.add(v);
                }
            }
            if (unneeded.isEmpty() && conf.getNetworkOutputs().equals(List.of(layer))) {
                return full;
            }
            TransferLearning.GraphBuilder builder = new TransferLearning.GraphBuilder(full);
            for (String v : unneeded) {
                builder.removeVertexAndConnections(v);
            }
            ComputationGraph cut = builder.setOutputs(layer).build();
            LOG.debug("Removed {} vertices after {}: {}", unneeded.size(), layer, unneeded);
            return cut;
        }

        /** Runs one blank image: checks that the network accepts the input layout and that shapes are as inferred. */
        private void checkWithBlankImage(String modelPath) {
            int s = preprocessor.size();
            long[] expected = featureFormat == null ? new long[]{1, channels}
                    : featureFormat == CNN2DFormat.NHWC ? new long[]{1, gridH, gridW, channels}
                    : new long[]{1, channels, gridH, gridW};
            long[] inShape = inputShape(1, s);
            try (INDArray x = Nd4j.zeros(dataType, inShape)) {
                INDArray y = graph.outputSingle(false, x);
                long[] shape = y.shape();
                release(y);
                if (!Arrays.equals(shape, expected)) {
                    throw new IllegalStateException("backbone " + modelPath + " layer " + featureLayer + " produced "
                            + Arrays.toString(shape) + " for one " + Arrays.toString(inShape) + " input; shape"
                            + " inference said " + Arrays.toString(expected));
                }
            } catch (IllegalStateException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new ConfigException("backbone model " + modelPath + " cannot run on " + inputFormat + " input "
                        + Arrays.toString(inShape) + " (" + BackboneModelFile.describe(e) + ")");
            }
        }

        private long[] inputShape(int n, int s) {
            return inputFormat == CNN2DFormat.NHWC ? new long[]{n, s, s, 3} : new long[]{n, 3, s, s};
        }

        /** Frees an array's off-heap memory now rather than at garbage collection, when it owns its buffer. */
        private static void release(INDArray a) {
            if (a.closeable()) {
                a.close();
            }
        }

        String describeOutput() {
            return featureFormat == null ? channels + "-d vector" : gridH + "x" + gridW + "x" + channels;
        }

        /** Feature activations of n images, flattened in the network's output layout. */
        float[] forward(float[] pixels, int n) {
            try (INDArray x = Nd4j.create(pixels, inputShape(n, preprocessor.size()), 'c')) {
                INDArray in = x.dataType() == dataType ? x : x.castTo(dataType);
                float[] act;
                synchronized (this) {
                    INDArray y = graph.outputSingle(false, in);
                    INDArray yf = y.dataType() == DataType.FLOAT ? y : y.castTo(DataType.FLOAT);
                    act = Nd4j.toFlattened('c', yf).toFloatVector();
                    if (yf != y) {
                        release(yf);
                    }
                    release(y);
                }
                if (in != x) {
                    release(in);
                }
                return act;
            }
        }

        /** Image i's embedding from a batch's flattened activations. */
        Embedding embedding(float[] act, int i, boolean withRegions) {
            int d = channels;
            if (featureFormat == null) {
                return new Embedding(Arrays.copyOfRange(act, i * d, (i + 1) * d), null);
            }
            int cells = gridH * gridW;
            int base = i * cells * d;
            float[] regions = new float[cells * d];
            if (featureFormat == CNN2DFormat.NHWC) {
                System.arraycopy(act, base, regions, 0, cells * d);
            } else {
                for (int c = 0; c < d; c++) {
                    int from = base + c * cells;
                    for (int r = 0; r < cells; r++) {
                        regions[r * d + c] = act[from + r];
                    }
                }
            }
            double[] sum = new double[d];
            for (int r = 0; r < cells; r++) {
                int off = r * d;
                for (int c = 0; c < d; c++) {
                    sum[c] += regions[off + c];
                }
            }
            float[] pooled = new float[d];
            for (int c = 0; c < d; c++) {
                pooled[c] = (float) (sum[c] / cells);
            }
            return new Embedding(pooled, withRegions ? regions : null);
        }
    }
}
