/**
 * The training spine: per-sample multimodal models as DL4J ComputationGraphs, trained on Spark with
 * synchronous parameter averaging, saved with their provenance and loaded for evaluation.
 *
 * <h2>What the jobs call</h2>
 * <pre>{@code
 * // train job: parse -> validate -> run
 * TrainConfig cfg = TrainConfig.from(conf.section("train"));   // model name looked up, every key validated
 * conf.rejectUnknownKeys();                                     // a misspelt key fails before Spark starts
 * DistributedTrainer.Result r = new DistributedTrainer(spark).train(cfg, resume, overwrite);
 *
 * // evaluation job
 * TrainedModel model = TrainedModels.load(spark, path);        // validates the directory
 * model.checkCompatible(FeatureTable.open(spark, tablePath));  // classes, modalities, vocabularies
 * Broadcast<GraphPredictor> p = jsc.broadcast(model.predictor());
 * // on executors: float[][] probs = p.value().predict(rows, available);  (see model.Predictor)
 * // per-output accuracy: OutputAccuracy.evaluate(labelledRows, p)
 * }</pre>
 *
 * <h2>How a model plugs in</h2>
 * One package per model under {@code dev.mmspark.training.models}, with the same files each time
 * ({@code models.multitask} is the example):
 * <ul>
 *   <li>{@code XModel} implements {@link dev.mmspark.training.model.SampleModelDefinition}: the registry name,
 *       the paper, and {@code parseParams(Conf)}; add one line to {@link dev.mmspark.training.ModelRegistry};</li>
 *   <li>{@code XParams} (record, {@link dev.mmspark.training.model.ModelParams}): every user setting with the
 *       paper's default, validated from the config section with key paths in the messages, and
 *       {@code resolve(FeatureTableMetadata)} checking that the table has the modalities the model needs;</li>
 *   <li>{@code XSpec} (record, {@link dev.mmspark.training.model.ModelSpec}): params plus what the table gave
 *       (dimensions, vocabulary sizes, classes). It is saved in {@code metadata.json} and rebuilds the network on
 *       load, so it must be self-contained. It names the network outputs and, per output, the modalities it
 *       {@linkplain dev.mmspark.training.model.ModelOutput#requires() requires};</li>
 *   <li>{@code XNetwork}: builds the ComputationGraphConfiguration (with
 *       {@link dev.mmspark.training.model.Optimisation#baseConfiguration()}); fusion goes through a named
 *       {@link dev.mmspark.training.fusion.FusionOperator};</li>
 *   <li>{@code XBatchBuilder} ({@link dev.mmspark.training.model.BatchBuilder}): rows to inputs and feature
 *       masks, on the executors. Labels and label masks are built by the base class: one label array per
 *       output, masked to the samples that have the output's required modalities -- which makes the per-sample
 *       sum of masked losses of multitask models (and plain losses of single-output models) the same code;</li>
 *   <li>custom math: losses that combine branches, attention, CMD, contrastive terms go in SameDiff layers,
 *       vertices or output layers, which travel to executors as JSON; the output of every SameDiff layer or
 *       vertex must go through {@link dev.mmspark.training.layers.ExternalErrorsFix} (ND4J 1.0.0-M2.1 doubles
 *       their gradients otherwise). Hot, simple operations may be native DL4J layers with a hand-written
 *       backward pass instead ({@link dev.mmspark.training.layers.MaskedGlobalPooling}: SameDiff costs
 *       milliseconds per call). Every custom part gets a gradient check and a JSON round-trip test.</li>
 * </ul>
 * The prediction side needs nothing more: {@link dev.mmspark.training.model.GraphPredictor} answers each row
 * from the output requiring the most of the row's usable modalities, and a dropped modality is fed exactly
 * like an absent one (zeros, zero masks).
 *
 * <h2>Saved model and checkpoints</h2>
 * {@code output/} holds {@code network.zip} (with updater state) and {@code metadata.json}
 * ({@link dev.mmspark.training.ModelMetadata}); it appears only when complete. {@code work_dir/checkpoints/
 * epoch-NNNNNN/} hold per-epoch checkpoints, written the same way; {@code work_dir/export/} the current
 * epoch's minibatch files, deleted after use.
 */
package dev.mmspark.training;
