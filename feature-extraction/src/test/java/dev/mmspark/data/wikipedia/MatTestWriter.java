package dev.mmspark.data.wikipedia;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.Deflater;

import static dev.mmspark.data.wikipedia.MatFile.MI_COMPRESSED;
import static dev.mmspark.data.wikipedia.MatFile.MI_DOUBLE;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT16;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT32;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT64;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT8;
import static dev.mmspark.data.wikipedia.MatFile.MI_MATRIX;
import static dev.mmspark.data.wikipedia.MatFile.MI_SINGLE;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT16;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT32;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT64;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT8;

/**
 * Writes small MATLAB Level 5 MAT-files for tests, the way MATLAB lays them out: 128-byte header, one
 * {@code miMATRIX} per variable (optionally zlib-compressed in an {@code miCOMPRESSED} element, unpadded as
 * MATLAB writes it), sub-elements padded to 8 bytes, the 4-byte small-data form for elements of at most 4
 * bytes, values column-major in any numeric storage type. Checked by hand against scipy.io.loadmat.
 */
final class MatTestWriter {
    private final ByteOrder order;
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();
    private boolean padCompressed;

    MatTestWriter(ByteOrder order) {
        this.order = order;
    }

    /** Pads compressed elements to 8 bytes too (some non-MATLAB writers do). */
    MatTestWriter padCompressed() {
        this.padCompressed = true;
        return this;
    }

