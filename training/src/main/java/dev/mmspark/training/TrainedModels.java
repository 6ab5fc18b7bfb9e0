package dev.mmspark.training;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.mmspark.common.InputException;
import dev.mmspark.common.io.ContentHash;
import dev.mmspark.common.io.Json;
import dev.mmspark.features.FeatureTable;
import dev.mmspark.training.model.ModelSpec;
import dev.mmspark.training.model.Optimisation;
import dev.mmspark.training.model.SampleModelDefinition;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;

/**
 * Saved models. A model directory holds:
 * <pre>
 *   network.zip     the ComputationGraph with its updater state (DL4J ModelSerializer)
 *   metadata.json   {@link ModelMetadata}: model name, resolved spec and config, provenance, input table
 * </pre>
 * {@link #load} validates the directory before anything uses it: the format, a model name this build
 * knows, a spec it can read, and a network whose structure is the one the spec builds -- so a
 * {@code network.zip} of another model or configuration is reported, naming the first difference, instead of
 * failing (or silently mispredicting) later.
 */
public final class TrainedModels {
    static final String NETWORK = "network.zip";
    static final String METADATA = "metadata.json";

    private TrainedModels() {
    }

    /**
     * The number of trainable parameters of {@code net}: the length of its flattened parameter vector. Not
     * {@code ComputationGraph#numParams()}, which in DL4J 1.0.0-M2.1 sums over the layers only and so leaves out
     * every SameDiff vertex (the fusion operators, MISA's core): the fusion sweep's rows said 450,265 parameters
     * for every operator of the synthetic model.
     */
    public static long parameterCount(ComputationGraph net) {
        return net.params() == null ? 0 : net.params().length();
    }

    public static TrainedModel load(SparkSession spark, String path) {
        return load(spark.sparkContext().hadoopConfiguration(), path);
    }

