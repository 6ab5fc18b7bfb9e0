package dev.mmspark.common.gpu;

import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A Spark plugin that pins every task thread to the GPU Spark assigned to the task, before the task's code
 * runs ({@code spark.plugins=dev.mmspark.common.gpu.GpuTaskPlugin}; {@code SparkSessions} adds it when
 * {@code spark.task.resource.gpu.amount} is set).
 *
 * <p>Why a plugin and not a call in our own task code: distributed training runs inside dl4j-spark's worker
 * functions, which create the network on the task thread before any code of ours (the minibatch loader)
 * runs, and after a repartition no function of ours runs earlier in that task. {@link ExecutorPlugin#onTaskStart()}
 * is called by Spark on the task thread after the task context is set and before the task body, so training,
 * evaluation and feature extraction tasks are all bound the same way. On the CPU backend, or without a GPU
 * assignment, it does nothing.
 */
public final class GpuTaskPlugin implements SparkPlugin {

    @Override
    public DriverPlugin driverPlugin() {
        return null;
    }

    @Override
    public ExecutorPlugin executorPlugin() {
        return new Executor();
    }

    /** The executor side; counts the tasks it saw and those that had a GPU address (for tests and logs). */
    public static final class Executor implements ExecutorPlugin {
        private static final Logger LOG = LoggerFactory.getLogger(GpuTaskPlugin.class);
        static final AtomicLong TASKS_SEEN = new AtomicLong();
        static final AtomicLong TASKS_WITH_GPU = new AtomicLong();
        static volatile String lastAddress;
        private static final java.util.Set<String> LOGGED = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public void init(PluginContext ctx, Map<String, String> extraConf) {
            LOG.info("GPU task binding active on executor {} (CUDA backend: {})", ctx.executorID(),
                    GpuBinding.cudaBackend());
        }

        @Override
        public void onTaskStart() {
            TASKS_SEEN.incrementAndGet();
            String address = GpuBinding.assignedAddress(org.apache.spark.TaskContext.get());
            if (address != null) {
                TASKS_WITH_GPU.incrementAndGet();
                lastAddress = address;
                int device = GpuBinding.bindCurrentThread();
                if (LOGGED.add(address)) {
                    // once per address and executor: enough to check a cluster's GPU plumbing in its logs
                    LOG.info("Tasks on this executor get GPU address {} from Spark; {}", address, device >= 0
                            ? "ND4J bound to device " + device : "CPU backend, nothing to bind");
                }
            }
        }
    }

    /** Tasks this JVM's executor plugin saw start, and how many of them had a GPU assigned. */
    public static long[] counts() {
        return new long[] {Executor.TASKS_SEEN.get(), Executor.TASKS_WITH_GPU.get()};
    }

    /** The GPU address of the last task that had one, or null. */
    public static String lastAddress() {
        return Executor.lastAddress;
    }
}
