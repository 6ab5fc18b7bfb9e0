package dev.mmspark.common.gpu;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Binds the current task thread's ND4J device to the GPU Spark assigned to the task.
 *
 * <p>With Spark's GPU scheduling ({@code spark.executor.resource.gpu.amount},
 * {@code spark.task.resource.gpu.amount}, a discovery script) Spark hands each task GPU addresses in
 * {@link TaskContext#resources()}, but ND4J does not read them: without isolation every executor sees
 * every GPU and ND4J's affinity manager spreads threads over all of them, so two tasks can land on one
 * GPU while another idles. Calling {@link #bindCurrentThread()} first thing in a task (before any array is
 * created) pins the thread to the assigned device. It is a no-op on the CPU backend and without a GPU
 * assignment.
 */
public final class GpuBinding {
    private static final Logger LOG = LoggerFactory.getLogger(GpuBinding.class);

    private GpuBinding() {
    }

    /**
     * The ND4J device index for a GPU address Spark assigned.
     *
     * <p>Discovery scripts (Spark's example {@code getGpusResources.sh} uses {@code nvidia-smi}) report
     * physical GPU ids. CUDA renumbers the devices a process may see from 0 in the order of
     * {@code CUDA_VISIBLE_DEVICES}, so a physical id listed there maps to its position in that list. An
     * address not in the list is taken as an index already (discovery scripts that report visible indices).
     *
     * @param address            the address Spark assigned, e.g. "3"
     * @param cudaVisibleDevices the environment variable's value, or null when unset
     * @param deviceCount        devices ND4J sees
     * @throws IllegalArgumentException when the address cannot be a device of this process
     */
    public static int deviceIndex(String address, String cudaVisibleDevices, int deviceCount) {
        String a = address.trim();
        if (cudaVisibleDevices != null && !cudaVisibleDevices.isBlank()) {
            List<String> visible = new ArrayList<>();
            for (String v : cudaVisibleDevices.split(",")) {
                visible.add(v.trim());
            }
            int pos = visible.indexOf(a);
            if (pos >= 0) {
                if (pos >= deviceCount) {
                    throw new IllegalArgumentException("GPU " + a + " is entry " + pos + " of CUDA_VISIBLE_DEVICES="
                            + cudaVisibleDevices + " but ND4J sees only " + deviceCount + " device(s)");
                }
                return pos;
            }
        }
        int index;
        try {
            index = Integer.parseInt(a);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GPU address '" + a + "' assigned by Spark is neither a device index"
                    + " nor an entry of CUDA_VISIBLE_DEVICES=" + cudaVisibleDevices
                    + "; check the GPU discovery script (it must print numeric ids)");
        }
        if (index < 0 || index >= deviceCount) {
            throw new IllegalArgumentException("GPU address " + a + " assigned by Spark is outside the " + deviceCount
                    + " device(s) ND4J sees" + (cudaVisibleDevices == null ? "" : " (CUDA_VISIBLE_DEVICES="
                    + cudaVisibleDevices + ")"));
        }
        return index;
    }

    /** The first GPU address Spark assigned to the running task, or null (no task, or no GPU assigned). */
    public static String assignedAddress(TaskContext ctx) {
        if (ctx == null) {
            return null;
        }
        Map<String, ResourceInformation> res = scala.collection.JavaConverters.mapAsJavaMap(ctx.resources());
        ResourceInformation gpu = res.get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            return null;
        }
        if (gpu.addresses().length > 1) {
            LOG.warn("Task has {} GPUs assigned ({}); an ND4J thread uses one device, binding to the first",
                    gpu.addresses().length, String.join(",", gpu.addresses()));
        }
        return gpu.addresses()[0];
    }

    /** Whether the ND4J backend in use is the CUDA one. */
    public static boolean cudaBackend() {
        return Nd4j.getBackend().getClass().getName().toLowerCase().contains("cuda")
                || Nd4j.getBackend().getClass().getName().contains("JCublas");
    }

    /** Pins this thread to the task's assigned GPU; returns the device index, or -1 when nothing was bound. */
    public static int bindCurrentThread() {
        String address = assignedAddress(TaskContext.get());
        if (address == null || !cudaBackend()) {
            return -1;
        }
        int count = Nd4j.getAffinityManager().getNumberOfDevices();
        int index = deviceIndex(address, System.getenv("CUDA_VISIBLE_DEVICES"), count);
        Nd4j.getAffinityManager().unsafeSetDevice(index);
        LOG.info("Task {} bound to GPU address {} (ND4J device {})", TaskContext.get().taskAttemptId(), address, index);
        return index;
    }
}
