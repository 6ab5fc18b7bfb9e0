package dev.mmspark.evaluation.alignment;

/** Cross-domain similarity local scaling (Lample et al., ICLR 2018), one expression used everywhere. */
final class Csls {
    private Csls() {
    }

    /** 2·cos − r_L(x) − r_R(y), evaluated in this order so that every caller gets the same double. */
    static double score(double cos, double leftMean, double rightMean) {
        return 2 * cos - leftMean - rightMean;
    }
}
