package dev.mmspark.testing;

import dev.mmspark.common.config.Conf;
import dev.mmspark.data.synthetic.SyntheticConfig;
import dev.mmspark.data.synthetic.SyntheticGenerator;

import java.nio.file.Files;
import java.nio.file.Path;

/** Tiny generated datasets for tests (never the real data under ../shared). */
public final class TestData {
    private TestData() {
    }

    public static SyntheticConfig tinySynthetic(int samples, long seed) {
        return SyntheticConfig.from(Conf.parse("samples = " + samples + "\nseed = " + seed
                + "\nimage_size = 16\npartitions = 2"));
    }

    /** Generates a synthetic manifest dataset under {@code dir/name} and returns its path. */
    public static String synthetic(Path dir, String name, int samples, long seed) {
        String out = dir.resolve(name).toString();
        new SyntheticGenerator(tinySynthetic(samples, seed)).generate(SparkTestSession.get(), out, false);
        return out;
    }

    /** Writes a manifest file with the given JSON lines and returns the dataset directory. */
    public static Path manifest(Path dir, String... lines) throws java.io.IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("samples.jsonl"), String.join("\n", lines) + "\n");
        return dir;
    }
}
