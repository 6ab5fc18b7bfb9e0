package dev.mmspark.features.image;

import org.bytedeco.hdf5.Attribute;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.Group;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.H5Location;
import org.bytedeco.hdf5.H5Object;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.StrType;
import org.bytedeco.hdf5.global.hdf5;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes tiny Keras 2 model files the way Keras 2 {@code model.save('x.h5')} (through h5py) lays them out, so
 * that the Keras import path is tested without the large pretrained files: root attributes
 * {@code keras_version}, {@code backend} and {@code model_config} (the architecture as JSON), and a group
 * {@code model_weights/<layer>/<layer>/<weight>:0} per layer with the layer's {@code weight_names} attribute.
 * Strings are fixed-length and null-padded, as h5py writes Python bytes.
 */
final class KerasHdf5Writer {
    /** One weight array of a layer, in Keras's own shape (a Conv2D kernel is [kH, kW, in, out]). */
    record Weight(String name, float[] values, long... shape) {
    }

    record LayerWeights(String layer, List<Weight> weights) {
    }

    private KerasHdf5Writer() {
    }

    /** A model file; {@code modelConfig} null gives a weights-only file, as {@code model.save_weights} writes. */
    static void write(Path file, String modelConfig, List<LayerWeights> layers) {
        H5File f = new H5File(file.toString(), hdf5.H5F_ACC_TRUNC);
        try {
            stringAttribute(f, "keras_version", "2.1.6");
            stringAttribute(f, "backend", "tensorflow");
            Group root = f;
            if (modelConfig != null) {
                stringAttribute(f, "model_config", modelConfig);
                root = f.createGroup("model_weights");
                stringAttribute(root, "keras_version", "2.1.6");
                stringAttribute(root, "backend", "tensorflow");
            }
            stringArrayAttribute(root, "layer_names", layers.stream().map(LayerWeights::layer).toList());
            for (LayerWeights lw : layers) {
                Group g = root.createGroup(lw.layer());
                stringArrayAttribute(g, "weight_names",
                        lw.weights().stream().map(w -> lw.layer() + "/" + w.name() + ":0").toList());
                if (!lw.weights().isEmpty()) {
                    Group inner = g.createGroup(lw.layer());
                    for (Weight w : lw.weights()) {
                        floats(inner, w.name() + ":0", w.values(), w.shape());
                    }
                    inner.close();
                }
                g.close();
            }
            if (root != f) {
                root.close();
            }
        } finally {
            f.close();
        }
    }

    private static void stringAttribute(H5Object o, String name, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        StrType type = new StrType(PredType.C_S1(), Math.max(1, bytes.length));
        type.setStrpad(hdf5.H5T_STR_NULLPAD);
        Attribute a = o.createAttribute(name, type, new DataSpace(hdf5.H5S_SCALAR));
        a.write(type, new BytePointer(bytes));
        a.close();
    }

    private static void stringArrayAttribute(H5Object o, String name, List<String> values) {
        int len = 1;
        for (String v : values) {
            len = Math.max(len, v.getBytes(StandardCharsets.UTF_8).length);
        }
        byte[] all = new byte[len * values.size()];
        for (int i = 0; i < values.size(); i++) {
            byte[] b = values.get(i).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(b, 0, all, i * len, b.length);
        }
        StrType type = new StrType(PredType.C_S1(), len);
        type.setStrpad(hdf5.H5T_STR_NULLPAD);
        Attribute a = o.createAttribute(name, type, new DataSpace(1, new long[]{values.size()}));
        a.write(type, new BytePointer(all));
        a.close();
    }

    private static void floats(H5Location g, String name, float[] values, long[] shape) {
        DataSet d = g.createDataSet(name, PredType.IEEE_F32LE(), new DataSpace(shape.length, shape));
        d.write(new FloatPointer(values), PredType.NATIVE_FLOAT());
        d.close();
    }
}
