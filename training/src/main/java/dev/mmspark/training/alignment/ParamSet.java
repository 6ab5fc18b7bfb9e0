package dev.mmspark.training.alignment;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Named float32 tensors (parameters, gradients, Adam moments), in a fixed order. Plain Java arrays rather than
 * INDArrays so that they serialise compactly for Spark (broadcast, treeAggregate, checkpoints) and can be
 * averaged without touching ND4J.
 */
public final class ParamSet implements Serializable {
    private static final long serialVersionUID = 1L;
    private static final int MAGIC = 0x4d4d5053; // "MMPS"

    private final LinkedHashMap<String, long[]> shapes = new LinkedHashMap<>();
    private final LinkedHashMap<String, float[]> values = new LinkedHashMap<>();

    public void put(String name, long[] shape, float[] v) {
        if (length(shape) != v.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " holds " + length(shape)
                    + " values, got " + v.length);
        }
        shapes.put(name, shape.clone());
        values.put(name, v);
    }

    public float[] get(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no parameter '" + name + "'; have " + values.keySet());
        }
        return v;
    }

    public long[] shape(String name) {
        return shapes.get(name).clone();
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public List<String> names() {
        return Collections.unmodifiableList(List.copyOf(values.keySet()));
    }

    /** Total number of values. */
    public long size() {
        long n = 0;
        for (float[] v : values.values()) {
            n += v.length;
        }
        return n;
    }

    public ParamSet copy() {
        ParamSet p = new ParamSet();
        values.forEach((k, v) -> p.put(k, shapes.get(k), v.clone()));
        return p;
    }

    public ParamSet zerosLike() {
        ParamSet p = new ParamSet();
        values.forEach((k, v) -> p.put(k, shapes.get(k), new float[v.length]));
        return p;
    }

    /** this += other (same names and shapes). */
    public ParamSet addInPlace(ParamSet other) {
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            float[] a = e.getValue();
            float[] b = other.get(e.getKey());
            if (a.length != b.length) {
                throw new IllegalArgumentException(e.getKey() + ": " + a.length + " vs " + b.length + " values");
            }
            for (int i = 0; i < a.length; i++) {
                a[i] += b[i];
            }
        }
        return this;
    }

    public ParamSet scaleInPlace(double factor) {
        float f = (float) factor;
        for (float[] a : values.values()) {
            for (int i = 0; i < a.length; i++) {
                a[i] *= f;
            }
        }
        return this;
    }

    public double sumOfSquares() {
        double s = 0;
        for (float[] a : values.values()) {
            for (float x : a) {
                s += (double) x * x;
            }
        }
        return s;
    }

    /** Whether every value is finite. */
    public boolean finite() {
        for (float[] a : values.values()) {
            for (float x : a) {
                if (!Float.isFinite(x)) {
                    return false;
                }
            }
        }
        return true;
    }

    public void write(DataOutputStream out) throws IOException {
        out.writeInt(MAGIC);
        out.writeInt(values.size());
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            out.writeUTF(e.getKey());
            long[] s = shapes.get(e.getKey());
            out.writeInt(s.length);
            for (long d : s) {
                out.writeLong(d);
            }
            float[] v = e.getValue();
            byte[] buf = new byte[v.length * 4];
            java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(v);
            out.write(buf);
        }
    }

    public static ParamSet read(DataInputStream in) throws IOException {
        if (in.readInt() != MAGIC) {
            throw new IOException("not a parameter file (bad magic number)");
        }
        int n = in.readInt();
        ParamSet p = new ParamSet();
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            long[] s = new long[in.readInt()];
            for (int j = 0; j < s.length; j++) {
                s[j] = in.readLong();
            }
            byte[] buf = new byte[Math.toIntExact(length(s) * 4)];
            in.readFully(buf);
            float[] v = new float[buf.length / 4];
            java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            p.put(name, s, v);
        }
        return p;
    }

    static long length(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    // ------------------------------------------------------------------ initialisers (torch defaults)

    /** U(-bound, bound) values. */
    public static float[] uniform(int n, double bound, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }

    /** N(0, std²) values. */
    public static float[] normal(int n, double std, SplittableRandom rng) {
        float[] v = new float[n];
        for (int i = 0; i < n; i += 2) {
            // Box-Muller: two normals per pair of uniforms
            double u1 = 1 - rng.nextDouble();
            double u2 = rng.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1));
            v[i] = (float) (std * r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                v[i + 1] = (float) (std * r * Math.sin(2 * Math.PI * u2));
            }
        }
        return v;
    }

    public static float[] filled(int n, float value) {
        float[] v = new float[n];
        Arrays.fill(v, value);
        return v;
    }

    /**
     * A torch {@code nn.Linear(in, out)} with its default initialisation (kaiming-uniform with a = √5, i.e.
     * U(±1/√in) for weight and bias): weight {@code [in, out]} (input-major, so {@code y = x·W + b}) and bias.
     */
    public void linear(String name, int in, int out, SplittableRandom rng) {
        double bound = 1 / Math.sqrt(in);
        put(name + ".W", new long[]{in, out}, uniform(in * out, bound, rng));
        put(name + ".b", new long[]{out}, uniform(out, bound, rng));
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("ParamSet{");
        shapes.forEach((k, s) -> b.append(k).append(Arrays.toString(s)).append(' '));
        return b.append('}').toString();
    }
}
