package dev.mmspark.training.alignment;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class AdamWTest {
    /**
     * torch.optim.AdamW by hand, θ = 1, lr 0.1, decay 0.5: step 1 with g = 2 gives m̂ = 2, v̂ = 4, θ = 1·0.95 − 0.1·2/2
     * = 0.85; step 2 with g = −1 gives m = 0.08, v = 0.004996, θ = 0.85·0.95 − 0.1·(0.08/0.19)/√(0.004996/0.001999)
     * = 0.780866. The same in Python, transcribing torch's AdamW step:
     * <pre>
     * p, m, v = 1.0, 0.0, 0.0; lr, wd = 0.1, 0.5
     * for t, g in [(1, 2.0), (2, -1.0)]:
     *     p *= 1 - lr * wd; m = 0.9 * m + 0.1 * g; v = 0.999 * v + 0.001 * g * g
     *     p -= lr / (1 - 0.9 ** t) * m / (math.sqrt(v) / math.sqrt(1 - 0.999 ** t) + 1e-8)   # 0.85, 0.7808663
     * </pre>
     */
    @Test
    void twoStepsByHand() {
        ParamSet p = new ParamSet();
        p.put("x", new long[]{1}, new float[]{1});
        AdamW.State s = AdamW.State.fresh(p);
        ParamSet g = new ParamSet();
        g.put("x", new long[]{1}, new float[]{2});
        AdamW.step(s, g, 0.1, 0.5);
        assertEquals(0.85f, s.params.get("x")[0], 1e-7f);
        g.get("x")[0] = -1;
        AdamW.step(s, g, 0.1, 0.5);
        assertEquals(0.7808663f, s.params.get("x")[0], 1e-6f);
        assertEquals(0.08f, s.m.get("x")[0], 1e-7f);
        assertEquals(0.004996f, s.v.get("x")[0], 1e-8f);
        assertEquals(2, s.step);
    }

    @Test
    void clippingScalesToTheGlobalNorm() {
        ParamSet g = new ParamSet();
        g.put("a", new long[]{2}, new float[]{3, 0});
        g.put("b", new long[]{1}, new float[]{4});
        assertEquals(5.0, AdamW.clip(g, 1.0), 1e-12);
        assertArrayEquals(new float[]{0.6f, 0}, g.get("a"), 1e-6f);
        assertArrayEquals(new float[]{0.8f}, g.get("b"), 1e-6f);
        assertEquals(1.0, AdamW.clip(g, 2.0), 1e-6); // below the threshold: unchanged
        assertArrayEquals(new float[]{0.8f}, g.get("b"), 1e-6f);
    }

    @Test
    void parameterFilesRoundTrip() throws IOException {
        ParamSet p = new ParamSet();
        p.put("w", new long[]{2, 3}, new float[]{1, -2, 3.5f, Float.MIN_VALUE, 0, -0f});
        p.put("b", new long[]{1}, new float[]{7});
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        p.write(new DataOutputStream(buf));
        ParamSet q = ParamSet.read(new DataInputStream(new ByteArrayInputStream(buf.toByteArray())));
        assertEquals(p.names(), q.names());
        assertArrayEquals(p.shape("w"), q.shape("w"));
        assertArrayEquals(p.get("w"), q.get("w"));
        assertArrayEquals(p.get("b"), q.get("b"));
    }
}
