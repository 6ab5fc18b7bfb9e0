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

    /** A valid JPEG of the given size with a deterministic colour pattern. */
    public static byte[] jpeg(int w, int h) {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, new java.awt.Color((x * 7) % 256, (y * 5) % 256, (x * y) % 256).getRGB());
            }
        }
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        try {
            javax.imageio.ImageIO.write(img, "jpg", o);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return o.toByteArray();
    }
}
