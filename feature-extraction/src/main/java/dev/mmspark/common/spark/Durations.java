package dev.mmspark.common.spark;

import java.util.Locale;

/** Human-readable durations for progress logs ("1h 02m", "3m 07s", "12.4s"). */
public final class Durations {
    private Durations() {
    }

    public static String format(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        if (seconds < 60) {
            return String.format(Locale.ROOT, "%.1fs", seconds);
        }
        long s = Math.round(seconds);
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm %02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh %02dm", s / 3600, (s % 3600) / 60);
    }
}
