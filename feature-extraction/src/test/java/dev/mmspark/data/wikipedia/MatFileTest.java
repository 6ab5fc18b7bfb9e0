package dev.mmspark.data.wikipedia;

import dev.mmspark.common.InputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import static dev.mmspark.data.wikipedia.MatFile.MI_DOUBLE;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT16;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT32;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT64;
import static dev.mmspark.data.wikipedia.MatFile.MI_INT8;
import static dev.mmspark.data.wikipedia.MatFile.MI_SINGLE;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT16;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT32;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT64;
import static dev.mmspark.data.wikipedia.MatFile.MI_UINT8;
import static dev.mmspark.data.wikipedia.MatFile.MX_DOUBLE;
import static dev.mmspark.data.wikipedia.MatFile.MX_INT16;
import static dev.mmspark.data.wikipedia.MatFile.MX_INT32;
import static dev.mmspark.data.wikipedia.MatFile.MX_INT64;
import static dev.mmspark.data.wikipedia.MatFile.MX_INT8;
import static dev.mmspark.data.wikipedia.MatFile.MX_SINGLE;
import static dev.mmspark.data.wikipedia.MatFile.MX_UINT16;
import static dev.mmspark.data.wikipedia.MatFile.MX_UINT32;
import static dev.mmspark.data.wikipedia.MatFile.MX_UINT64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MatFileTest {
    private static final double[][] A = {{1.5, -2.0, 3.0}, {4.0, 5e10, -6.25}};
    private static final double[][] SMALL_INTS = {{0, 7, 255}, {12, 128, 1}};
    private static final double[][] SIGNED = {{-32768, 0}, {-1, 32767}, {300, -300}};

    @Test
    void readsUncompressedDoubleStoredAsDouble() {
        MatFile f = MatFile.parse("a.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numeric("A", A, MX_DOUBLE, MI_DOUBLE, false).bytes());
        assertEquals(List.of("A"), f.variableNames());
        assertEquals("double", f.className("A"));
        assertArrayEquals(new int[]{2, 3}, f.dimensions("A"));
        assertMatrix(A, f.matrix("A"));
        assertEquals(ByteOrder.LITTLE_ENDIAN, f.byteOrder());
        assertEquals("MATLAB 5.0 MAT-file, Platform: mmspark-test", f.headerText());
    }

    @Test
    void readsCompressedDoublesStoredInSmallerIntegerTypes() {
        MatFile f = MatFile.parse("a.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numeric("u8", SMALL_INTS, MX_DOUBLE, MI_UINT8, true)
                .numeric("i16", SIGNED, MX_DOUBLE, MI_INT16, true)
                .numeric("A", A, MX_DOUBLE, MI_DOUBLE, true)
                .bytes());
        assertEquals(List.of("u8", "i16", "A"), f.variableNames());
        assertMatrix(SMALL_INTS, f.matrix("u8"));
        assertMatrix(SIGNED, f.matrix("i16"));
        assertMatrix(A, f.matrix("A"));
        assertEquals("double", f.className("u8"));
    }

    @Test
    void readsBigEndianFiles() {
        MatFile f = MatFile.parse("be.mat", new MatTestWriter(ByteOrder.BIG_ENDIAN)
                .numeric("A", A, MX_DOUBLE, MI_DOUBLE, true)
                .numeric("B", SIGNED, MX_DOUBLE, MI_INT16, false)
                .numeric("s", new double[][]{{0.25, -1.5}}, MX_SINGLE, MI_SINGLE, true)
                .numeric("u8", SMALL_INTS, MX_DOUBLE, MI_UINT8, false)
                .bytes());
        assertEquals(ByteOrder.BIG_ENDIAN, f.byteOrder());
        assertEquals(List.of("A", "B", "s", "u8"), f.variableNames());
        assertMatrix(A, f.matrix("A"));
        assertMatrix(SIGNED, f.matrix("B"));
        assertMatrix(new double[][]{{0.25, -1.5}}, f.matrix("s"));
        assertEquals("single", f.className("s"));
        assertMatrix(SMALL_INTS, f.matrix("u8"));
    }

    @Test
    void readsEveryNumericClassAndStorageType() {
        // the largest double below 2^64: exercises the unsigned widening above Long.MAX_VALUE
        double[][] big = {{18446744073709549568.0, 9223372036854777856.0}};
        MatFile f = MatFile.parse("all.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numeric("i8", new double[][]{{-128, 127}}, MX_INT8, MI_INT8, false)
                .numeric("u16", new double[][]{{65535, 1}}, MX_UINT16, MI_UINT16, true)
                .numeric("i32", new double[][]{{-2147483648, 5}}, MX_INT32, MI_INT32, false)
                .numeric("u32", new double[][]{{4294967295.0, 0}}, MX_UINT32, MI_UINT32, true)
                .numeric("i64", new double[][]{{-9007199254740992.0, 3}}, MX_INT64, MI_INT64, false)
                .numeric("u64", big, MX_UINT64, MI_UINT64, false)
                .numeric("i16", new double[][]{{-7}}, MX_INT16, MI_INT16, false)
                .bytes());
        assertMatrix(new double[][]{{-128, 127}}, f.matrix("i8"));
        assertMatrix(new double[][]{{65535, 1}}, f.matrix("u16"));
        assertMatrix(new double[][]{{-2147483648, 5}}, f.matrix("i32"));
        assertMatrix(new double[][]{{4294967295.0, 0}}, f.matrix("u32"));
        assertMatrix(new double[][]{{-9007199254740992.0, 3}}, f.matrix("i64"));
        assertMatrix(big, f.matrix("u64"));
        assertEquals("uint64", f.className("u64"));
        // a 1x1 int16 takes 2 bytes: written as a small data element (4-byte tag)
        assertMatrix(new double[][]{{-7}}, f.matrix("i16"));
    }

    @Test
    void readsSmallDataElementsAndEmptyMatrices() {
        // 1x3 double stored as uint8: 3 bytes of data in the tag's second word (small data element form)
        MatFile f = MatFile.parse("small.mat", new MatTestWriter(ByteOrder.BIG_ENDIAN)
                .numeric("v", new double[][]{{9, 8, 7}}, MX_DOUBLE, MI_UINT8, true)
                .numeric("empty", new double[0][0], MX_DOUBLE, MI_DOUBLE, false)
                .numeric("noRows", new double[0][], MX_DOUBLE, MI_DOUBLE, true)
                .bytes());
        assertMatrix(new double[][]{{9, 8, 7}}, f.matrix("v"));
        assertEquals(0, f.matrix("empty").length);
        assertArrayEquals(new int[]{0, 0}, f.dimensions("empty"));
    }

    @Test
    void acceptsCompressedElementsPaddedToEightBytes() {
        MatFile f = MatFile.parse("padded.mat", new MatTestWriter(ByteOrder.BIG_ENDIAN).padCompressed()
                .numeric("a", SMALL_INTS, MX_DOUBLE, MI_UINT8, true)
                .numeric("b", A, MX_DOUBLE, MI_DOUBLE, true)
                .bytes());
        assertMatrix(SMALL_INTS, f.matrix("a"));
        assertMatrix(A, f.matrix("b"));
        MatFile le = MatFile.parse("padded.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN).padCompressed()
                .numeric("a", SMALL_INTS, MX_DOUBLE, MI_UINT8, true)
                .numeric("b", A, MX_DOUBLE, MI_DOUBLE, true)
                .bytes());
        assertMatrix(A, le.matrix("b"));
    }

    /**
     * An independent writer: scipy 1.17.1 wrote this file. Generated with
     * <pre>
     * import scipy.io as sio, numpy as np, io, base64
     * f = io.BytesIO()
     * sio.savemat(f, {'A': np.array([[1.5, -2.0, 3.0], [4.0, 5e10, -6.25]]),
     *                 'counts': np.array([[1, 2], [3, -4]], dtype=np.int16)}, do_compression=True)
     * print(base64.b64encode(f.getvalue()).decode())
     * </pre>
     */
    @Test
    void readsAFileWrittenByScipy() {
        byte[] scipy = Base64.getDecoder().decode("TUFUTEFCIDUuMCBNQVQtZmlsZSBQbGF0Zm9ybTogcG9zaXgsIENyZWF0ZWQgb246IF"
                + "R1ZSBOb3YgMjQgMDg6MjA6MTQgMjAyNgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB"
                + "SU0PAAAAPgAAAHic42NgYEgAYjYg5oDSIMAK5TMBMTMQMwKhI5DmBGIDBhj4YQ+hBRygAgeA+EWZh7oThMsBFZc8AADPpwaIDwAAAD"
                + "EAAAB4nONjYGBwAGI2IOYAYi4GCGCF8pmgmBGqJjm/NK+kmIGBGSrPCGQxMfz5DwBaDwUn");
        MatFile f = MatFile.parse("scipy.mat", scipy);
        assertEquals(List.of("A", "counts"), f.variableNames());
        assertMatrix(A, f.matrix("A"));
        assertEquals("int16", f.className("counts"));
        assertMatrix(new double[][]{{1, 2}, {3, -4}}, f.matrix("counts"));
    }

    @Test
    void readsFromTheFileSystem(@TempDir Path dir) {
        Path p = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).numeric("A", A, MX_DOUBLE, MI_DOUBLE, true)
                .write(dir.resolve("f.mat"));
        MatFile f = MatFile.read(p);
        assertEquals("f.mat", f.fileName());
        assertMatrix(A, f.matrix("A"));
    }

    @Test
    void refusesUnsupportedClassesNamingVariableAndClass() {
        for (boolean compressed : new boolean[]{false, true}) {
            MatFile f = MatFile.parse("u.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                    .cell("c", 1.0, compressed)
                    .struct("st", 2.0, compressed)
                    .chars("name", "hello", compressed)
                    .sparseIdentity("sp", 3, compressed)
                    .complexRow("z", new double[]{1, 2}, new double[]{3, 4}, compressed)
                    .numeric("ok", A, MX_DOUBLE, MI_DOUBLE, compressed)
                    .bytes());
            assertEquals(List.of("c", "st", "name", "sp", "z", "ok"), f.variableNames());
            assertMatrix(A, f.matrix("ok"));
            assertMessage("u.mat: variable 'c' is a cell array; only real numeric or logical arrays can be read"
                    + " as a matrix", () -> f.matrix("c"));
            assertMessage("u.mat: variable 'st' is a struct array; only real numeric or logical arrays can be"
                    + " read as a matrix", () -> f.matrix("st"));
            assertMessage("u.mat: variable 'name' is a char array; only real numeric or logical arrays can be"
                    + " read as a matrix", () -> f.matrix("name"));
            assertMessage("u.mat: variable 'sp' is a sparse array; only real numeric or logical arrays can be"
                    + " read as a matrix", () -> f.matrix("sp"));
            assertMessage("u.mat: variable 'z' is a complex double array; only real numeric or logical arrays"
                    + " can be read as a matrix", () -> f.matrix("z"));
            assertArrayEquals(new int[]{3, 3}, f.dimensions("sp"));
        }
    }

    @Test
    void refusesArraysThatAreNotTwoDimensional() {
        MatFile f = MatFile.parse("nd.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numericNd("cube", new int[]{2, 1, 2}, new double[]{1, 2, 3, 4}, MX_DOUBLE, MI_UINT8, true)
                .bytes());
        assertMessage("nd.mat: variable 'cube' has 3 dimensions (2x1x2); a matrix needs exactly 2",
                () -> f.matrix("cube"));
    }

    @Test
    void namesTheVariablesWhenOneIsMissing() {
        MatFile f = MatFile.parse("a.mat", new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numeric("I_tr", A, MX_DOUBLE, MI_DOUBLE, true)
                .numeric("T_tr", A, MX_DOUBLE, MI_DOUBLE, true).bytes());
        assertMessage("a.mat: no variable 'I_te'; the file holds I_tr, T_tr", () -> f.matrix("I_te"));
    }

    @Test
    void truncatedFileGivesAClearError() {
        byte[] full = new MatTestWriter(ByteOrder.LITTLE_ENDIAN)
                .numeric("A", A, MX_DOUBLE, MI_DOUBLE, true)
                .numeric("B", A, MX_DOUBLE, MI_DOUBLE, true).bytes();
        // cut inside the second compressed element
        int secondTag = 128 + 8 + compressedLength(full, 128);
        byte[] cut = Arrays.copyOf(full, secondTag + 20);
        int declared = compressedLength(full, secondTag);
        assertMessage("t.mat: truncated: the data element at byte " + secondTag + " declares " + declared
                + " bytes but only 12 follow its tag", () -> MatFile.parse("t.mat", cut));
        assertMessage("t.mat: not a MATLAB v5 MAT-file: it has 100 bytes, fewer than the 128-byte MAT-file"
                + " header (truncated file?)", () -> MatFile.parse("t.mat", Arrays.copyOf(full, 100)));
        // an uncompressed matrix cut inside its data
        byte[] plain = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).numeric("A", A, MX_DOUBLE, MI_DOUBLE, false)
                .bytes();
        assertMessage("p.mat: truncated: the data element at byte 128 declares 96 bytes but only 40 follow its"
                + " tag", () -> MatFile.parse("p.mat", Arrays.copyOf(plain, 176)));
    }

    @Test
    void corruptCompressedDataGivesAClearError() {
        byte[] bytes = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).numeric("A", A, MX_DOUBLE, MI_DOUBLE, true)
                .bytes();
        bytes[128 + 8 + 12] ^= 0x5a;
        bytes[128 + 8 + 13] ^= 0x5a;
        InputException e = assertThrows(InputException.class, () -> MatFile.parse("z.mat", bytes));
        assertEquals("z.mat: the compressed element at byte 128 holds corrupt zlib data",
                e.getMessage().substring(0, e.getMessage().indexOf(" (")));
    }

    @Test
    void implausibleCompressedSizeIsRefusedBeforeAllocating() {
        byte[] fakeMatrix = java.nio.ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(MatFile.MI_MATRIX).putInt(2_000_000_000).array();
        java.util.zip.Deflater d = new java.util.zip.Deflater();
        d.setInput(fakeMatrix);
        d.finish();
        byte[] z = new byte[64];
        int n = d.deflate(z);
        d.end();
        byte[] header = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).bytes();
        java.nio.ByteBuffer file = java.nio.ByteBuffer.allocate(header.length + 8 + n).order(ByteOrder.LITTLE_ENDIAN)
                .put(header).putInt(MatFile.MI_COMPRESSED).putInt(n).put(z, 0, n);
        assertMessage("big.mat: the compressed element at byte 128 is corrupt: its matrix claims 2000000000 bytes,"
                + " more than " + n + " compressed bytes can hold", () -> MatFile.parse("big.mat", file.array()));
    }

    @Test
    void nonMatFilesAreRefused() {
        byte[] text = "id,label\n".repeat(30).getBytes(StandardCharsets.US_ASCII);
        assertMessage("notes.csv: not a MATLAB v5 MAT-file: bytes 126-127 hold no endian indicator 'IM' or 'MI'"
                + " (header text: \"id,label?id,label?id,label?id,label?id,l...\")",
                () -> MatFile.parse("notes.csv", text));

        byte[] v73 = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).bytes();
        byte[] h = "MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
                .getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, v73, 0, h.length);
        v73[124] = 0;
        v73[125] = 2;
        assertMessage("v73.mat: unsupported MAT-file version 0x200 (expected 0x0100, Level 5); this is a MATLAB"
                + " v7.3 (HDF5) file: save it again with save(..., '-v7') or read it with an HDF5 library",
                () -> MatFile.parse("v73.mat", v73));

        byte[] junk = new MatTestWriter(ByteOrder.LITTLE_ENDIAN).bytes();
        byte[] withJunk = Arrays.copyOf(junk, junk.length + 16);
        withJunk[128] = 3;
        withJunk[132] = 8;
        assertMessage("j.mat: corrupt: the data element at byte 128 has type 3; expected miMATRIX (14) or"
                + " miCOMPRESSED (15)", () -> MatFile.parse("j.mat", withJunk));
    }

    @Test
    void missingFileIsAnInputError(@TempDir Path dir) {
        InputException e = assertThrows(InputException.class, () -> MatFile.read(dir.resolve("none.mat")));
        assertEquals(dir.resolve("none.mat") + ": cannot read MAT-file (" + dir.resolve("none.mat") + ")",
                e.getMessage());
        assertEquals(false, Files.exists(dir.resolve("none.mat")));
    }

    private static int compressedLength(byte[] file, int tagPos) {
        return java.nio.ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(tagPos + 4);
    }

    private static void assertMatrix(double[][] expected, double[][] actual) {
        assertEquals(expected.length, actual.length, "rows");
        for (int i = 0; i < expected.length; i++) {
            assertArrayEquals(expected[i], actual[i], 0.0, "row " + i);
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        InputException e = assertThrows(InputException.class, call);
        assertEquals(expected, e.getMessage());
    }
}
