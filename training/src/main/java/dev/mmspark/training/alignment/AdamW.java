package dev.mmspark.training.alignment;

import java.io.Serializable;

/**
 * AdamW (Loshchilov &amp; Hutter, ICLR 2019) exactly as {@code torch.optim.AdamW}, which both reference codes
 * use: with learning rate η, decay λ, moments m, v and step t,
 * <pre>
 *   θ ← θ·(1 − ηλ)
 *   m ← β1·m + (1 − β1)·g          v ← β2·v + (1 − β2)·g²
 *   θ ← θ − η·m̂ / (√v̂ + ε)          m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
 * </pre>
 * The arithmetic of a step is double precision; parameters and moments are stored as float32. The moments
 * live in the {@link State} next to the parameters, so that parameter averaging averages them
 * too (as DL4J's parameter averaging does with the updater state) and checkpoints resume bit-exactly.
 * Optional gradient clipping by global norm is {@code torch.nn.utils.clip_grad_norm_} (MEAformer clips at 1).
 */
public final class AdamW {
    public static final double BETA1 = 0.9;
    public static final double BETA2 = 0.999;
    public static final double EPS = 1e-8;

    private AdamW() {
    }

    /** Parameters, both moments and the step count: everything an update depends on. */
    public static final class State implements Serializable {
        private static final long serialVersionUID = 1L;
        public final ParamSet params;
        public final ParamSet m;
        public final ParamSet v;
        public long step;

        public State(ParamSet params, ParamSet m, ParamSet v, long step) {
            this.params = params;
            this.m = m;
            this.v = v;
            this.step = step;
        }

        public static State fresh(ParamSet params) {
            return new State(params, params.zerosLike(), params.zerosLike(), 0);
        }

        public State copy() {
            return new State(params.copy(), m.copy(), v.copy(), step);
        }
    }

    /**
     * Scales {@code grads} so that their global L2 norm is at most {@code maxNorm} (torch: factor
     * maxNorm / (norm + 1e-6) when the norm exceeds it). Returns the norm before clipping.
     */
    public static double clip(ParamSet grads, double maxNorm) {
        double norm = Math.sqrt(grads.sumOfSquares());
        if (maxNorm > 0 && norm > maxNorm) {
            grads.scaleInPlace(maxNorm / (norm + 1e-6));
        }
        return norm;
    }

    /** One update of every parameter that has a gradient (a missing gradient counts as zero). */
    public static void step(State s, ParamSet grads, double lr, double weightDecay) {
        s.step++;
        double bc1 = 1 - Math.pow(BETA1, s.step);
        double bc2 = 1 - Math.pow(BETA2, s.step);
        double stepSize = lr / bc1;
        double sqrtBc2 = Math.sqrt(bc2);
        double decay = 1 - lr * weightDecay;
        for (String name : s.params.names()) {
            float[] p = s.params.get(name);
            float[] m = s.m.get(name);
            float[] v = s.v.get(name);
            float[] g = grads.has(name) ? grads.get(name) : null;
            for (int i = 0; i < p.length; i++) {
                double gi = g == null ? 0 : g[i];
                double mi = BETA1 * m[i] + (1 - BETA1) * gi;
                double vi = BETA2 * v[i] + (1 - BETA2) * gi * gi;
                m[i] = (float) mi;
                v[i] = (float) vi;
                p[i] = (float) (p[i] * decay - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + EPS));
            }
        }
    }
}
