package dev.mmspark.features;

/** How a modality is stored in a feature table (metadata.json, {@code modalities[].kind}). */
public enum ModalityKind {
    /** Preprocessed pixels, {@code <m>_values} float[C*H*W] channels-first; shape [C, H, W]. */
    IMAGE_PIXELS,
    /**
     * Pretrained backbone output: {@code <m>_pooled} float[D] (global average pooled embedding) and, when
     * region vectors are kept, {@code <m>_values} float[R*D] (R grid cells x D channels); shape [R, D].
     */
    IMAGE_EMBEDDING,
    /** Token ids {@code <m>_ids} int[<=L] into the vocabulary at {@code vocab/<m>}; shape [L]. */
    TOKENS,
    /** A fixed-length vector {@code <m>_values} float[D]; shape [D]. */
    VECTOR,
    /** A variable-length sequence {@code <m>_values} float[len*D] and {@code <m>_length}; shape [-1, D]. */
    SEQUENCE
}
