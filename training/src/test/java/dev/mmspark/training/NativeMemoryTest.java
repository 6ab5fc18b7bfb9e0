package dev.mmspark.training;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeMemoryTest {

    /** Several trainers share an executor JVM: one release per interval serves them all. */
    @Test
    void releasesAtMostOncePerInterval() throws InterruptedException {
        NativeMemory.release();
        assertFalse(NativeMemory.releaseIfDue(), "right after a release");
        Thread.sleep(NativeMemory.MIN_INTERVAL_NANOS / 1_000_000 + 50);
        assertTrue(NativeMemory.releaseIfDue(), "after the interval");
        assertFalse(NativeMemory.releaseIfDue(), "right after that one");
    }
}
