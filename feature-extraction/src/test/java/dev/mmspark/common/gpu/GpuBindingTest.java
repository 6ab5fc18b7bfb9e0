package dev.mmspark.common.gpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GpuBindingTest {
    @Test
    void addressIsTheDeviceIndexWithoutVisibleDevices() {
        assertEquals(0, GpuBinding.deviceIndex("0", null, 4));
        assertEquals(3, GpuBinding.deviceIndex("3", "", 4));
    }

    @Test
    void physicalIdMapsToItsPositionInCudaVisibleDevices() {
        // a container sees physical GPUs 4 and 6; CUDA numbers them 0 and 1
        assertEquals(1, GpuBinding.deviceIndex("6", "4,6", 2));
        assertEquals(0, GpuBinding.deviceIndex(" 4 ", "4, 6", 2));
    }

    @Test
    void visibleIndexIsAcceptedWhenNotAPhysicalIdOfTheList() {
        assertEquals(1, GpuBinding.deviceIndex("1", "4,6", 2));
    }

    @Test
    void impossibleAssignmentsAreExplained() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GpuBinding.deviceIndex("5", "4,6", 2));
        assertEquals("GPU address 5 assigned by Spark is outside the 2 device(s) ND4J sees (CUDA_VISIBLE_DEVICES=4,6)",
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GpuBinding.deviceIndex("GPU-abc", null, 2));
        assertEquals("GPU address 'GPU-abc' assigned by Spark is neither a device index nor an entry of "
                + "CUDA_VISIBLE_DEVICES=null; check the GPU discovery script (it must print numeric ids)", e.getMessage());
    }

    @Test
    void noTaskNoBinding() {
        assertEquals(null, GpuBinding.assignedAddress(null));
        assertEquals(-1, GpuBinding.bindCurrentThread());
    }
}
