package dev.mmspark.data;

/** What to do with a malformed input record. */
public enum BadRecordPolicy {
    /** Stop the job with a message naming the record and the problem; nothing is written. */
    FAIL,
    /** Leave the record out, count it, and list every skipped record in the log and the metadata. */
    SKIP
}
