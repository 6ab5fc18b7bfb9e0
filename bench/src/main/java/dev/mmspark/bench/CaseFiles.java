package dev.mmspark.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmspark.common.io.Json;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;

/**
 * A benchmark case on disk: {@code case.json} plus one little-endian float32 file per array, so that the
 * Java and the PyTorch side time the very same minibatch (bench/README.md, "Case format").
 */
final class CaseFiles {

    private CaseFiles() {
    }

    /** Writes {@code arrays} as {@code prefix-i.f32} into {@code dir} and returns their entries (null stays null). */
    static ArrayNode writeArrays(File dir, String prefix, INDArray[] arrays) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        if (arrays == null) {
            return out;
        }
        for (int i = 0; i < arrays.length; i++) {
            if (arrays[i] == null) {
                out.addNull();
                continue;
            }
            String name = prefix + "-" + i + ".f32";
            INDArray a = arrays[i].castTo(DataType.FLOAT).dup('c');
            float[] values = a.data().asFloat();
            ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asFloatBuffer().put(values);
            try {
                Files.write(new File(dir, name).toPath(), buf.array());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ObjectNode e = out.addObject();
            e.put("file", name);
            ArrayNode shape = e.putArray("shape");
            for (long s : a.shape()) {
                shape.add(s);
            }
        }
        return out;
    }

    /** The arrays of one entry list of {@code case.json}; null entries (no mask) stay null. */
    static INDArray[] readArrays(File dir, JsonNode entries) {
        INDArray[] out = new INDArray[entries.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode e = entries.get(i);
            if (e == null || e.isNull()) {
                continue;
            }
            long[] shape = new long[e.get("shape").size()];
            long n = 1;
            for (int d = 0; d < shape.length; d++) {
                shape[d] = e.get("shape").get(d).asLong();
                n *= shape[d];
            }
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(new File(dir, e.get("file").asText()).toPath());
            } catch (IOException ex) {
                throw new UncheckedIOException(ex);
            }
            if (bytes.length != n * 4) {
                throw new IllegalStateException(dir + "/" + e.get("file").asText() + " has " + bytes.length
                        + " bytes, expected " + (n * 4) + " for shape " + e.get("shape"));
            }
            float[] values = new float[(int) n];
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            out[i] = Nd4j.create(values, shape, 'c');
        }
        return out;
    }

    static ObjectNode readCase(File dir) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(new File(dir, "case.json"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeJson(File file, Object value) {
        try {
            Files.writeString(file.toPath(), Json.write(value));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
