package dev.mmspark.data;

import dev.mmspark.testing.Failures;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestReaderTest {
    @TempDir
    Path tmp;

    private List<Row> read(Path dir, BadRecordPolicy policy) {
        BadRecords bad = new BadRecords(SparkTestSession.get().sparkContext(), policy, "t");
        return ManifestReader.read(SparkTestSession.get(), dir.toString(), bad).orderBy("id").collectAsList();
    }

    private static String failure(Runnable r) {
        return Failures.message(r);
    }

    @Test
    void readsEveryFieldAndResolvesImagePaths() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"),
                "{\"id\":\"a\",\"split\":\"train\",\"label\":\"pos\",\"image\":\"img/a.png\",\"text\":\"hi there\","
                        + "\"tags\":[\"x\",\"y\"],\"vectors\":{\"audio\":[1,2.5]},\"sequences\":{\"v\":[[1,2],[3,4]]}}",
                "",
                "{\"id\":\"b\",\"split\":\"val\",\"target\":0.5,\"text\":\"only text\"}");
        List<Row> rows = read(dir, BadRecordPolicy.FAIL);
        assertEquals(2, rows.size());
        Row a = rows.get(0);
        assertEquals("train", a.getString(1));
        assertTrue(a.getString(4).endsWith("/ds/img/a.png"), a.getString(4));
        assertEquals(List.of("x", "y"), a.getList(6));
        assertEquals("samples.jsonl:1", a.getString(9));
        Row b = rows.get(1);
        assertEquals("validation", b.getString(1));
        assertEquals(0.5, b.getDouble(3));
        assertNull(b.get(4));
        assertEquals("samples.jsonl:3", b.getString(9));
    }

    @Test
    void unknownFieldIsNamedWithFileAndLine() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"), "{\"id\":\"a\",\"split\":\"train\",\"text\":\"t\"}",
                "{\"id\":\"b\",\"split\":\"train\",\"imgae\":\"b.jpg\"}");
        assertEquals("samples.jsonl:2: unknown field 'imgae'; expected fields: id, split, label, target, image, text,"
                + " tags, vectors, sequences", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void nonUtf8LineIsRejected() throws Exception {
        Path dir = tmp.resolve("ds");
        Files.createDirectories(dir);
        byte[] gbk = "{\"id\":\"a\",\"split\":\"train\",\"text\":\"\u4f60\u597d\"}\n".getBytes("GBK");
        Files.write(dir.resolve("samples.jsonl"), gbk);
        assertEquals("samples.jsonl:1: line is not valid UTF-8 (JSON Lines manifests must be UTF-8; re-encode the"
                + " file, e.g. iconv -f GBK -t UTF-8)", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void nanFeatureIsRejected() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"),
                "{\"id\":\"a\",\"split\":\"train\",\"vectors\":{\"audio\":[1, NaN]}}");
        assertEquals("samples.jsonl:1 (sample 'a'): field 'vectors.audio' element 1 is NaN; feature values must be"
                + " finite (no NaN or infinity)", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void everyModalityMissingIsRejected() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"), "{\"id\":\"a\",\"split\":\"test\",\"label\":\"x\"}");
        assertEquals("samples.jsonl:1 (sample 'a'): every modality is missing (no image, text, tags, vectors or"
                + " sequences); a sample needs at least one", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void emptyTextIsRejected() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"), "{\"id\":\"a\",\"split\":\"test\",\"text\":\"  \"}");
        assertEquals("samples.jsonl:1 (sample 'a'): field 'text' is empty; omit it (or use null) when the sample has"
                + " no text", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void badSplitNameIsRejected() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"), "{\"id\":\"a\",\"split\":\"training\",\"text\":\"t\"}");
        assertEquals("samples.jsonl:1: field 'split' of sample 'a' is 'training'; expected one of train, validation,"
                + " test, unlabeled", failure(() -> read(dir, BadRecordPolicy.FAIL)));
    }

    @Test
    void skipPolicyCountsAndReportsEveryBadRecord() throws Exception {
        Path dir = TestData.manifest(tmp.resolve("ds"), "{\"id\":\"a\",\"split\":\"train\",\"text\":\"ok\"}",
                "not json", "{\"id\":\"c\",\"split\":\"train\"}");
        BadRecords bad = new BadRecords(SparkTestSession.get().sparkContext(), BadRecordPolicy.SKIP, "t");
        List<Row> rows = ManifestReader.read(SparkTestSession.get(), dir.toString(), bad).collectAsList();
        assertEquals(1, rows.size());
        assertEquals(2, bad.skipped());
        List<String> msgs = bad.skippedMessages();
        assertTrue(msgs.get(0).startsWith("samples.jsonl:2: not a valid JSON object"), msgs.get(0));
        assertTrue(msgs.get(1).startsWith("samples.jsonl:3 (sample 'c'): every modality is missing"), msgs.get(1));
    }

    @Test
    void missingDatasetPath() {
        assertEquals("dataset path " + tmp.resolve("nope") + " does not exist",
                failure(() -> read(tmp.resolve("nope"), BadRecordPolicy.FAIL)));
    }
}
