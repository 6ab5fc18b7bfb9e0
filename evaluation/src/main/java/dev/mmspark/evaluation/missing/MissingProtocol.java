package dev.mmspark.evaluation.missing;

/**
 * How test samples are degraded to measure robustness.
 * <ul>
 *   <li>{@code NONE}: samples as they are;</li>
 *   <li>{@code MODALITY}: a share {@code rate} of test samples lose one or two of their modalities (never all),
 *       the pattern drawn uniformly with a seed (TATE's protocol, Zeng et al. 2022, with all patterns);</li>
 *   <li>{@code FRAME}: a share {@code rate} of the frames of every modality is dropped (TFR-Net's protocol,
 *       Yuan et al. 2021): dropped text/tag tokens become the unknown token, dropped sequence frames and
 *       image regions become zero.</li>
 * </ul>
 */
public enum MissingProtocol {
    NONE, MODALITY, FRAME
}
