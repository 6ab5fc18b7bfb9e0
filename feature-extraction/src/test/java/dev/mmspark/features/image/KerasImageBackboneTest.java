package dev.mmspark.features.image;

import dev.mmspark.common.InputException;
import dev.mmspark.common.config.ConfigException;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiny DL4J networks with known weights, saved as model zips and loaded through the backbone, checked
 * against a hand computation: a 1x1 convolution with weights W (2 outputs x 3 colours) and bias b, then ReLU,
 * then (in two of the networks) 2x2 max pooling. Each network also has a classifier head that the backbone
 * must cut off. Pixels are chosen so that red varies with x and green with y, so a transposed or
 * channels-first/last confusion changes the values.
 */
class KerasImageBackboneTest {
    private static final int SIZE = 8;
    private static final double[][] W = {{1.0, -1.0, 0.5}, {-0.25, 0.5, 2.0}};
    private static final double[] B = {0.1, -0.3};
    private static final float TOL = 1e-5f;

    @TempDir
    static Path dir;

    private static String nhwcGraphZip;
    private static String nchwGraphZip;
    private static String mlnZip;
    private static String kerasFunctionalH5;
    private static String kerasSequentialH5;

    @BeforeAll
    static void writeModels() throws IOException {
        nhwcGraphZip = save(graph(CNN2DFormat.NHWC), "nhwc-graph.zip");
        nchwGraphZip = save(graph(CNN2DFormat.NCHW), "nchw-graph.zip");
        mlnZip = save(multiLayer(), "mln.zip");
        kerasFunctionalH5 = dir.resolve("functional.h5").toString();
        KerasHdf5Writer.write(Path.of(kerasFunctionalH5), kerasFunctionalConfig(), kerasWeights());
        kerasSequentialH5 = dir.resolve("sequential.h5").toString();
        KerasHdf5Writer.write(Path.of(kerasSequentialH5), kerasSequentialConfig(), kerasWeights());
    }

    // The same conv (1x1) -> relu -> pool (2x2 max) as Keras 2 model configurations, channels-last.
    private static final String KERAS_CONV = "{\"name\": \"conv\", \"trainable\": true, %s\"filters\": 2,"
            + " \"kernel_size\": [1, 1], \"strides\": [1, 1], \"padding\": \"valid\", \"data_format\": \"channels_last\","
            + " \"dilation_rate\": [1, 1], \"activation\": \"linear\", \"use_bias\": true,"
            + " \"kernel_initializer\": {\"class_name\": \"Zeros\", \"config\": {}},"
            + " \"bias_initializer\": {\"class_name\": \"Zeros\", \"config\": {}}, \"kernel_regularizer\": null,"
            + " \"bias_regularizer\": null, \"activity_regularizer\": null, \"kernel_constraint\": null,"
            + " \"bias_constraint\": null}";
    private static final String KERAS_RELU = "{\"name\": \"relu\", \"trainable\": true, \"activation\": \"relu\"}";
    private static final String KERAS_POOL = "{\"name\": \"pool\", \"trainable\": true, \"pool_size\": [2, 2],"
            + " \"padding\": \"valid\", \"strides\": [2, 2], \"data_format\": \"channels_last\"}";
    private static final String KERAS_INPUT_SHAPE = "\"batch_input_shape\": [null, 8, 8, 3], \"dtype\": \"float32\", ";

    private static String kerasSequentialConfig() {
        return "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"seq\", \"layers\": ["
                + "{\"class_name\": \"Conv2D\", \"config\": " + String.format(KERAS_CONV, KERAS_INPUT_SHAPE) + "},"
                + "{\"class_name\": \"Activation\", \"config\": " + KERAS_RELU + "},"
                + "{\"class_name\": \"MaxPooling2D\", \"config\": " + KERAS_POOL + "}]}}";
    }

    private static String kerasFunctionalConfig() {
        return "{\"class_name\": \"Model\", \"config\": {\"name\": \"fun\", \"layers\": ["
                + "{\"name\": \"image\", \"class_name\": \"InputLayer\", \"config\": {" + KERAS_INPUT_SHAPE
                + "\"sparse\": false, \"name\": \"image\"}, \"inbound_nodes\": []},"
                + "{\"name\": \"conv\", \"class_name\": \"Conv2D\", \"config\": " + String.format(KERAS_CONV, "")
                + ", \"inbound_nodes\": [[[\"image\", 0, 0, {}]]]},"
                + "{\"name\": \"relu\", \"class_name\": \"Activation\", \"config\": " + KERAS_RELU
                + ", \"inbound_nodes\": [[[\"conv\", 0, 0, {}]]]},"
                + "{\"name\": \"pool\", \"class_name\": \"MaxPooling2D\", \"config\": " + KERAS_POOL
                + ", \"inbound_nodes\": [[[\"relu\", 0, 0, {}]]]}],"
                + " \"input_layers\": [[\"image\", 0, 0]], \"output_layers\": [[\"pool\", 0, 0]]}}";
    }