    public static TrainedModel load(Configuration hadoopConf, String path) {
        Path dir = new Path(path);
        FileSystem fs;
        try {
            fs = dir.getFileSystem(hadoopConf);
            if (!fs.exists(dir)) {
                throw new InputException("model directory " + path + " does not exist (run the train job first)");
            }
            if (!fs.exists(new Path(dir, METADATA)) || !fs.exists(new Path(dir, NETWORK))) {
                throw new InputException("model directory " + path + " has no " + METADATA + " or no " + NETWORK
                        + "; is it a model written by the train job?");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read model directory " + path, e);
        }
        ModelMetadata meta = readMetadata(fs, dir);
        SampleModelDefinition def = ModelRegistry.find(meta.model()).orElseThrow(() -> new InputException(
                "model directory " + path + " holds a model '" + meta.model() + "', which this build does not know; "
                        + "known models: " + String.join(", ", ModelRegistry.names())));
        ModelSpec spec;
        try {
            spec = Json.MAPPER.treeToValue(meta.spec(), def.specType());
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new InputException("model directory " + path + ": the spec in " + METADATA + " is not a valid "
                    + meta.model() + " spec (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        ComputationGraph net;
        try (FSDataInputStream in = fs.open(new Path(dir, NETWORK))) {
            net = ModelSerializer.restoreComputationGraph(in, true);
        } catch (IOException | RuntimeException e) {
            throw new InputException("model directory " + path + ": " + NETWORK + " is not a readable DL4J model ("
                    + e.getMessage() + ")");
        }
        checkStructure(net, spec, meta.optimisation(), "model directory " + path + ": " + NETWORK);
        return new TrainedModel(path, meta, spec, net);
    }

    private static ModelMetadata readMetadata(FileSystem fs, Path dir) {
        String json;
        try (FSDataInputStream in = fs.open(new Path(dir, METADATA))) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + new Path(dir, METADATA), e);
        }
        ModelMetadata meta;
        try {
            meta = Json.MAPPER.readValue(json, ModelMetadata.class);
        } catch (IOException e) {
            throw new InputException("model directory " + dir + ": " + METADATA + " is not valid ("
                    + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (!ModelMetadata.FORMAT.equals(meta.format())) {
            throw new InputException("model directory " + dir + ": " + METADATA + " has format '" + meta.format()
                    + "', expected '" + ModelMetadata.FORMAT + "'");
        }
        if (meta.formatVersion() > ModelMetadata.FORMAT_VERSION) {
            throw new InputException("model directory " + dir + " has format version " + meta.formatVersion()
                    + "; this build reads up to " + ModelMetadata.FORMAT_VERSION);
        }
        return meta;
    }

    /**
     * Fails unless {@code network} has the structure {@code spec} builds: the same inputs, outputs and
     * vertices, each layer of the same type with the same number of parameters.
     *
     * @param what the network's origin, for the message
     */
    static void checkStructure(ComputationGraph network, ModelSpec spec, Optimisation optimisation, String what) {
        ComputationGraphConfiguration want = spec.graphConfiguration(optimisation);
        ComputationGraphConfiguration have = network.getConfiguration();
        String prefix = what + " does not match the " + spec.modelName() + " model its spec describes: ";
        if (!want.getNetworkInputs().equals(have.getNetworkInputs())) {
            throw new InputException(prefix + "inputs are " + have.getNetworkInputs() + ", the spec needs "
                    + want.getNetworkInputs());
        }
        if (!want.getNetworkOutputs().equals(have.getNetworkOutputs())) {
            throw new InputException(prefix + "outputs are " + have.getNetworkOutputs() + ", the spec needs "
                    + want.getNetworkOutputs());
        }
        Set<String> missing = new TreeSet<>(want.getVertices().keySet());
        missing.removeAll(have.getVertices().keySet());
        Set<String> extra = new TreeSet<>(have.getVertices().keySet());
        extra.removeAll(want.getVertices().keySet());
        if (!missing.isEmpty() || !extra.isEmpty()) {
            throw new InputException(prefix + "vertices the spec needs but the network lacks: " + missing
                    + "; vertices the spec does not have: " + extra);
        }
        for (String name : new TreeSet<>(want.getVertices().keySet())) {
            GraphVertex w = want.getVertices().get(name);
            GraphVertex h = have.getVertices().get(name);
            if (w instanceof LayerVertex wl && h instanceof LayerVertex hl) {
                Layer wLayer = wl.getLayerConf().getLayer();
                Layer hLayer = hl.getLayerConf().getLayer();
                if (wLayer.getClass() != hLayer.getClass()) {
                    throw new InputException(prefix + "layer '" + name + "' is a " + hLayer.getClass().getSimpleName()
                            + ", the spec needs a " + wLayer.getClass().getSimpleName());
                }
                long wp = wLayer.initializer().numParams(wLayer);
                long hp = network.getVertex(name).numParams();
                if (wp != hp) {
                    throw new InputException(prefix + "layer '" + name + "' has " + hp + " parameters, the spec needs "
                            + wp);
                }
            } else if (w.getClass() != h.getClass()) {
                throw new InputException(prefix + "vertex '" + name + "' is a " + h.getClass().getSimpleName()
                        + ", the spec needs a " + w.getClass().getSimpleName());
            }
        }
    }

    /** Writes {@code network.zip} (with updater state) and {@code metadata.json} into {@code dir}. */
    static void write(FileSystem fs, Path dir, ComputationGraph network, ModelMetadata metadata) {
        try {
            fs.mkdirs(dir);
            try (FSDataOutputStream o = fs.create(new Path(dir, NETWORK), false)) {
                ModelSerializer.writeModel(network, o, true);
            }
            try (FSDataOutputStream o = fs.create(new Path(dir, METADATA), false)) {
                o.write(Json.write(metadata).getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the model to " + dir, e);
        }
    }

    /** SHA-256 of a token modality's vocabulary, tokens in id order. */
    static String vocabularyFingerprint(FeatureTable table, String modality) {
        return ContentHash.ofString(String.join("\n", table.vocabulary(modality).tokens()));
    }
}
