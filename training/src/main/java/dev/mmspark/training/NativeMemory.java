package dev.mmspark.training;

import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.optimize.api.BaseTrainingListener;

import java.io.Serializable;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Returns ND4J's freed off-heap buffers to the system during training. ND4J 1.0.0-M2.1 frees an array's native
 * memory only when the Java GC collects the array, and training allocates mostly off-heap while hardly touching
 * the heap, so the GC rarely runs and the resident size grows until JavaCPP's physical-memory limit or the
 * kernel stops the JVM: a fusion sweep on the synthetic set died at 17 GB during the MCB run (four MCB heads,
 * 16,000-wide sketches) and MEAformer on DBP15K at 8-12 GB. After a GC, {@link Pointer#deallocateReferences()}
 * frees the collected arrays' buffers now rather than on JavaCPP's own thread.
 */
public final class NativeMemory {
    /** At most one release per JVM in this interval: a GC of a small heap takes milliseconds to a few tens. */
    static final long MIN_INTERVAL_NANOS = 2_000_000_000L;
    private static final AtomicLong LAST = new AtomicLong(System.nanoTime());

    private NativeMemory() {
    }

    /** A GC and a deallocation of the collected native buffers, now. */
    public static void release() {
        System.gc();
        Pointer.deallocateReferences();
        LAST.set(System.nanoTime());
    }

    /**
     * {@link #release()} unless one ran in this JVM in the last {@value #MIN_INTERVAL_NANOS} ns (several trainers
     * may share an executor JVM; one release serves them all).
     *
     * @return whether it released
     */
    public static boolean releaseIfDue() {
        long now = System.nanoTime();
        long last = LAST.get();
        if (now - last < MIN_INTERVAL_NANOS || !LAST.compareAndSet(last, now)) {
            return false;
        }
        release();
        return true;
    }

    /** A listener that calls {@link #releaseIfDue()} after every minibatch a worker fits. */
    public static final class Listener extends BaseTrainingListener implements Serializable {
        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            releaseIfDue();
        }
    }
}
