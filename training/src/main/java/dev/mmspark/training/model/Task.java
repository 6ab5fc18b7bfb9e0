package dev.mmspark.training.model;

/** What a model predicts: a class distribution or one real value per sample. */
public enum Task {
    CLASSIFICATION,
    REGRESSION
}
