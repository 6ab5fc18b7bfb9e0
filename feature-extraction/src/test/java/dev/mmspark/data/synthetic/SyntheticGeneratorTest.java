package dev.mmspark.data.synthetic;

import dev.mmspark.common.config.Conf;
import dev.mmspark.testing.SparkTestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticGeneratorTest {
    @TempDir
    Path tmp;

    private static SyntheticConfig cfg(long seed, int partitions) {
        return SyntheticConfig.from(Conf.parse("samples = 60\nseed = " + seed + "\nimage_size = 16\npartitions = "
                + partitions));
    }

    private static byte[] png(SyntheticGenerator.Sample s) throws Exception {
        if (s.image() == null) {
            return new byte[0];
        }
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ImageIO.write(s.image(), "png", o);
        return o.toByteArray();
    }

    @Test
    void sampleIsAPureFunctionOfSeedAndIndex() throws Exception {
        SyntheticGenerator a = new SyntheticGenerator(cfg(5, 2));
        SyntheticGenerator b = new SyntheticGenerator(cfg(5, 7));
        for (int i = 0; i < 30; i++) {
            SyntheticGenerator.Sample x = a.sample(i);
            SyntheticGenerator.Sample y = b.sample(i);
            assertEquals(x.label(), y.label());
            assertEquals(x.text(), y.text());
            assertEquals(x.tags(), y.tags());
            assertEquals(x.split(), y.split());
            assertArrayEquals(png(x), png(y));
        }
        SyntheticGenerator c = new SyntheticGenerator(cfg(6, 2));
        assertNotEquals(Stream.iterate(0, i -> i + 1).limit(30).map(i -> a.sample(i).text()).toList(),
                Stream.iterate(0, i -> i + 1).limit(30).map(i -> c.sample(i).text()).toList());
    }

    @Test
    void writtenManifestDoesNotDependOnTheNumberOfTasks() throws Exception {
        new SyntheticGenerator(cfg(9, 2)).generate(SparkTestSession.get(), tmp.resolve("a").toString(), false);
        new SyntheticGenerator(cfg(9, 3)).generate(SparkTestSession.get(), tmp.resolve("b").toString(), false);
        List<String> a = normalised(lines(tmp.resolve("a")));
        assertEquals(60, a.size());
        assertEquals(a, normalised(lines(tmp.resolve("b"))));
        assertTrue(Files.exists(tmp.resolve("a/dataset.json")));
    }

    private static List<String> normalised(List<String> lines) {
        return lines.stream().map(l -> l.replaceAll("images/part-[0-9]+/", "images/")).sorted().toList();
    }

    private static List<String> lines(Path dataset) throws Exception {
        try (Stream<Path> files = Files.list(dataset.resolve("samples"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsonl")).flatMap(f -> {
                try {
                    return Files.readAllLines(f).stream();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).sorted().toList();
        }
    }

    @Test
    void missingShareAndReliabilityAreRespected() {
        SyntheticGenerator g = new SyntheticGenerator(SyntheticConfig.from(Conf.parse(
                "samples = 4000\nmissing_rate = 0.3\nimage_size = 16")));
        int missing = 0;
        int allMissing = 0;
        for (int i = 0; i < 4000; i++) {
            SyntheticGenerator.Sample s = g.sample(i);
            int absent = (s.image() == null ? 1 : 0) + (s.text() == null ? 1 : 0) + (s.tags() == null ? 1 : 0);
            missing += absent > 0 ? 1 : 0;
            allMissing += absent == 3 ? 1 : 0;
        }
        assertEquals(0, allMissing);
        assertEquals(0.3, missing / 4000.0, 0.03);
    }

    @Test
    void eachPieceOfEvidenceComesFromTheOwnClassWithTheReliability() {
        SyntheticGenerator g = new SyntheticGenerator(SyntheticConfig.from(Conf.parse(
                "samples = 3000\nmissing_rate = 0\nimage_size = 16\nreliability { text = 0.6, tags = 0.55 }")));
        int own = 0;
        int indicative = 0;
        int ownTags = 0;
        int classTags = 0;
        for (int i = 0; i < 3000; i++) {
            SyntheticGenerator.Sample s = g.sample(i);
            for (String w : s.text().toLowerCase().replaceAll("[.!]", "").split(" ")) {
                for (int c = 0; c < 3; c++) {
                    if (g.classWordsOf(c).contains(w)) {
                        indicative++;
                        own += c == s.label() ? 1 : 0;
                    }
                }
            }
            for (String t : s.tags()) {
                for (int c = 0; c < 3; c++) {
                    if (g.classTagsOf(c).contains(t)) {
                        classTags++;
                        ownTags += c == s.label() ? 1 : 0;
                    }
                }
            }
        }
        assertEquals(0.6, own / (double) indicative, 0.02);
        assertEquals(0.55, ownTags / (double) classTags, 0.03);
        assertTrue(indicative > 3000 * 2, "about 2.5 indicative words per text");
    }
}
