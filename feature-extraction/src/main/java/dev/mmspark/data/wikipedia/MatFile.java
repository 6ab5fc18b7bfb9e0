package dev.mmspark.data.wikipedia;

import dev.mmspark.common.InputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A reader of MATLAB Level 5 MAT-files (what {@code save} writes with {@code -v5}, {@code -v6} and the
 * default {@code -v7}), enough for feature matrices such as the Wikipedia cross-modal set's
 * {@code raw_features.mat}. Pure Java: no MATLAB, HDF5 or native library.
 *
 * <p>Format (MathWorks, "MAT-File Format", Level 5): a 128-byte header (text, subsystem offset, version
 * {@code 0x0100}, endian indicator {@code 'IM'} for little-endian or {@code 'MI'} for big-endian files), then
 * data elements, each an 8-byte tag (type, byte count) followed by its data padded to 8 bytes, or the
 * 4-byte "small data element" form (byte count in the upper 16 bits of the type word, data in the next 4
 * bytes). Each variable is one {@code miMATRIX} element, on its own or zlib-compressed inside an
 * {@code miCOMPRESSED} element. A numeric array's values may be stored in a smaller type than its class
 * (MATLAB writes a double matrix of small integers as {@code miUINT8}); they are widened to double here.
 * Values are in column-major order.
 *
 * <p>Only real numeric (and logical) arrays can be read as values; cell, struct, object, char, sparse and
 * complex arrays are listed but {@link #matrix(String)} refuses them with a message naming the variable and
 * its class. MATLAB v7.3 files are HDF5 files and are refused with a hint. int64/uint64 values beyond
 * 2<sup>53</sup> lose precision when widened to double.
 *
 * <p>The whole file is held in memory (compressed variables are inflated when the file is opened, so that
 * their names are known); it is meant for feature files of up to a few hundred MB.
 */
public final class MatFile {
    static final int HEADER_BYTES = 128;

    // Data types (miXXX), MAT-File Format table 1-1.
    static final int MI_INT8 = 1;
    static final int MI_UINT8 = 2;
    static final int MI_INT16 = 3;
    static final int MI_UINT16 = 4;
    static final int MI_INT32 = 5;
    static final int MI_UINT32 = 6;
    static final int MI_SINGLE = 7;
    static final int MI_DOUBLE = 9;
    static final int MI_INT64 = 12;
    static final int MI_UINT64 = 13;
    static final int MI_MATRIX = 14;
    static final int MI_COMPRESSED = 15;
    static final int MI_UTF8 = 16;

    // Array classes (mxXXX_CLASS), MAT-File Format table 1-3.
    static final int MX_CELL = 1;
    static final int MX_STRUCT = 2;
    static final int MX_OBJECT = 3;
    static final int MX_CHAR = 4;
    static final int MX_SPARSE = 5;
    static final int MX_DOUBLE = 6;
    static final int MX_SINGLE = 7;
    static final int MX_INT8 = 8;
    static final int MX_UINT8 = 9;
    static final int MX_INT16 = 10;
    static final int MX_UINT16 = 11;
    static final int MX_INT32 = 12;
    static final int MX_UINT32 = 13;
    static final int MX_INT64 = 14;
    static final int MX_UINT64 = 15;
    static final int MX_FUNCTION = 16;
    static final int MX_OPAQUE = 17;

    private static final int FLAG_COMPLEX = 0x08;
    private static final int FLAG_LOGICAL = 0x02;

    private final String fileName;
    private final ByteOrder order;
    private final String headerText;
    private final Map<String, Variable> variables;

    private MatFile(String fileName, ByteOrder order, String headerText, Map<String, Variable> variables) {
        this.fileName = fileName;
        this.order = order;
        this.headerText = headerText;
        this.variables = variables;
    }

    /** One variable: its class and shape, and where its real values are (null for non-numeric classes). */
    private record Variable(String name, int mxClass, boolean complex, boolean logical, int[] dims,
                            ByteBuffer data, int dataPos, int dataType) {
    }

    /** Reads a MAT-file from the local file system; messages name it by its file name. */
    public static MatFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new InputException(file + ": cannot read MAT-file (" + e.getMessage() + ")", e);
        }
        return parse(file.getFileName().toString(), bytes);
    }

    /**
     * Parses the bytes of a MAT-file.
     *
     * @param fileName how messages name the file
     */
    public static MatFile parse(String fileName, byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new InputException(fileName + ": not a MATLAB v5 MAT-file: it has " + bytes.length
                    + " bytes, fewer than the 128-byte MAT-file header (truncated file?)");
        }
        String text = new String(bytes, 0, 116, StandardCharsets.ISO_8859_1).stripTrailing();
        ByteOrder order;
        if (bytes[126] == 'I' && bytes[127] == 'M') {
            order = ByteOrder.LITTLE_ENDIAN;
        } else if (bytes[126] == 'M' && bytes[127] == 'I') {
            order = ByteOrder.BIG_ENDIAN;
        } else {
            throw new InputException(fileName + ": not a MATLAB v5 MAT-file: bytes 126-127 hold no endian"
                    + " indicator 'IM' or 'MI' (header text: \"" + printable(text, 40) + "\")");
        }
        int version = ByteBuffer.wrap(bytes, 124, 2).order(order).getShort() & 0xffff;
        if (version != 0x0100) {
            String hint = text.startsWith("MATLAB 7.3") ? "; this is a MATLAB v7.3 (HDF5) file: save it again"
                    + " with save(..., '-v7') or read it with an HDF5 library" : "";
            throw new InputException(fileName + ": unsupported MAT-file version 0x"
                    + Integer.toHexString(version) + " (expected 0x0100, Level 5)" + hint);
        }
        Map<String, Variable> vars = new LinkedHashMap<>();
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(order);
        int pos = HEADER_BYTES;
        while (pos < bytes.length) {
            if (allZero(bytes, pos, bytes.length)) {
                break; // trailing padding
            }
            pos = topLevelTag(fileName, buf, pos);
            int type = buf.getInt(pos);
            long size = buf.getInt(pos + 4) & 0xffffffffL;
            long end = pos + 8L + size;
            if (end > bytes.length) {
                throw new InputException(fileName + ": truncated: the data element at byte " + pos + " declares "
                        + size + " bytes but only " + (bytes.length - pos - 8) + " follow its tag");
            }
            Variable v;
            if (type == MI_COMPRESSED) {
                byte[] inflated = inflate(fileName, bytes, pos + 8, (int) size, order);
                ByteBuffer ib = ByteBuffer.wrap(inflated).order(order);
                String where = "compressed element at byte " + pos;
                if (inflated.length < 8 || ib.getInt(0) != MI_MATRIX) {
                    throw new InputException(fileName + ": " + where + " does not hold an miMATRIX element");
                }
                long inner = ib.getInt(4) & 0xffffffffL;
                if (8 + inner > inflated.length) {
                    throw new InputException(fileName + ": " + where + " is truncated: its matrix declares "
                            + inner + " bytes but only " + (inflated.length - 8) + " were compressed");
                }
                v = matrix(fileName, ib, 8, (int) inner, where);
            } else {
                v = matrix(fileName, buf, pos + 8, (int) size, "matrix element at byte " + pos);
            }
            // MATLAB stores its subsystem data (function handles, objects) as a nameless variable.
            if (!v.name().isEmpty()) {
                if (vars.containsKey(v.name())) {
                    throw new InputException(fileName + ": variable '" + v.name() + "' occurs twice");
                }
                vars.put(v.name(), v);
            }
            pos = (int) end;
        }
        return new MatFile(fileName, order, text, Collections.unmodifiableMap(vars));
    }

    /**
     * Where the next top-level element starts: MATLAB does not pad compressed elements to 8 bytes, so the
     * next tag may be unaligned; a writer that does pad them is tolerated too: an unaligned position that
     * holds no valid tag is retried at the next 8-byte boundary.
     */
    private static int topLevelTag(String fileName, ByteBuffer buf, int pos) {
        int limit = buf.capacity();
        if (pos + 8 <= limit && validTopLevelType(buf.getInt(pos))) {
            return pos;
        }
        int aligned = (pos + 7) & ~7;
        if (aligned != pos && aligned + 8 <= limit && validTopLevelType(buf.getInt(aligned))) {
            return aligned;
        }
        if (pos + 8 > limit) {
            throw new InputException(fileName + ": truncated: " + (limit - pos) + " stray bytes at byte " + pos
                    + " where a data element tag (8 bytes) should start");
        }
        throw new InputException(fileName + ": corrupt: the data element at byte " + pos + " has type "
                + buf.getInt(pos) + "; expected miMATRIX (14) or miCOMPRESSED (15)");
    }

    private static boolean validTopLevelType(int word) {
        return word == MI_MATRIX || word == MI_COMPRESSED;
    }

    private static byte[] inflate(String fileName, byte[] bytes, int offset, int length, ByteOrder order) {
        Inflater inf = new Inflater();
        try {
            inf.setInput(bytes, offset, length);
            // The inner tag gives the inflated size: read it first, then allocate exactly.
            byte[] tag = new byte[8];
            readFully(inf, tag, 0, fileName, offset);
            long size = ByteBuffer.wrap(tag).order(order).getInt(4) & 0xffffffffL;
            // zlib expands at most about 1032:1; a larger claim is a corrupt tag (and must not allocate GBs)
            if (size > 1100L * length + 64) {
                throw new InputException(fileName + ": the compressed element at byte " + (offset - 8)
                        + " is corrupt: its matrix claims " + size + " bytes, more than " + length
                        + " compressed bytes can hold");
            }
            if (size > Integer.MAX_VALUE - 16) {
                throw new InputException(fileName + ": the compressed element at byte " + (offset - 8)
                        + " holds a variable of " + size + " bytes; variables over 2 GB are not supported");
            }
            byte[] out = new byte[(int) (8 + size)];
            System.arraycopy(tag, 0, out, 0, 8);
            int n = 8 + readAvailable(inf, out, 8, fileName, offset);
            // Inflate to the end of the stream so that its Adler-32 checksum is verified.
            byte[] rest = new byte[512];
            while (!inf.finished() && readAvailable(inf, rest, 0, fileName, offset) > 0) {
                // bytes beyond the declared matrix size are ignored
            }
            return n == out.length ? out : Arrays.copyOf(out, n);
        } finally {
            inf.end();
        }
    }

    private static void readFully(Inflater inf, byte[] out, int off, String fileName, int offset) {
        int n = readAvailable(inf, out, off, fileName, offset);
        if (off + n < out.length) {
            throw new InputException(fileName + ": the compressed element at byte " + (offset - 8)
                    + " is truncated (its zlib stream ends after " + (off + n) + " bytes)");
        }
    }

    /** Inflates into out[off..] until it is full or the stream ends; returns the number of bytes. */
    private static int readAvailable(Inflater inf, byte[] out, int off, String fileName, int offset) {
        int n = 0;
        try {
            while (off + n < out.length && !inf.finished()) {
                int k = inf.inflate(out, off + n, out.length - off - n);
                if (k == 0 && (inf.needsInput() || inf.needsDictionary())) {
                    break;
                }
                n += k;
            }
        } catch (DataFormatException e) {
            throw new InputException(fileName + ": the compressed element at byte " + (offset - 8)
                    + " holds corrupt zlib data (" + e.getMessage() + ")", e);
        }
        return n;
    }

    /** A sub-element inside a matrix: type, byte count and where its data starts; next is the following one. */
    private record Element(int type, int bytes, int dataPos, int next) {
    }

    private static Element element(String fileName, ByteBuffer b, int pos, int end, String where) {
        if (pos + 8 > end) {
            throw new InputException(fileName + ": " + where + " is truncated (a sub-element tag at byte " + pos
                    + " runs past the element's end)");
        }
        int word = b.getInt(pos);
        if ((word >>> 16) != 0) {
            // Small data element: byte count in the upper 16 bits, up to 4 bytes of data in the tag itself.
            int n = word >>> 16;
            if (n > 4) {
                throw new InputException(fileName + ": " + where + " is corrupt (a small data element at byte "
                        + pos + " claims " + n + " bytes, at most 4 fit)");
            }
            return new Element(word & 0xffff, n, pos + 4, pos + 8);
        }
        long n = b.getInt(pos + 4) & 0xffffffffL;
        long next = pos + 8L + ((n + 7) & ~7L);
        if (pos + 8L + n > end) {
            throw new InputException(fileName + ": " + where + " is truncated (a sub-element at byte " + pos
                    + " declares " + n + " bytes, only " + (end - pos - 8) + " remain)");
        }
        return new Element(word, (int) n, pos + 8, (int) Math.min(next, end));
    }

    private static Variable matrix(String fileName, ByteBuffer b, int start, int size, String where) {
        int end = start + size;
        Element flags = element(fileName, b, start, end, where);
        if (flags.type() != MI_UINT32 || flags.bytes() != 8) {
            throw new InputException(fileName + ": " + where + " is corrupt (its first sub-element should be the"
                    + " 8-byte miUINT32 array flags, found type " + flags.type() + " with " + flags.bytes()
                    + " bytes)");
        }
        int f = b.getInt(flags.dataPos());
        int mxClass = f & 0xff;
        boolean complex = (f >>> 8 & FLAG_COMPLEX) != 0;
        boolean logical = (f >>> 8 & FLAG_LOGICAL) != 0;
        int pos = flags.next();
        int[] dims = null;
        if (mxClass != MX_OPAQUE) {
            Element d = element(fileName, b, pos, end, where);
            if (d.type() != MI_INT32 || d.bytes() % 4 != 0) {
                throw new InputException(fileName + ": " + where + " is corrupt (expected the miINT32 dimensions"
                        + " array, found type " + d.type() + ")");
            }
            dims = new int[d.bytes() / 4];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = b.getInt(d.dataPos() + 4 * i);
            }
            pos = d.next();
        }
        Element n = element(fileName, b, pos, end, where);
        if (n.type() != MI_INT8 && n.type() != MI_UINT8 && n.type() != MI_UTF8) {
            throw new InputException(fileName + ": " + where + " is corrupt (expected the array name, found an"
                    + " element of type " + n.type() + ")");
        }
        byte[] nameBytes = new byte[n.bytes()];
        b.get(n.dataPos(), nameBytes);
        String name = new String(nameBytes, StandardCharsets.UTF_8);
        pos = n.next();
        if (!isNumeric(mxClass) || complex) {
            return new Variable(name, mxClass, complex, logical, dims, null, 0, 0);
        }
        String vw = "variable '" + name + "'";
        Element real = element(fileName, b, pos, end, vw);
        int width = typeWidth(real.type());
        if (width == 0) {
            throw new InputException(fileName + ": " + vw + " (" + className(mxClass, false, logical)
                    + ") stores its values as data type " + real.type() + ", which is not a numeric type");
        }
        long count = 1;
        for (int d : dims) {
            if (d < 0) {
                throw new InputException(fileName + ": " + vw + " has a negative dimension "
                        + shape(dims));
            }
            count *= d;
        }
        if ((long) real.bytes() != count * width) {
            throw new InputException(fileName + ": " + vw + " has dimensions " + shape(dims) + " (" + count
                    + " values) but its data holds " + real.bytes() + " bytes of " + typeName(real.type())
                    + " (" + real.bytes() / width + " values)");
        }
        return new Variable(name, mxClass, false, logical, dims, b, real.dataPos(), real.type());
    }

    private static boolean isNumeric(int mxClass) {
        return mxClass >= MX_DOUBLE && mxClass <= MX_UINT64;
    }

    /** The file name used in messages. */
    public String fileName() {
        return fileName;
    }

    /** The file's byte order, from its endian indicator. */
    public ByteOrder byteOrder() {
        return order;
    }

    /** The descriptive text of the header, e.g. {@code MATLAB 5.0 MAT-file, Platform: GLNXA64, ...}. */
    public String headerText() {
        return headerText;
    }

    /** Variable names in file order. */
    public List<String> variableNames() {
        return List.copyOf(variables.keySet());
    }

    public boolean contains(String name) {
        return variables.containsKey(name);
    }

    /** MATLAB's class name of a variable, e.g. {@code double}, {@code logical}, {@code cell}, {@code sparse}. */
    public String className(String name) {
        Variable v = variable(name);
        return className(v.mxClass(), v.complex(), v.logical());
    }

    /** A variable's dimensions (rows, columns, ...); null for objects, which carry none. */
    public int[] dimensions(String name) {
        int[] d = variable(name).dims();
        return d == null ? null : d.clone();
    }

    /**
     * The values of a real numeric or logical 2-D array as {@code rows x cols}, {@code [i][j]} being MATLAB's
     * {@code (i+1, j+1)}, widened to double whatever type they are stored in.
     */
    public double[][] matrix(String name) {
        Variable v = variable(name);
        if (v.data() == null) {
            String c = className(name);
            throw new InputException(fileName + ": variable '" + name + "' is " + article(c) + " " + c
                    + " array; only real numeric or logical arrays can be read as a matrix");
        }
        if (v.dims().length != 2) {
            throw new InputException(fileName + ": variable '" + name + "' has " + v.dims().length
                    + " dimensions (" + shape(v.dims()) + "); a matrix needs exactly 2");
        }
        int rows = v.dims()[0];
        int cols = v.dims()[1];
        double[][] m = new double[rows][cols];
        ByteBuffer b = v.data();
        int width = typeWidth(v.dataType());
        int base = v.dataPos();
        for (int j = 0; j < cols; j++) {
            for (int i = 0; i < rows; i++) {
                m[i][j] = value(b, v.dataType(), base + ((long) j * rows + i) * width);
            }
        }
        return m;
    }

    private Variable variable(String name) {
        Variable v = variables.get(name);
        if (v == null) {
            throw new InputException(fileName + ": no variable '" + name + "'; the file holds "
                    + (variables.isEmpty() ? "no variables" : String.join(", ", variables.keySet())));
        }
        return v;
    }

    private static double value(ByteBuffer b, int type, long at) {
        int p = (int) at;
        return switch (type) {
            case MI_INT8 -> b.get(p);
            case MI_UINT8 -> b.get(p) & 0xff;
            case MI_INT16 -> b.getShort(p);
            case MI_UINT16 -> b.getShort(p) & 0xffff;
            case MI_INT32 -> b.getInt(p);
            case MI_UINT32 -> b.getInt(p) & 0xffffffffL;
            case MI_SINGLE -> b.getFloat(p);
            case MI_DOUBLE -> b.getDouble(p);
            case MI_INT64 -> b.getLong(p);
            case MI_UINT64 -> unsigned(b.getLong(p));
            default -> throw new IllegalStateException("not numeric: " + type);
        };
    }

    private static double unsigned(long v) {
        double d = (double) (v >>> 1) * 2.0;
        return d + (v & 1L);
    }

    static int typeWidth(int type) {
        return switch (type) {
            case MI_INT8, MI_UINT8 -> 1;
            case MI_INT16, MI_UINT16 -> 2;
            case MI_INT32, MI_UINT32, MI_SINGLE -> 4;
            case MI_DOUBLE, MI_INT64, MI_UINT64 -> 8;
            default -> 0;
        };
    }

    static String typeName(int type) {
        return switch (type) {
            case MI_INT8 -> "miINT8";
            case MI_UINT8 -> "miUINT8";
            case MI_INT16 -> "miINT16";
            case MI_UINT16 -> "miUINT16";
            case MI_INT32 -> "miINT32";
            case MI_UINT32 -> "miUINT32";
            case MI_SINGLE -> "miSINGLE";
            case MI_DOUBLE -> "miDOUBLE";
            case MI_INT64 -> "miINT64";
            case MI_UINT64 -> "miUINT64";
            default -> "type " + type;
        };
    }

    static String className(int mxClass, boolean complex, boolean logical) {
        String c = switch (mxClass) {
            case MX_CELL -> "cell";
            case MX_STRUCT -> "struct";
            case MX_OBJECT -> "object";
            case MX_CHAR -> "char";
            case MX_SPARSE -> "sparse";
            case MX_DOUBLE -> "double";
            case MX_SINGLE -> "single";
            case MX_INT8 -> "int8";
            case MX_UINT8 -> logical ? "logical" : "uint8";
            case MX_INT16 -> "int16";
            case MX_UINT16 -> "uint16";
            case MX_INT32 -> "int32";
            case MX_UINT32 -> "uint32";
            case MX_INT64 -> "int64";
            case MX_UINT64 -> "uint64";
            case MX_FUNCTION -> "function handle";
            case MX_OPAQUE -> "opaque object";
            default -> "unknown class " + mxClass;
        };
        return complex ? "complex " + c : c;
    }

    private static String article(String word) {
        return "aeiou".indexOf(word.charAt(0)) >= 0 ? "an" : "a";
    }

    static String shape(int[] dims) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < dims.length; i++) {
            s.append(i == 0 ? "" : "x").append(dims[i]);
        }
        return s.toString();
    }

    private static boolean allZero(byte[] b, int from, int to) {
        if (to - from >= 8) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static String printable(String s, int max) {
        String t = s.length() > max ? s.substring(0, max) + "..." : s;
        StringBuilder out = new StringBuilder();
        for (char c : t.toCharArray()) {
            out.append(c >= 32 && c < 127 ? c : '?');
        }
        return out.toString();
    }
}
