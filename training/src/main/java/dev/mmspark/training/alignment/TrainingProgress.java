package dev.mmspark.training.alignment;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The bookkeeping of a training run, saved with every checkpoint: epochs done with their statistics, the
 * training pairs (which self-training extends), the self-training candidates, and the settings a resumed run
 * must share with the checkpoint.
 *
 * @param epochs         completed epochs
 * @param history        one entry per completed epoch
 * @param trainLeft      training pairs (graph-1 indices), including pairs added by self-training
 * @param trainRight     their counterparts
 * @param addedPairs     how many of them self-training added
 * @param streaks        self-training candidates "left:right" → consecutive confirmations
 * @param resumeKey      settings that must not change across a resume (model spec, data, seed, batching)
 * @param trainSeconds   wall time of the training epochs so far
 * @param resumedAt      epochs at which the run was resumed
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TrainingProgress(int epochs, List<EpochStats> history, int[] trainLeft, int[] trainRight,
                               int addedPairs, Map<String, Integer> streaks, Map<String, Object> resumeKey,
                               double trainSeconds, List<Integer> resumedAt) {

    /**
     * Statistics of one epoch.
     *
     * @param loss           mean minibatch loss over all workers' steps
     * @param steps          optimiser steps per worker (the longest share)
     * @param rounds         parameter-averaging rounds
     * @param pairs          training pairs seen (all workers)
     * @param seconds        wall time of the epoch's training (excluding validation and checkpointing)
     * @param pairsPerSecond pairs / seconds
     * @param learningRate   learning rate at the epoch's last step
     * @param validation     validation metrics when computed this epoch
     * @param selfTraining   {candidates, added} when self-training searched this epoch
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record EpochStats(int epoch, double loss, int steps, int rounds, long pairs, double seconds,
                             double pairsPerSecond, double learningRate, Map<String, Double> validation,
                             Map<String, Integer> selfTraining) {
    }

    public TrainingProgress next(EpochStats stats, int[] left, int[] right, int added, Map<String, Integer> st,
                                 double seconds) {
        List<EpochStats> h = new ArrayList<>(history);
        h.add(stats);
        return new TrainingProgress(epochs + 1, h, left, right, added, st, resumeKey, trainSeconds + seconds,
                resumedAt);
    }

    public TrainingProgress resumed() {
        List<Integer> r = new ArrayList<>(resumedAt == null ? List.of() : resumedAt);
        r.add(epochs);
        return new TrainingProgress(epochs, history, trainLeft, trainRight, addedPairs, streaks, resumeKey,
                trainSeconds, r);
    }
}
