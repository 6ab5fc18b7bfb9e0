package dev.mmspark.bench;

import com.fasterxml.jackson.databind.node.ArrayNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CaseFilesTest {

    @Test
    void arraysRoundTripAsLittleEndianFloat32InCOrder(@TempDir File dir) throws Exception {
        INDArray a = Nd4j.arange(6).castTo(DataType.DOUBLE).reshape('f', 2, 3);
        ArrayNode entries = CaseFiles.writeArrays(dir, "x", new INDArray[]{a, null});
        assertEquals("x-0.f32", entries.get(0).get("file").asText());
        assertEquals("[2,3]", entries.get(0).get("shape").toString());
        assertTrue(entries.get(1).isNull());
        // what numpy.fromfile(f, "<f4").reshape(2, 3) reads: row-major values
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(new File(dir, "x-0.f32").toPath()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 6; i++) {
            assertEquals(a.getDouble(i / 3, i % 3), b.getFloat(), 0);
        }
        INDArray[] back = CaseFiles.readArrays(dir, entries);
        assertEquals(a.castTo(DataType.FLOAT), back[0]);
        assertNull(back[1]);
    }

    @Test
    void aTruncatedArrayFileIsReportedWithItsExpectedSize(@TempDir File dir) throws Exception {
        ArrayNode entries = CaseFiles.writeArrays(dir, "y", new INDArray[]{Nd4j.ones(DataType.FLOAT, 4)});
        Files.write(new File(dir, "y-0.f32").toPath(), new byte[6]);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> CaseFiles.readArrays(dir, entries));
        assertTrue(e.getMessage().contains("y-0.f32 has 6 bytes, expected 16"), e.getMessage());
    }
}