    /** A real numeric 2-D array of class {@code mxClass} whose values are stored as {@code storedAs}. */
    MatTestWriter numeric(String name, double[][] m, int mxClass, int storedAs, boolean compressed) {
        int rows = m.length;
        int cols = rows == 0 ? 0 : m[0].length;
        double[] colMajor = new double[rows * cols];
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                colMajor[j * rows + i] = m[i][j];
            }
        }
        return array(name, mxClass, 0, new int[]{rows, cols}, compressed, values(storedAs, colMajor));
    }

    /** A numeric array of any shape from column-major values. */
    MatTestWriter numericNd(String name, int[] dims, double[] colMajor, int mxClass, int storedAs,
                            boolean compressed) {
        return array(name, mxClass, 0, dims, compressed, values(storedAs, colMajor));
    }

    /** A complex double matrix (1 x n). */
    MatTestWriter complexRow(String name, double[] re, double[] im, boolean compressed) {
        return array(name, MatFile.MX_DOUBLE, 0x08, new int[]{1, re.length}, compressed,
                concat(values(MI_DOUBLE, re), values(MI_DOUBLE, im)));
    }

    /** A char row vector, stored as miUINT16 as MATLAB does. */
    MatTestWriter chars(String name, String s, boolean compressed) {
        double[] codes = s.chars().asDoubleStream().toArray();
        return array(name, MatFile.MX_CHAR, 0, new int[]{1, s.length()}, compressed, values(MI_UINT16, codes));
    }

    /** A 1x1 cell holding a 1x1 double. */
    MatTestWriter cell(String name, double value, boolean compressed) {
        byte[] inner = matrixElement("", MatFile.MX_DOUBLE, 0, 0, new int[]{1, 1}, values(MI_DOUBLE,
                new double[]{value}));
        return array(name, MatFile.MX_CELL, 0, new int[]{1, 1}, compressed, inner);
    }

    /** A 1x1 struct with one field {@code a} holding a 1x1 double. */
    MatTestWriter struct(String name, double a, boolean compressed) {
        byte[] fieldNameLength = element(MI_INT32, ints(32));
        byte[] names = new byte[32];
        names[0] = 'a';
        byte[] field = matrixElement("", MatFile.MX_DOUBLE, 0, 0, new int[]{1, 1}, values(MI_DOUBLE,
                new double[]{a}));
        return array(name, MatFile.MX_STRUCT, 0, new int[]{1, 1}, compressed,
                concat(fieldNameLength, element(MI_INT8, names), field));
    }

    /** An n x n sparse double identity matrix. */
    MatTestWriter sparseIdentity(String name, int n, boolean compressed) {
        int[] ir = new int[n];
        int[] jc = new int[n + 1];
        double[] pr = new double[n];
        for (int i = 0; i < n; i++) {
            ir[i] = i;
            jc[i + 1] = i + 1;
            pr[i] = 1;
        }
        byte[] data = concat(element(MI_INT32, ints(ir)), element(MI_INT32, ints(jc)), values(MI_DOUBLE, pr));
        return writeTopLevel(matrixElement(name, MatFile.MX_SPARSE, 0, n, new int[]{n, n}, data), compressed);
    }

    private MatTestWriter array(String name, int mxClass, int flags, int[] dims, boolean compressed, byte[] data) {
        return writeTopLevel(matrixElement(name, mxClass, flags, 0, dims, data), compressed);
    }

    private MatTestWriter writeTopLevel(byte[] matrix, boolean compressed) {
        if (!compressed) {
            body.writeBytes(matrix);
            return this;
        }
        Deflater d = new Deflater();
        d.setInput(matrix);
        d.finish();
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!d.finished()) {
            z.write(buf, 0, d.deflate(buf));
        }
        d.end();
        byte[] zb = z.toByteArray();
        body.writeBytes(tag(MI_COMPRESSED, zb.length));
        body.writeBytes(zb);
        if (padCompressed) {
            body.writeBytes(new byte[pad(zb.length)]);
        }
        return this;
    }

    private byte[] matrixElement(String name, int mxClass, int flags, int nzmax, int[] dims, byte[] data) {
        byte[] content = concat(
                element(MatFile.MI_UINT32, ints(mxClass | flags << 8, nzmax)),
                element(MI_INT32, ints(dims)),
                element(MI_INT8, name.getBytes(StandardCharsets.US_ASCII)),
                data);
        return concat(tag(MI_MATRIX, content.length), content);
    }

    /** A numeric data element of the given storage type; values must fit in it. */
    byte[] values(int type, double[] v) {
        int w = MatFile.typeWidth(type);
        ByteBuffer b = ByteBuffer.allocate(v.length * w).order(order);
        for (double x : v) {
            switch (type) {
                case MI_INT8, MI_UINT8 -> b.put((byte) (long) x);
                case MI_INT16, MI_UINT16 -> b.putShort((short) (long) x);
                case MI_INT32, MI_UINT32 -> b.putInt((int) (long) x);
                case MI_SINGLE -> b.putFloat((float) x);
                case MI_DOUBLE -> b.putDouble(x);
                case MI_INT64 -> b.putLong((long) x);
                case MI_UINT64 -> b.putLong(new java.math.BigDecimal(x).toBigInteger().longValue());
                default -> throw new IllegalArgumentException("type " + type);
            }
        }
        return element(type, b.array());
    }

    /** A data element: the small 4-byte-tag form when the data fits in 4 bytes (as MATLAB writes it). */
    byte[] element(int type, byte[] data) {
        if (data.length <= 4 && data.length > 0) {
            ByteBuffer b = ByteBuffer.allocate(8).order(order);
            b.putInt(data.length << 16 | type);
            b.put(data);
            return b.array();
        }
        return concat(tag(type, data.length), data, new byte[pad(data.length)]);
    }

    private byte[] tag(int type, int bytes) {
        return ByteBuffer.allocate(8).order(order).putInt(type).putInt(bytes).array();
    }

    private byte[] ints(int... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(order);
        for (int x : v) {
            b.putInt(x);
        }
        return b.array();
    }

    private static int pad(int n) {
        return (8 - n % 8) % 8;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    byte[] bytes() {
        byte[] header = new byte[MatFile.HEADER_BYTES];
        byte[] text = "MATLAB 5.0 MAT-file, Platform: mmspark-test".getBytes(StandardCharsets.US_ASCII);
        Arrays.fill(header, 0, 116, (byte) ' ');
        System.arraycopy(text, 0, header, 0, text.length);
        ByteBuffer h = ByteBuffer.wrap(header).order(order);
        h.putShort(124, (short) 0x0100);
        h.putShort(126, (short) ('M' << 8 | 'I'));
        return concat(header, body.toByteArray());
    }

    Path write(Path file) {
        try {
            return Files.write(file, bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
