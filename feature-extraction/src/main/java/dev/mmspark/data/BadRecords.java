package dev.mmspark.data;

import dev.mmspark.common.InputException;
import org.apache.spark.SparkContext;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Applies a {@link BadRecordPolicy} on the executors: under FAIL a problem throws an {@link InputException}
 * with its message; under SKIP the record is dropped and its message collected (Spark accumulators), so the
 * driver can report every skipped record. Counts are exact for successful jobs (accumulator updates of
 * retried tasks are only counted once inside actions).
 */
public final class BadRecords implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(BadRecords.class);

    private final BadRecordPolicy policy;
    private final LongAccumulator count;
    private final CollectionAccumulator<String> messages;

    public BadRecords(SparkContext sc, BadRecordPolicy policy, String name) {
        this.policy = policy;
        this.count = sc.longAccumulator(name + ".skipped");
        this.messages = sc.collectionAccumulator(name + ".skippedMessages");
    }

    public BadRecordPolicy policy() {
        return policy;
    }

    /** Records a problem: throws under FAIL, counts under SKIP. */
    public void problem(String message) {
        if (policy == BadRecordPolicy.FAIL) {
            throw new InputException(message);
        }
        count.add(1);
        messages.add(message);
    }

    public long skipped() {
        return count.value();
    }

    public List<String> skippedMessages() {
        List<String> out = new ArrayList<>(messages.value());
        out.sort(String::compareTo);
        return out;
    }

    /** Logs every skipped record (sorted) and returns the messages for the output's metadata. */
    public List<String> report(String what) {
        List<String> msgs = skippedMessages();
        if (!msgs.isEmpty()) {
            LOG.warn("Skipped {} bad {} record(s):", msgs.size(), what);
            for (String m : msgs) {
                LOG.warn("  skipped: {}", m);
            }
        }
        return msgs;
    }
}
