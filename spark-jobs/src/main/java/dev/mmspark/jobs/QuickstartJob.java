package dev.mmspark.jobs;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark quickstart}: the whole pipeline on the synthetic dataset with one config (generate,
 * extract, train, evaluate, print the leaderboard), each step the same code as its own command.
 */
final class QuickstartJob {
    private QuickstartJob() {
    }

    static JobResult run(JobContext ctx) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("generate", GenerateJob.run(ctx).facts());
        facts.put("extract", ExtractJob.run(ctx).facts());
        facts.put("train", TrainJob.run(ctx).facts());
        Map<String, Object> evaluation = EvaluateJob.run(ctx).facts();
        facts.put("evaluate", evaluation);
        facts.put("leaderboard", LeaderboardJob.run(ctx, null, 20).facts());
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Double>> metrics = (Map<String, Map<String, Double>>) evaluation.get("metrics");
        String verdict = fusionVerdict(metrics);
        if (verdict != null) {
            facts.put("fusion_verdict", verdict);
            Console.line(verdict);
        }
        return JobResult.ok(facts);
    }

    /**
     * The point of the quickstart in one line: the trimodal head against each unimodal head, on the test
     * samples that have all three modalities (so every head sees the same samples). Null when the model has
     * no such conditions (another config).
     */
    static String fusionVerdict(Map<String, Map<String, Double>> metrics) {
        Map<String, Double> tri = metrics == null ? null : metrics.get("it#@complete");
        if (tri == null || tri.get("accuracy") == null) {
            return null;
        }
        double t = tri.get("accuracy");
        StringBuilder sb = new StringBuilder(String.format(java.util.Locale.ROOT,
                "Trimodal head (it#) accuracy %.4f on the test samples with all three modalities; unimodal:", t));
        boolean beatsAll = true;
        for (String u : new String[] {"i", "t", "#"}) {
            Map<String, Double> m = metrics.get(u + "@complete");
            if (m == null || m.get("accuracy") == null) {
                return null;
            }
            double a = m.get("accuracy");
            beatsAll &= t > a;
            sb.append(String.format(java.util.Locale.ROOT, " %s %.4f", u, a));
        }
        sb.append(beatsAll ? " -> fusion beats every single modality" : " -> fusion does NOT beat every single modality");
        return sb.toString();
    }
}
