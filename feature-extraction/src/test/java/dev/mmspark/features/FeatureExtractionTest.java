package dev.mmspark.features;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.DatasetConfig;
import dev.mmspark.data.Datasets;
import dev.mmspark.testing.SparkTestSession;
import dev.mmspark.testing.TestData;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.testing.Failures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FeatureExtractionTest {
    @TempDir
    Path tmp;

    static FeatureExtraction.Result extract(String dataset, String output, String extra) {
        SparkSession spark = SparkTestSession.get();
        Conf conf = Conf.parse("dataset { path = \"" + dataset + "\" }\nextract { output = \"" + output + "\"\n"
                + "text { dim = 16, word2vec_iterations = 1 }\n" + extra + "}");
        DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
        ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
        BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "test");
        return FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, false, bad, null);
    }

    @Test
    void syntheticDatasetBecomesAFeatureTable() {
        String ds = TestData.synthetic(tmp, "ds", 120, 3);
        FeatureExtraction.Result r = extract(ds, tmp.resolve("features").toString(), "image { size = 16 }");
        FeatureTableMetadata m = r.metadata();
        assertEquals(120, m.totalRows());
        assertEquals(List.of("c0", "c1", "c2"), m.classes());
        assertEquals(List.of("image", "text", "tags"), m.modalityNames());
        FeatureTable t = FeatureTable.open(SparkTestSession.get(), r.output());
        Row first = t.rows().orderBy("id").first();
        Row withImage = t.rows().where("image_present").orderBy("id").first();
        assertEquals(3 * 16 * 16, withImage.getList(withImage.fieldIndex("image_values")).size());
        assertEquals(List.of(3, 16, 16), m.modality("image").shape());
        assertTrue(t.vocabulary("text").size() > 10);
        assertEquals(16, t.embeddings("text")[2].length);
    }

    /** A manifest dataset with one good sample plus the given extra lines, images written as needed. */
    private Path dataset(String... extra) throws Exception {
        Path dir = tmp.resolve("bad");
        Files.createDirectories(dir.resolve("img"));
        Files.write(dir.resolve("img/good.jpg"), TestData.jpeg(20, 20));
        String[] lines = new String[extra.length + 1];
        lines[0] = "{\"id\":\"good\",\"split\":\"train\",\"label\":\"a\",\"image\":\"img/good.jpg\","
                + "\"text\":\"fine words\",\"vectors\":{\"audio\":[1,2,3]}}";
        System.arraycopy(extra, 0, lines, 1, extra.length);
        return TestData.manifest(dir, lines);
    }

    /** Extraction must fail with exactly this message and leave nothing at (or next to) the output. */
    private void assertFails(Path ds, String extra, String expected) {
        Path out = tmp.resolve("out");
        String msg = Failures.message(() -> extract(ds.toString(), out.toString(), extra));
        assertEquals(expected, msg);
        assertNothingWritten(out);
    }

    private void assertNothingWritten(Path out) {
        assertTrue(!Files.exists(out), "output must not exist after a failure");
        try (Stream<Path> s = Files.list(out.getParent())) {
            assertEquals(List.of(), s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".out")).toList());
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void corruptJpegNamesTheFile() throws Exception {
        Path ds = dataset("{\"id\":\"cut\",\"split\":\"train\",\"label\":\"a\",\"image\":\"img/cut.jpg\"}");
        byte[] full = TestData.jpeg(64, 64);
        Files.write(ds.resolve("img/cut.jpg"), Arrays.copyOf(full, full.length / 2));
        assertFails(ds, "", "samples.jsonl:2 (sample 'cut'): image file:" + ds.resolve("img/cut.jpg")
                + ": image is corrupt or truncated (Truncated File - Missing EOI marker)");
    }

    @Test
    void zeroByteImage() throws Exception {
        Path ds = dataset("{\"id\":\"z\",\"split\":\"train\",\"label\":\"a\",\"image\":\"img/z.jpg\"}");
        Files.write(ds.resolve("img/z.jpg"), new byte[0]);
        assertFails(ds, "", "samples.jsonl:2 (sample 'z'): image file:" + ds.resolve("img/z.jpg")
                + ": image file is empty (0 bytes)");
    }

    @Test
    void missingImageFile() throws Exception {
        Path ds = dataset("{\"id\":\"m\",\"split\":\"test\",\"label\":\"a\",\"image\":\"img/none.jpg\"}");
        assertFails(ds, "", "samples.jsonl:2 (sample 'm'): image file:" + ds.resolve("img/none.jpg")
                + ": image file does not exist");
    }

    @Test
    void wrongVectorLength() throws Exception {
        Path ds = dataset("{\"id\":\"w\",\"split\":\"train\",\"label\":\"a\",\"vectors\":{\"audio\":[1,2,3]}}",
                "{\"id\":\"x\",\"split\":\"train\",\"label\":\"a\",\"vectors\":{\"audio\":[1,2]}}");
        assertFails(ds, "", "samples.jsonl:3 (sample 'x'): vectors.audio has 2 values, expected 3 like the other 2"
                + " samples (wrong vector length)");
    }

    @Test
    void labelOutsideTheConfiguredClasses() throws Exception {
        Path ds = dataset("{\"id\":\"j\",\"split\":\"train\",\"label\":\"joy\",\"text\":\"yay\"}");
        Path out = tmp.resolve("out");
        SparkSession spark = SparkTestSession.get();
        Conf conf = Conf.parse("dataset { path = \"" + ds + "\", classes = [a, b] }\nextract { output = \"" + out
                + "\", text { dim = 4, word2vec_iterations = 1 } }");
        DatasetConfig dc = DatasetConfig.from(conf.section("dataset"));
        ExtractionConfig ec = ExtractionConfig.from(conf.section("extract"));
        BadRecords bad = new BadRecords(spark.sparkContext(), dc.onBadRecord(), "test");
        String msg = Failures.message(() -> FeatureExtraction.run(spark, Datasets.read(spark, dc, bad), dc, ec, false,
                bad, null));
        assertEquals("samples.jsonl:2 (sample 'j'): label 'joy' is not one of the configured classes [a, b]"
                + " (dataset.classes)", msg);
        assertNothingWritten(out);
    }

    @Test
    void tooLongTextFailsOrIsTruncated() throws Exception {
        String words = String.join(" ", java.util.Collections.nCopies(12, "word"));
        Path ds = dataset("{\"id\":\"long\",\"split\":\"train\",\"label\":\"a\",\"text\":\"" + words + "\"}");
        assertFails(ds, "text { max_tokens = 10, too_long = fail }", "samples.jsonl:2 (sample 'long'): text has 12"
                + " tokens, more than extract.text.max_tokens = 10 (set extract.text.too_long = truncate to keep the"
                + " first 10)");
        FeatureExtraction.Result r = extract(ds.toString(), tmp.resolve("ok").toString(), "text { max_tokens = 10 }");
        assertEquals(1L, r.metadata().modality("text").settings().get("truncated_texts"));
    }

    @Test
    void refusesToOverwriteAnotherRunsOutput() throws Exception {
        Path ds = dataset();
        Path out = tmp.resolve("taken");
        Files.createDirectories(out);
        Files.writeString(out.resolve("metadata.json"), "{}");
        MmsparkException e = Failures.error(() -> extract(ds.toString(), out.toString(), ""));
        assertEquals(ExitCode.OUTPUT_EXISTS, e.exitCode());
        assertEquals("output path " + out + " already exists (it may hold another run's results); refusing to write"
                + " the feature table there. Choose another path or pass --overwrite to replace it", e.getMessage());
        assertEquals("{}", Files.readString(out.resolve("metadata.json")));
    }

    @Test
    void sameSeedGivesTheSameTableContent() {
        String ds = TestData.synthetic(tmp, "ds", 60, 11);
        String a = extract(ds, tmp.resolve("fa").toString(), "image { size = 16 }").metadata().tableHash();
        String ds2 = TestData.synthetic(tmp, "ds2", 60, 11);
        FeatureTableMetadata m2 = extract(ds2, tmp.resolve("fb").toString(), "image { size = 16 }").metadata();
        List<Row> r1 = SparkTestSession.get().read().parquet(tmp.resolve("fa/features").toString()).orderBy("id")
                .collectAsList();
        List<Row> r2 = SparkTestSession.get().read().parquet(tmp.resolve("fb/features").toString()).orderBy("id")
                .collectAsList();
        assertEquals(r1, r2);
        assertEquals(60, m2.totalRows());
        assertTrue(a.length() == 64);
    }

    /** A tiny backbone: 1x1 conv (2 channels, weights 1) -> relu -> 2x2 max pool, input 8x8 NHWC, as a DL4J zip. */
    private Path tinyBackbone() throws Exception {
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1).graphBuilder()
                .addInputs("image")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(8, 8, 3,
                        org.deeplearning4j.nn.conf.CNN2DFormat.NHWC))
                .addLayer("conv", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(1, 1).nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.RELU)
                        .dataFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC).build(), "image")
                .addLayer("pool", new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder(
                        org.deeplearning4j.nn.conf.layers.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .dataFormat(org.deeplearning4j.nn.conf.CNN2DFormat.NHWC).build(), "conv")
                .addLayer("gap", new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer.Builder(
                        org.deeplearning4j.nn.conf.layers.PoolingType.AVG).build(), "pool")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").build();
        var g = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        g.init();
        Path zip = tmp.resolve("backbone.zip");
        org.deeplearning4j.util.ModelSerializer.writeModel(g, zip.toFile(), false);
        return zip;
    }

    @Test
    void backboneModeWritesPooledEmbeddingsAndPooledRegions() throws Exception {
        Path ds = dataset();
        String bb = tinyBackbone().toString();
        FeatureExtraction.Result r = extract(ds.toString(), tmp.resolve("bb").toString(), "image { mode = backbone, "
                + "backbone = \"" + bb + "\", backbone_layer = pool, size = 8, regions = true, region_pool = 2 }");
        FeatureTableMetadata.Modality image = r.metadata().modality("image");
        assertEquals(ModalityKind.IMAGE_EMBEDDING, image.kind());
        assertEquals(List.of(4, 2), image.shape());
        assertEquals(2, image.pooledDim());
        assertEquals(List.of(2, 2), image.settings().get("region_grid"));
        Row row = FeatureTable.open(SparkTestSession.get(), r.output()).rows().first();
        List<Float> regions = row.getList(row.fieldIndex("image_values"));
        List<Float> pooled = row.getList(row.fieldIndex("image_pooled"));
        assertEquals(8, regions.size());
        // pooling regions 2x2 then averaging equals the global average of the 4x4 grid
        for (int c = 0; c < 2; c++) {
            double mean = 0;
            for (int cell = 0; cell < 4; cell++) {
                mean += regions.get(cell * 2 + c) / 4.0;
            }
            assertEquals(pooled.get(c), mean, 1e-5);
        }
    }
}
