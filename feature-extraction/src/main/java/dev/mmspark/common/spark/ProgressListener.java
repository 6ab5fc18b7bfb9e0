package dev.mmspark.common.spark;

import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerStageCompleted;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Logs tasks done / total per Spark stage with elapsed time and an estimate of the time left, at most
 * every {@code intervalMillis}, so a long extraction or evaluation shows progress in the driver log
 * (and in Airflow's task log) without the console progress bar.
 */
public final class ProgressListener extends SparkListener {
    private static final Logger LOG = LoggerFactory.getLogger(ProgressListener.class);

    private record StageState(String name, int total, long startMillis, AtomicInteger done) {
    }

    private final Map<Integer, StageState> stages = new ConcurrentHashMap<>();
    private final long intervalMillis;
    private volatile long lastLog;

    public ProgressListener(long intervalMillis) {
        this.intervalMillis = intervalMillis;
    }

    @Override
    public void onStageSubmitted(SparkListenerStageSubmitted event) {
        var info = event.stageInfo();
        stages.put(info.stageId(), new StageState(info.name(), info.numTasks(), System.currentTimeMillis(),
                new AtomicInteger()));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd event) {
        StageState s = stages.get(event.stageId());
        if (s == null) {
            return;
        }
        int done = s.done().incrementAndGet();
        long now = System.currentTimeMillis();
        if (now - lastLog >= intervalMillis && now - s.startMillis() >= intervalMillis && done < s.total()) {
            lastLog = now;
            double elapsed = (now - s.startMillis()) / 1000.0;
            double eta = elapsed / done * (s.total() - done);
            LOG.info("stage {} ({}): {}/{} tasks, {} elapsed, ~{} left", event.stageId(), shortName(s.name()),
                    done, s.total(), Durations.format(elapsed), Durations.format(eta));
        }
    }

    @Override
    public void onStageCompleted(SparkListenerStageCompleted event) {
        StageState s = stages.remove(event.stageInfo().stageId());
        if (s != null && System.currentTimeMillis() - s.startMillis() > intervalMillis) {
            LOG.info("stage {} ({}) finished: {} tasks in {}", event.stageInfo().stageId(), shortName(s.name()),
                    s.total(), Durations.format((System.currentTimeMillis() - s.startMillis()) / 1000.0));
        }
    }

    private static String shortName(String name) {
        int at = name.indexOf(" at ");
        return at > 0 ? name.substring(0, at) : name;
    }
}
