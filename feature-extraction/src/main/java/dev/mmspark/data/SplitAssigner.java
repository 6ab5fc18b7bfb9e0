package dev.mmspark.data;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;

/**
 * Seeded split assignment for sources without one (MVSA-Single, the synthetic set): a sample's split is a
 * function of (seed, id) only, so it does not depend on partitioning, ordering or which other samples are
 * present, and the same seed reproduces the same split on any cluster.
 */
public record SplitAssigner(long seed, double trainFraction, double validationFraction) implements Serializable {

    public SplitAssigner {
        if (trainFraction <= 0 || validationFraction < 0 || trainFraction + validationFraction >= 1.0 + 1e-12) {
            throw new IllegalArgumentException("split fractions must satisfy 0 < train, 0 <= validation,"
                    + " train + validation <= 1; found train=" + trainFraction + ", validation="
                    + validationFraction);
        }
    }

    public Split assign(String id) {
        double u = unit(seed, id);
        if (u < trainFraction) {
            return Split.TRAIN;
        }
        return u < trainFraction + validationFraction ? Split.VALIDATION : Split.TEST;
    }

    /** A uniform number in [0, 1) from (seed, key), via 64-bit FNV-1a and a SplitMix64 finaliser. */
    public static double unit(long seed, String key) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h = mix(h + seed * 0x9E3779B97F4A7C15L);
        return (h >>> 11) * 0x1.0p-53;
    }

    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
