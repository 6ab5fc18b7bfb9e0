package dev.mmspark.evaluation.report;

import dev.mmspark.common.config.Conf;

/**
 * The {@code report} section.
 *
 * <pre>
 * report {
 *   output = work/report     # directory: index.html and the PNG charts (replaced atomically)
 *   metric = accuracy        # metric ranked and plotted
 *   top = 10                 # settings listed and plotted per dataset
 * }
 * </pre>
 */
public record ReportConfig(String output, String metric, int top) {
    public static ReportConfig from(Conf c) {
        return new ReportConfig(c.string("output", "work/report"), c.string("metric", "accuracy"),
                c.integer("top", 10, n -> n >= 1 && n <= 1000, "between 1 and 1000"));
    }
}
