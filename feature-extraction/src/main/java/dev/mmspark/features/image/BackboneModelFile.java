package dev.mmspark.features.image;

import dev.mmspark.common.InputException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads a pretrained network from a model file into a {@link ComputationGraph}, whatever form the file has:
 * a Keras 2 HDF5 file (functional {@code Model} or {@code Sequential}) or a DL4J model zip written by
 * {@link ModelSerializer} (ComputationGraph or MultiLayerNetwork). A MultiLayerNetwork is converted with
 * {@link MultiLayerNetwork#toComputationGraph()} so that the caller handles a single network type.
 *
 * <p>The path is a Hadoop path or URI: executors may see the file on HDFS or an object store. Keras import and
 * HDF5 need a local file, so a non-local file is copied to a temporary file that is deleted after loading.
 * Files are checked before they are handed to the native HDF5 library so that a user's wrong or damaged file
 * gives a message naming the file and what was expected instead of a native-library error.
 */
final class BackboneModelFile {
    private static final Logger LOG = LoggerFactory.getLogger(BackboneModelFile.class);

    /** HDF5 superblock signature; it is at offset 0 or, after a user block, at 512, 1024, 2048, ... */
    private static final byte[] HDF5_SIGNATURE = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    private static final byte[] ZIP_SIGNATURE = {'P', 'K', 3, 4};

    /** What kind of file it was, for logs and messages. */
    enum Kind {
        KERAS_FUNCTIONAL, KERAS_SEQUENTIAL, DL4J_COMPUTATION_GRAPH, DL4J_MULTI_LAYER_NETWORK
    }

    /**
     * The network as a graph, and its layers' names in forward order mapped to the graph's vertex names. They are
     * the same except for a MultiLayerNetwork: {@link MultiLayerNetwork#toComputationGraph()} names vertices by
     * layer index ("0", "1", ...), while users know the layers by the names they (or Keras) gave them.
     */
    record Loaded(ComputationGraph graph, Kind kind, Map<String, String> vertexByLayerName) {
        static Loaded of(ComputationGraph graph, Kind kind) {
            Map<String, String> names = new LinkedHashMap<>();
            for (int idx : graph.topologicalSortOrder()) {
                org.deeplearning4j.nn.graph.vertex.GraphVertex v = graph.getVertices()[idx];
                if (!v.isInputVertex()) {
                    names.put(v.getVertexName(), v.getVertexName());
                }
            }
            return new Loaded(graph, kind, names);
        }

        static Loaded of(MultiLayerNetwork net, Kind kind) {
            ComputationGraph graph = net.toComputationGraph();
            Map<String, String> names = new LinkedHashMap<>();
            for (int i = 0; i < net.getnLayers(); i++) {
                String vertex = String.valueOf(i);
                if (graph.getVertex(vertex) == null) {
                    throw new IllegalStateException("MultiLayerNetwork.toComputationGraph() did not name layer " + i
                            + " '" + vertex + "'; vertices are " + graph.getConfiguration().getVertices().keySet());
                }
                String name = net.getLayer(i).conf().getLayer().getLayerName();
                names.putIfAbsent(name == null || name.isBlank() ? vertex : name, vertex);
            }
            return new Loaded(graph, kind, names);
        }
    }

    private BackboneModelFile() {
    }

    static Loaded load(Configuration hadoopConf, String modelPath) {
        Path path = new Path(modelPath);
        File local = null;
        boolean temporary = false;
        try {
            FileSystem fs = path.getFileSystem(hadoopConf);
            if (!fs.exists(path)) {
                throw new InputException("backbone model file " + modelPath + " does not exist");
            }
            FileStatus status = fs.getFileStatus(path);
            if (status.isDirectory()) {
                throw new InputException("backbone model file " + modelPath
                        + " is a directory; expected a Keras .h5 file or a DL4J model .zip");
            }
            if (status.getLen() == 0) {
                throw new InputException("backbone model file " + modelPath
                        + " is empty (0 bytes); expected a Keras .h5 file or a DL4J model .zip");
            }
            if (fs instanceof LocalFileSystem localFs) {
                local = localFs.pathToFile(path);
            } else {
                local = copyToLocal(fs, path);
                temporary = true;
            }
            return isZip(modelPath) ? loadDl4jZip(local, modelPath) : loadKeras(local, modelPath);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read backbone model file " + modelPath, e);
        } finally {
            if (temporary) {
                try {
                    Files.deleteIfExists(local.toPath());
                } catch (IOException e) {
                    LOG.warn("Could not delete temporary copy {} of {}: {}", local, modelPath, e.toString());
                }
            }
        }
    }

    private static boolean isZip(String modelPath) {
        return modelPath.toLowerCase(Locale.ROOT).endsWith(".zip");
    }

    private static File copyToLocal(FileSystem fs, Path path) throws IOException {
        String name = path.getName();
        int dot = name.lastIndexOf('.');
        File tmp = Files.createTempFile("mmspark-backbone-", dot >= 0 ? name.substring(dot) : ".model").toFile();
        long t0 = System.nanoTime();
        try (InputStream in = fs.open(path)) {
            Files.copy(in, tmp.toPath(), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp.toPath());
            throw e;
        }
        LOG.info("Copied backbone model {} to local file {} ({} bytes, {} ms)", path, tmp, tmp.length(),
                (System.nanoTime() - t0) / 1_000_000);
        return tmp;
    }

    private static Loaded loadKeras(File file, String modelPath) {
        if (!hasSignatureAtUserBlockOffsets(file, HDF5_SIGNATURE)) {
            String hint = startsWith(file, ZIP_SIGNATURE)
                    ? " (it is a zip archive: name a DL4J model zip with the extension .zip; Keras 3 .keras"
                    + " archives are not supported, save the model as Keras 2 HDF5 instead)"
                    : "";
            throw new InputException("backbone model file " + modelPath + " is not an HDF5 file" + hint
                    + "; expected a Keras 2 model saved with model.save('....h5') or a DL4J model .zip");
        }
        String className;
        try (Hdf5Archive archive = new Hdf5Archive(file.getPath())) {
            if (!archive.hasAttribute("model_config")) {
                throw new InputException("backbone model file " + modelPath + " has no model architecture"
                        + " (no 'model_config' attribute): it looks like a weights-only file from"
                        + " model.save_weights(); save the whole model with model.save() instead");
            }
            JsonNode config = new ObjectMapper().readTree(archive.readAttributeAsJson("model_config"));
            className = config.path("class_name").asText("");
        } catch (InputException e) {
            throw e;
        } catch (Exception e) {
            throw new InputException("backbone model file " + modelPath + " cannot be read as a Keras HDF5 model ("
                    + describe(e) + ")", e);
        }
        long t0 = System.nanoTime();
        try {
            Loaded loaded;
            if (className.equals("Sequential")) {
                MultiLayerNetwork mln = KerasModelImport.importKerasSequentialModelAndWeights(file.getPath(), false);
                loaded = Loaded.of(mln, Kind.KERAS_SEQUENTIAL);
            } else {
                loaded = Loaded.of(KerasModelImport.importKerasModelAndWeights(file.getPath(), false),
                        Kind.KERAS_FUNCTIONAL);
            }
            LOG.info("Imported Keras model {} (class {}) in {} ms", modelPath, className,
                    (System.nanoTime() - t0) / 1_000_000);
            return loaded;
        } catch (Exception e) {
            throw new InputException("backbone model file " + modelPath + " (Keras class " + className
                    + ") cannot be imported by DL4J's Keras import (" + describe(e) + ")", e);
        }
    }

    private static Loaded loadDl4jZip(File file, String modelPath) {
        String configJson;
        try (ZipFile zip = new ZipFile(file)) {
            ZipEntry entry = zip.getEntry("configuration.json");
            if (entry == null) {
                throw new InputException("backbone model file " + modelPath + " is a zip without configuration.json;"
                        + " expected a DL4J model written by ModelSerializer.writeModel or model.save(file)");
            }
            try (InputStream in = zip.getInputStream(entry)) {
                configJson = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            }
        } catch (InputException e) {
            throw e;
        } catch (IOException e) {
            throw new InputException("backbone model file " + modelPath + " cannot be read as a zip archive ("
                    + describe(e) + "); expected a DL4J model .zip", e);
        }
        boolean graph;
        try {
            JsonNode config = new ObjectMapper().readTree(configJson);
            if (config.has("vertices")) {
                graph = true;
            } else if (config.has("confs")) {
                graph = false;
            } else {
                throw new InputException("backbone model file " + modelPath + ": configuration.json describes"
                        + " neither a ComputationGraph nor a MultiLayerNetwork");
            }
        } catch (IOException e) {
            throw new InputException("backbone model file " + modelPath + ": configuration.json is not valid JSON ("
                    + describe(e) + ")", e);
        }
        long t0 = System.nanoTime();
        try {
            Loaded loaded = graph
                    ? Loaded.of(ModelSerializer.restoreComputationGraph(file, false), Kind.DL4J_COMPUTATION_GRAPH)
                    : Loaded.of(ModelSerializer.restoreMultiLayerNetwork(file, false), Kind.DL4J_MULTI_LAYER_NETWORK);
            LOG.info("Restored DL4J model {} ({}) in {} ms", modelPath, loaded.kind(),
                    (System.nanoTime() - t0) / 1_000_000);
            return loaded;
        } catch (Exception e) {
            throw new InputException("backbone model file " + modelPath + " cannot be restored as a DL4J "
                    + (graph ? "ComputationGraph" : "MultiLayerNetwork") + " (" + describe(e) + ")", e);
        }
    }

    private static boolean hasSignatureAtUserBlockOffsets(File file, byte[] signature) {
        try (RandomAccessFile raf = new RandomAccessFile(file, "r")) {
            byte[] head = new byte[signature.length];
            for (long offset = 0; offset + signature.length <= raf.length(); offset = offset == 0 ? 512 : offset * 2) {
                raf.seek(offset);
                raf.readFully(head);
                if (Arrays.equals(head, signature)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static boolean startsWith(File file, byte[] signature) {
        try (RandomAccessFile raf = new RandomAccessFile(file, "r")) {
            if (raf.length() < signature.length) {
                return false;
            }
            byte[] head = new byte[signature.length];
            raf.readFully(head);
            return Arrays.equals(head, signature);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The innermost message worth showing: import exceptions often wrap the real cause. */
    static String describe(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t && (t.getMessage() == null || t.getMessage().isBlank())) {
            t = t.getCause();
        }
        String msg = t.getMessage();
        return t.getClass().getSimpleName() + (msg == null || msg.isBlank() ? "" : ": " + msg);
    }
}
