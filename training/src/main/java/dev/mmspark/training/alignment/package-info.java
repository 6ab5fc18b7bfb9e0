/**
 * Multi-modal entity alignment between two knowledge graphs: the shared parts of MCLEA
 * ({@link dev.mmspark.training.models.mclea}) and MEAformer ({@link dev.mmspark.training.models.meaformer}).
 *
 * <h2>Why these models are not DL4J ComputationGraphs trained by dl4j-spark</h2>
 * The per-sample models of the platform train with DL4J's {@code ComputationGraph} and dl4j-spark's
 * parameter averaging, which slices a dataset of independent examples across workers. Entity alignment has
 * no such examples:
 * <ul>
 *   <li>every step runs a graph attention network over the whole knowledge-graph pair (two hops from a batch
 *       of 1,024 DBP15K entities already reach ~27k of the 39k entities), so the graph is model state that every
 *       worker needs, not data to partition;</li>
 *   <li>the loss couples the pairs of a minibatch (in-batch negatives of the contrastive losses; the KL
 *       alignment of each modality's in-batch distribution to the joint one), so a minibatch is the unit;</li>
 *   <li>the structure encoder is a sparse computation over edges. DL4J has no such layer, and SameDiff
 *       1.0.0-M2.1 cannot differentiate {@code gather} at this scale (its gradient is a while-loop of
 *       {@code put} calls, see {@link dev.mmspark.training.alignment.GraphAttention}).</li>
 * </ul>
 * So a model is: the structure encoder in plain Java with its backward pass written out
 * ({@link dev.mmspark.training.alignment.GraphAttention}, checked against finite differences), feeding a
 * SameDiff graph for the other encoders, the fusion and the losses
 * ({@link dev.mmspark.training.alignment.HeadGraph}, {@link dev.mmspark.training.alignment.Losses}, checked with
 * ND4J's GradCheckUtil); parameters are plain float arrays ({@link dev.mmspark.training.alignment.ParamSet})
 * updated by {@link dev.mmspark.training.alignment.AdamW}.
 *
 * <h2>Why its own parameter averaging</h2>
 * {@link dev.mmspark.training.alignment.AlignmentTrainer} is the mechanism of dl4j-spark's
 * ParameterAveragingTrainingMaster applied to this unit of work: the graph tensors are broadcast once per run
 * and each executor keeps its built model between rounds; every round broadcasts the parameters and AdamW
 * moments, each worker trains {@code averaging_frequency} minibatches of its share of the training pairs
 * against the full graph, and {@code treeAggregate} sums the results for the driver to average. Progress is
 * logged per epoch, a checkpoint written atomically after each, and a run resumes from the last complete one.
 *
 * <h2>Entry points</h2>
 * {@link dev.mmspark.training.alignment.AlignmentTraining#train} (the {@code train-alignment} command), the model
 * registry {@link dev.mmspark.training.alignment.AlignmentModels} and the {@code train} section
 * {@link dev.mmspark.training.alignment.AlignmentTrainConfig}. Evaluation lives in
 * {@code dev.mmspark.evaluation.alignment}.
 */
package dev.mmspark.training.alignment;
