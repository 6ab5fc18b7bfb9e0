package dev.mmspark.evaluation.alignment;

import dev.mmspark.common.config.Conf;

import java.io.Serializable;

/**
 * The {@code evaluate} section of {@code mmspark evaluate-alignment}:
 * <pre>
 * evaluate {
 *   model = ${train.output}   # required: the model directory written by train-alignment
 *   block_size = 2048         # pairs per block; a task holds two blocks and one block_size² similarity tile
 *   csls_k = 3                # CSLS neighbourhood (MCLEA and MEAformer: 3)
 * }
 * </pre>
 */
public record AlignmentEvalConfig(String model, int blockSize, int cslsK) implements Serializable {

    public static AlignmentEvalConfig from(Conf c) {
        return new AlignmentEvalConfig(c.requireString("model"),
                c.integer("block_size", 2048, n -> n >= 16 && n <= 65_536, "between 16 and 65536"),
                c.integer("csls_k", 3, n -> n >= 1 && n <= 1000, "between 1 and 1000"));
    }

    public AlignmentEvaluator.Settings settings() {
        return new AlignmentEvaluator.Settings(blockSize, cslsK);
    }
}
