package dev.mmspark.training.layers;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Central moment discrepancy (Zellinger et al., ICLR 2017) between the rows of two [N, D] variables, unnormalised
 * as in the official MISA and TFR-Net code: ||E(a) - E(b)|| + sum over k = 2..K of ||c_k(a) - c_k(b)||, c_k the
 * k-th central moment per column. Each norm is sqrt(sum of squares + 1e-12), finite in its derivative at 0.
 * Shared by MISA's similarity loss and TFR-Net's optional CMD reconstruction term.
 */
public final class CentralMomentDiscrepancy {
    static final double NORM_EPSILON = 1e-12;

    private CentralMomentDiscrepancy() {
    }

    public static SDVariable of(SameDiff sd, SDVariable a, SDVariable b, int moments) {
        SDVariable ma = a.mean(true, 0);
        SDVariable mb = b.mean(true, 0);
        SDVariable sa = a.sub(ma);
        SDVariable sb = b.sub(mb);
        SDVariable total = norm(sd, ma.sub(mb));
        SDVariable pa = sa;
        SDVariable pb = sb;
        for (int k = 2; k <= moments; k++) {
            pa = pa.mul(sa);
            pb = pb.mul(sb);
            total = total.add(norm(sd, pa.mean(true, 0).sub(pb.mean(true, 0))));
        }
        return total;
    }

    private static SDVariable norm(SameDiff sd, SDVariable x) {
        return sd.math.sqrt(x.mul(x).sum().add(NORM_EPSILON));
    }
}
