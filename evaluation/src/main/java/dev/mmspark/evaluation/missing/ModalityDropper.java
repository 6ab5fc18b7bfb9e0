package dev.mmspark.evaluation.missing;

import dev.mmspark.data.SplitAssigner;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The modality-level protocol: with probability {@code rate} (decided by a hash of seed and sample id, so
 * the same samples are degraded for every model compared), a sample loses a non-empty proper subset of the
 * modalities it has, drawn uniformly among all such subsets (6 patterns for 3 modalities, 2 for 2). A
 * sample with a single modality is left as it is.
 */
public record ModalityDropper(double rate, long seed) implements Serializable {

    public ModalityDropper {
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("missing rate must be in [0, 1], found " + rate);
        }
    }

    /** The modalities the model may use for this sample. */
    public Set<String> available(String id, List<String> present) {
        if (present.size() < 2 || SplitAssigner.unit(seed, "drop:" + id) >= rate) {
            return new LinkedHashSet<>(present);
        }
        // All non-empty proper subsets to drop, as bit masks over 'present' (order fixed by the caller).
        int k = present.size();
        List<Integer> masks = new ArrayList<>();
        for (int m = 1; m < (1 << k) - 1; m++) {
            masks.add(m);
        }
        int pick = (int) Math.floor(SplitAssigner.unit(seed, "pattern:" + id) * masks.size());
        int drop = masks.get(Math.min(pick, masks.size() - 1));
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < k; i++) {
            if ((drop & (1 << i)) == 0) {
                out.add(present.get(i));
            }
        }
        return out;
    }
}
