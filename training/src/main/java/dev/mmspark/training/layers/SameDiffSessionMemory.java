package dev.mmspark.training.layers;

import org.nd4j.autodiff.samediff.InferenceFactory;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SessionMemMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.LongShapeDescriptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Frees the intermediate arrays of DL4J's SameDiff vertices deterministically instead of leaving them to the
 * garbage collector.
 *
 * <p>DL4J 1.0.0-M2.1 runs a {@code SameDiffVertex} through an {@code InferenceSession} whose memory manager it
 * replaces, on every forward and backward pass, by its own {@code DL4JSameDiffMemoryMgr}. Without workspaces (how
 * this project's SameDiff models train: {@code MisaNetwork}, {@code TfrNetNetwork}) that manager allocates every
 * op output as a fresh detached array and ignores {@code release}; and the backward pass
 * ({@code SameDiff.calculateGradients}, which runs the forward again and then the backward) switches releasing off
 * altogether. Every intermediate native buffer then lives until the garbage collector finds its Java wrapper, which
 * with a small heap is rarely: TFR-Net's training step reached a 12 GB resident set, and 37 % of its samples were in
 * ND4J's buffer allocation (the kernel handing out and zeroing fresh pages).
 *
 * <p>Here the manager DL4J sets is wrapped (allocation stays DL4J's), for the SameDiff graphs of the vertices that
 * {@link #register} names, and only for arrays allocated outside any workspace (closeable: owned, not views):
 * <ul>
 *   <li>an array the session releases (no op needs it any more) is closed at once;</li>
 *   <li>the arrays still open when DL4J starts the vertex's next pass (DL4J sets a new manager) are closed then. By
 *       that time DL4J holds none of them: the vertex's output is a copy ({@code workspaceMgr.dup}), the parameter
 *       gradients are copied into DL4J's gradient view, and the input gradients have been consumed by the layers
 *       below during the same backward pass.</li>
 * </ul>
 * With {@code -Dmmspark.samediff.poison=true} a closed array is first filled with NaN, so that any later read of
 * it shows (the tests train with it); {@code -Dmmspark.samediff.free=false} switches the whole mechanism off.
 *
 * <p>{@link #register} binds a SameDiff {@link InferenceFactory} once per JVM (driver and executors alike);
 * sessions of other graphs get ND4J's ordinary session.
 */
public final class SameDiffSessionMemory {
    private static final Logger LOG = LoggerFactory.getLogger(SameDiffSessionMemory.class);
    private static final String DL4J_MANAGER = "org.deeplearning4j.nn.layers.samediff.DL4JSameDiffMemoryMgr";
    static final boolean ENABLED = !"false".equals(System.getProperty("mmspark.samediff.free"));
    static final boolean POISON = "true".equals(System.getProperty("mmspark.samediff.poison"));
    private static final Set<SameDiff> REGISTERED = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));
    private static volatile boolean installed;
    private static final AtomicLong CLOSED = new AtomicLong();
    private static final AtomicLong CLOSED_BYTES = new AtomicLong();

    private SameDiffSessionMemory() {
    }

    /** Arrays closed so far and their bytes (for profiling). */
    public static long[] counts() {
        return new long[]{CLOSED.get(), CLOSED_BYTES.get()};
    }

    /**
     * Frees the intermediate arrays of this vertex graph (and of its gradient function) deterministically. Call from
     * {@code SameDiffVertex.defineVertex} with the graph DL4J passes in; only for vertices, whose output DL4J copies.
     */
    public static void register(SameDiff sd) {
        if (!ENABLED) {
            return;
        }
        REGISTERED.add(sd);
        if (!installed) {
            synchronized (SameDiffSessionMemory.class) {
                if (!installed) {
                    SameDiff.bindInferenceFactory(ReleasingSession::new);
                    installed = true;
                    LOG.debug("SameDiff vertices free their intermediate arrays deterministically");
                }
            }
        }
    }

    /** Whether {@code sd} is a registered graph or the gradient function of one. */
    static boolean covers(SameDiff sd) {
        synchronized (REGISTERED) {
            for (SameDiff r : REGISTERED) {
                if (r == sd || (r.hasGradientFunction() && r.getFunction("grad") == sd)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** An inference session that wraps the memory manager DL4J gives it, pass by pass. */
    static final class ReleasingSession extends InferenceSession {
        private Releasing current;
        private Boolean covered;

        ReleasingSession(SameDiff sd) {
            super(sd);
        }

        @Override
        public void setMmgr(SessionMemMgr mmgr) {
            if (current != null) {
                current.closeRemaining();
                current = null;
            }
            if (mmgr != null && mmgr.getClass().getName().equals(DL4J_MANAGER)) {
                if (covered == null || !covered) {
                    covered = covers(sameDiff);     // the gradient function exists only from the first backward pass
                }
                if (covered) {
                    current = new Releasing(mmgr);
                    super.setMmgr(current);
                    return;
                }
            }
            super.setMmgr(mmgr);
        }
    }

    /** DL4J's allocation; closes what it allocated on release, and the rest at the end of the pass. */
    static final class Releasing implements SessionMemMgr {
        private final SessionMemMgr delegate;
        private final Map<INDArray, Boolean> open = new IdentityHashMap<>();

        Releasing(SessionMemMgr delegate) {
            this.delegate = delegate;
        }

        private INDArray track(INDArray a) {
            if (a != null && a.closeable()) {
                open.put(a, Boolean.TRUE);
            }
            return a;
        }

        @Override
        public INDArray allocate(boolean detached, DataType dataType, long... shape) {
            return track(delegate.allocate(detached, dataType, shape));
        }

        @Override
        public INDArray allocate(boolean detached, LongShapeDescriptor descriptor) {
            return track(delegate.allocate(detached, descriptor));
        }

        @Override
        public INDArray ulike(INDArray arr) {
            return track(delegate.ulike(arr));
        }

        @Override
        public INDArray dup(INDArray arr) {
            return track(delegate.dup(arr));
        }

        @Override
        public void release(INDArray arr) {
            delegate.release(arr);
            if (arr != null && open.remove(arr) != null) {
                free(arr);
            }
        }

        void closeRemaining() {
            List<INDArray> left = new ArrayList<>(open.keySet());
            open.clear();
            for (INDArray a : left) {
                free(a);
            }
        }

        private static void free(INDArray a) {
            if (a.wasClosed() || !a.closeable()) {
                return;
            }
            CLOSED.incrementAndGet();
            CLOSED_BYTES.addAndGet(a.length() * a.dataType().width());
            if (POISON && a.dataType().isFPType()) {
                a.assign(Double.NaN);
            }
            a.close();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
