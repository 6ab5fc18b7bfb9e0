package dev.mmspark.jobs;

import dev.mmspark.common.ExitCode;
import dev.mmspark.evaluation.leaderboard.Champions;
import dev.mmspark.evaluation.leaderboard.Leaderboard;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code mmspark promote}: the challenger replaces the champion only when significantly better; exit code 5
 * (not_promoted) otherwise, so a scheduler branches on the code.
 */
final class PromoteJob {
    private PromoteJob() {
    }

    static JobResult run(JobContext ctx) {
        Leaderboard lb = Leaderboard.open(ctx.spark(), ctx.config().leaderboard());
        Champions.Decision d = Champions.decide(lb, ctx.config().requirePromote());
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("promoted", d.promoted());
        facts.put("reason", d.reason());
        facts.put("challenger", d.challenger());
        facts.put("champion_before", d.champion());
        facts.put("challenger_mean", d.challengerMean());
        facts.put("champion_mean", d.championMean());
        facts.put("p_value", d.pValue());
        facts.put("paired_seeds", d.pairedSeeds());
        facts.put("champions_table", Champions.tableName(lb));
        return new JobResult(d.promoted() ? ExitCode.OK : ExitCode.NOT_PROMOTED, facts);
    }
}