    /** W and B in Keras's layout: the kernel is [kH, kW, in, out], so element (c, o) is at c*2 + o. */
    private static List<KerasHdf5Writer.LayerWeights> kerasWeights() {
        float[] kernel = new float[6];
        for (int c = 0; c < 3; c++) {
            for (int o = 0; o < 2; o++) {
                kernel[c * 2 + o] = (float) W[o][c];
            }
        }
        return List.of(
                new KerasHdf5Writer.LayerWeights("conv", List.of(
                        new KerasHdf5Writer.Weight("kernel", kernel, 1, 1, 3, 2),
                        new KerasHdf5Writer.Weight("bias", new float[]{(float) B[0], (float) B[1]}, 2))),
                new KerasHdf5Writer.LayerWeights("relu", List.of()),
                new KerasHdf5Writer.LayerWeights("pool", List.of()));
    }

    /** conv (1x1) -> relu -> pool (2x2 max) -> gap -> head, in the given layout. */
    private static ComputationGraph graph(CNN2DFormat format) {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).graphBuilder()
                .addInputs("image")
                .setInputTypes(InputType.convolutional(SIZE, SIZE, 3, format))
                .addLayer("conv", new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.IDENTITY)
                        .dataFormat(format).build(), "image")
                .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU).build(), "conv")
                .addLayer("pool", new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .dataFormat(format).build(), "relu")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "pool")
                .addLayer("head", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("head")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        setConvWeights(g.getLayer("conv").getParam("W"), g.getLayer("conv").getParam("b"));
        return g;
    }

    private static MultiLayerNetwork multiLayer() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new ConvolutionLayer.Builder(1, 1).name("conv").nOut(2).activation(Activation.IDENTITY).build())
                .layer(new ActivationLayer.Builder().name("relu").activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(PoolingType.MAX).name("pool").kernelSize(2, 2).stride(2, 2).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("head").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(SIZE, SIZE, 3))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        setConvWeights(net.getLayer(0).getParam("W"), net.getLayer(0).getParam("b"));
        return net;
    }

    /** DL4J keeps convolution weights as [out, in, kH, kW] whatever the activation layout. */
    private static void setConvWeights(INDArray w, INDArray b) {
        assertArrayEquals(new long[]{2, 3, 1, 1}, w.shape());
        for (int o = 0; o < 2; o++) {
            for (int c = 0; c < 3; c++) {
                w.putScalar(new long[]{o, c, 0, 0}, W[o][c]);
            }
            b.putScalar(o, B[o]);
        }
    }

    private static String save(org.deeplearning4j.nn.api.Model model, String name) throws IOException {
        File f = dir.resolve(name).toFile();
        ModelSerializer.writeModel(model, f, false);
        return f.getPath();
    }

    /** An 8x8 image: red = 30x + 5, green = 25y + 10, blue = (7xy + 40) mod 256. */
    private static BufferedImage image(int shift) {
        BufferedImage img = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                int r = (30 * x + 5 + shift) % 256;
                int g = (25 * y + 10 + 3 * shift) % 256;
                int b = (7 * x * y + 40 + 11 * shift) % 256;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return img;
    }

    /** relu(b[o] + sum_c W[o][c] * pixel_c / 255) at pixel (x, y). */
    private static double convRelu(BufferedImage img, int o, int y, int x) {
        int rgb = img.getRGB(x, y);
        double[] px = {((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0};
        double v = B[o];
        for (int c = 0; c < 3; c++) {
            v += W[o][c] * px[c];
        }
        return Math.max(0, v);
    }

    /** Expected regions (cells row-major y then x, channels contiguous) after pooling by {@code pool}. */
    private static float[] expectedRegions(BufferedImage img, int pool) {
        int grid = SIZE / pool;
        float[] out = new float[grid * grid * 2];
        for (int gy = 0; gy < grid; gy++) {
            for (int gx = 0; gx < grid; gx++) {
                for (int o = 0; o < 2; o++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int y = gy * pool; y < (gy + 1) * pool; y++) {
                        for (int x = gx * pool; x < (gx + 1) * pool; x++) {
                            m = Math.max(m, convRelu(img, o, y, x));
                        }
                    }
                    out[(gy * grid + gx) * 2 + o] = (float) m;
                }
            }
        }
        return out;
    }

    private static float[] mean(float[] regions) {
        float[] m = new float[2];
        int cells = regions.length / 2;
        for (int r = 0; r < cells; r++) {
            m[0] += regions[r * 2] / cells;
            m[1] += regions[r * 2 + 1] / cells;
        }
        return m;
    }

    private static KerasImageBackbone backbone(String path, String layer, int batch) {
        return new KerasImageBackbone(path, layer, SIZE, Normalisation.ZERO_ONE, batch);
    }

    private static void assertMatchesHand(KerasImageBackbone bb, int pool) {
        List<BufferedImage> imgs = List.of(image(0), image(17), image(90));
        List<ImageBackbone.Embedding> out = bb.embed(imgs, true);
        assertEquals(3, out.size());
        for (int i = 0; i < imgs.size(); i++) {
            float[] want = expectedRegions(imgs.get(i), pool);
            assertArrayEquals(want, out.get(i).regions(), TOL, "regions of image " + i);
            assertArrayEquals(mean(want), out.get(i).pooled(), TOL, "pooled of image " + i);
        }
    }

    @Test
    void channelsLastGraphMatchesHandComputation() {
        KerasImageBackbone bb = backbone(nhwcGraphZip, "pool", 16);
        assertEquals(CNN2DFormat.NHWC, bb.inputFormat());
        assertEquals(CNN2DFormat.NHWC, bb.featureFormat());
        assertEquals(SIZE, bb.inputSize());
        assertEquals(2, bb.pooledDim());
        assertEquals(2, bb.regionDim());
        assertEquals(16, bb.regionCount());
        assertArrayEquals(new int[]{4, 4}, bb.regionGrid());
        assertEquals(8, bb.parameterCount(), "only the 1x1 convolution's 6 weights and 2 biases are kept");
        assertMatchesHand(bb, 2);
    }

    @Test
    void channelsFirstGraphMatchesHandComputation() {
        KerasImageBackbone bb = backbone(nchwGraphZip, "relu", 16);
        assertEquals(CNN2DFormat.NCHW, bb.inputFormat());
        assertEquals(CNN2DFormat.NCHW, bb.featureFormat());
        assertEquals(64, bb.regionCount());
        assertMatchesHand(bb, 1);
    }

    @Test
    void multiLayerNetworkZipMatchesHandComputation() {
        KerasImageBackbone bb = backbone(mlnZip, "pool", 16);
        assertEquals(16, bb.regionCount());
        assertEquals(8, bb.parameterCount());
        assertMatchesHand(bb, 2);
    }

    @Test
    void kerasFunctionalFileMatchesHandComputation() {
        KerasImageBackbone bb = backbone(kerasFunctionalH5, "pool", 16);
        assertEquals(CNN2DFormat.NHWC, bb.inputFormat(), "Keras imports stay channels-last");
        assertEquals(CNN2DFormat.NHWC, bb.featureFormat());
        assertArrayEquals(new int[]{4, 4}, bb.regionGrid());
        assertEquals(8, bb.parameterCount());
        assertMatchesHand(bb, 2);
        assertMatchesHand(backbone(kerasFunctionalH5, "relu", 16), 1);
    }

    @Test
    void kerasSequentialFileMatchesHandComputation() {
        // DL4J's functional import refuses Sequential files, so the loader must pick the Sequential import
        KerasImageBackbone bb = backbone(kerasSequentialH5, "pool", 16);
        assertEquals(CNN2DFormat.NHWC, bb.inputFormat());
        assertEquals(CNN2DFormat.NHWC, bb.featureFormat());
        assertMatchesHand(bb, 2);
        ConfigException e = assertThrows(ConfigException.class, () -> backbone(kerasSequentialH5, "dense", 4));
        assertEquals("backbone feature layer 'dense' is not a layer of model " + kerasSequentialH5
                + "; its layers are (input to output): conv, relu, pool", e.getMessage());
    }

    @Test
    void weightsOnlyKerasFileIsReported() {
        Path p = dir.resolve("weights-only.h5");
        KerasHdf5Writer.write(p, null, kerasWeights());
        InputException e = assertThrows(InputException.class, () -> backbone(p.toString(), "pool", 4));
        assertEquals("backbone model file " + p + " has no model architecture (no 'model_config' attribute): it"
                + " looks like a weights-only file from model.save_weights(); save the whole model with"
                + " model.save() instead", e.getMessage());
    }

    @Test
    void vectorLayerGivesPooledOnly() {
        KerasImageBackbone bb = backbone(nhwcGraphZip, "gap", 4);
        assertEquals(2, bb.pooledDim());
        assertEquals(0, bb.regionCount());
        assertEquals(0, bb.regionDim());
        assertNull(bb.featureFormat());
        BufferedImage img = image(5);
        ImageBackbone.Embedding e = bb.embed(List.of(img), false).get(0);
        assertArrayEquals(mean(expectedRegions(img, 2)), e.pooled(), TOL);
        assertNull(e.regions());
        ConfigException ex = assertThrows(ConfigException.class, () -> bb.embed(List.of(img), true));
        assertTrue(ex.getMessage().contains("gap") && ex.getMessage().contains("no region vectors"), ex.getMessage());
    }

    @Test
    void batchesAreSplitAndOrderIsKept() {
        List<BufferedImage> imgs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            imgs.add(image(i * 13));
        }
        List<ImageBackbone.Embedding> inTwos = backbone(nhwcGraphZip, "pool", 2).embed(imgs, true);
        List<ImageBackbone.Embedding> inOne = backbone(nhwcGraphZip, "pool", 5).embed(imgs, true);
        assertEquals(5, inTwos.size());
        for (int i = 0; i < 5; i++) {
            assertArrayEquals(expectedRegions(imgs.get(i), 2), inTwos.get(i).regions(), TOL, "image " + i);
            assertArrayEquals(inOne.get(i).regions(), inTwos.get(i).regions(), 0f, "image " + i);
            assertArrayEquals(inOne.get(i).pooled(), inTwos.get(i).pooled(), 0f, "image " + i);
        }
        assertTrue(backbone(nhwcGraphZip, "pool", 2).embed(List.of(), true).isEmpty());
    }

    @Test
    void imagesOfOtherSizesAreResized() {
        BufferedImage big = new BufferedImage(40, 24, BufferedImage.TYPE_INT_RGB);
        ImageBackbone.Embedding e = backbone(nhwcGraphZip, "pool", 4).embed(List.of(big), true).get(0);
        assertEquals(16 * 2, e.regions().length);
        // an all-black image gives relu(b): 0.1 for the first channel, 0 for the second, in every cell
        for (int r = 0; r < 16; r++) {
            assertEquals(0.1f, e.regions()[r * 2], TOL);
            assertEquals(0f, e.regions()[r * 2 + 1], TOL);
        }
    }

    @Test
    void sharedLoadsOncePerSettings() {
        Configuration hc = new Configuration();
        KerasImageBackbone a = KerasImageBackbone.shared(hc, nhwcGraphZip, "pool", SIZE, Normalisation.ZERO_ONE, 16);
        KerasImageBackbone b = KerasImageBackbone.shared(hc, nhwcGraphZip, "pool", SIZE, Normalisation.ZERO_ONE, 4);
        KerasImageBackbone otherLayer = KerasImageBackbone.shared(hc, nhwcGraphZip, "relu", SIZE, Normalisation.ZERO_ONE, 16);
        assertTrue(a.sharesNetworkWith(b));
        assertEquals(4, b.batchSize());
        assertFalse(a.sharesNetworkWith(otherLayer));
        assertFalse(a.sharesNetworkWith(backbone(nhwcGraphZip, "pool", 16)), "the constructor always loads");
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        KerasImageBackbone bb = backbone(nhwcGraphZip, "pool", 2);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < 4; t++) {
            int shift = 31 * t;
            threads.add(new Thread(() -> {
                try {
                    for (int rep = 0; rep < 5; rep++) {
                        BufferedImage img = image(shift + rep);
                        assertArrayEquals(expectedRegions(img, 2), bb.embed(List.of(img, img, img), true).get(2).regions(), TOL);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(failures.isEmpty(), () -> failures.get(0).toString());
    }

    @Test
    void modelOnANonLocalFileSystemIsCopiedToATemporaryFile() throws IOException {
        // RawLocalFileSystem is not a LocalFileSystem, so the loader takes the path it takes for HDFS: copy first
        Configuration hc = new Configuration();
        hc.set("fs.file.impl", org.apache.hadoop.fs.RawLocalFileSystem.class.getName());
        hc.setBoolean("fs.file.impl.disable.cache", true);
        long before = temporaryCopies();
        for (String model : List.of(nhwcGraphZip, kerasFunctionalH5)) {
            KerasImageBackbone bb = new KerasImageBackbone(hc, "file://" + model, "pool", SIZE,
                    Normalisation.ZERO_ONE, 4);
            assertMatchesHand(bb, 2);
        }
        assertEquals(before, temporaryCopies(), "the temporary copies are deleted after loading");
    }

    private static long temporaryCopies() throws IOException {
        try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("mmspark-backbone-")).count();
        }
    }

    @Test
    void unknownLayerNameListsTheLayers() {
        ConfigException e = assertThrows(ConfigException.class, () -> backbone(nhwcGraphZip, "conv_99", 4));
        assertEquals("backbone feature layer 'conv_99' is not a layer of model " + nhwcGraphZip
                + "; its layers are (input to output): conv, relu, pool, gap, head", e.getMessage());
        ConfigException input = assertThrows(ConfigException.class, () -> backbone(nhwcGraphZip, "image", 4));
        assertTrue(input.getMessage().contains("'image' is not a layer"), input.getMessage());
        // a MultiLayerNetwork's layers are known by their names, not by the index DL4J's graph conversion uses
        ConfigException mln = assertThrows(ConfigException.class, () -> backbone(mlnZip, "2", 4));
        assertEquals("backbone feature layer '2' is not a layer of model " + mlnZip
                + "; its layers are (input to output): conv, relu, pool, head", mln.getMessage());
    }

    @Test
    void emptyModelFileIsReported() throws IOException {
        for (String name : List.of("empty.zip", "empty.h5")) {
            Path p = Files.createFile(dir.resolve(name));
            InputException e = assertThrows(InputException.class, () -> backbone(p.toString(), "conv", 4));
            assertEquals("backbone model file " + p + " is empty (0 bytes); expected a Keras .h5 file or a DL4J"
                    + " model .zip", e.getMessage());
        }
    }

    @Test
    void missingModelFileIsReported() {
        String p = dir.resolve("nowhere.h5").toString();
        InputException e = assertThrows(InputException.class, () -> backbone(p, "conv", 4));
        assertEquals("backbone model file " + p + " does not exist", e.getMessage());
    }

    @Test
    void corruptModelFilesAreReported() throws IOException {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);

        Path h5 = Files.write(dir.resolve("noise.h5"), noise);
        InputException notHdf5 = assertThrows(InputException.class, () -> backbone(h5.toString(), "conv", 4));
        assertTrue(notHdf5.getMessage().startsWith("backbone model file " + h5 + " is not an HDF5 file;"),
                notHdf5.getMessage());

        // an HDF5 signature followed by garbage reaches the native HDF5 library, whose error is wrapped
        byte[] fakeHdf5 = noise.clone();
        System.arraycopy(new byte[]{(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'}, 0, fakeHdf5, 0, 8);
        Path badH5 = Files.write(dir.resolve("damaged.h5"), fakeHdf5);
        InputException damaged = assertThrows(InputException.class, () -> backbone(badH5.toString(), "conv", 4));
        assertTrue(damaged.getMessage().startsWith("backbone model file " + badH5
                + " cannot be read as a Keras HDF5 model ("), damaged.getMessage());

        Path zip = Files.write(dir.resolve("noise.zip"), noise);
        InputException notZip = assertThrows(InputException.class, () -> backbone(zip.toString(), "conv", 4));
        assertTrue(notZip.getMessage().startsWith("backbone model file " + zip + " cannot be read as a zip archive ("),
                notZip.getMessage());

        // a real DL4J zip cut short
        byte[] whole = Files.readAllBytes(Path.of(nhwcGraphZip));
        Path truncated = Files.write(dir.resolve("truncated.zip"), java.util.Arrays.copyOf(whole, whole.length / 2));
        InputException cut = assertThrows(InputException.class, () -> backbone(truncated.toString(), "conv", 4));
        assertTrue(cut.getMessage().startsWith("backbone model file " + truncated), cut.getMessage());

        Path keras3 = Files.copy(Path.of(nhwcGraphZip), dir.resolve("model.keras"));
        InputException zipNamedOtherwise = assertThrows(InputException.class, () -> backbone(keras3.toString(), "conv", 4));
        assertTrue(zipNamedOtherwise.getMessage().contains("it is a zip archive"), zipNamedOtherwise.getMessage());
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThrows(ConfigException.class, () -> backbone(nhwcGraphZip, "pool", 0));
        assertThrows(ConfigException.class, () -> new KerasImageBackbone(nhwcGraphZip, "pool", 4,
                Normalisation.ZERO_ONE, 1));
        assertThrows(ConfigException.class, () -> new KerasImageBackbone(nhwcGraphZip, " ", SIZE,
                Normalisation.ZERO_ONE, 1));
        assertThrows(ConfigException.class, () -> new KerasImageBackbone(nhwcGraphZip, "pool", SIZE, null, 1));
    }
}
