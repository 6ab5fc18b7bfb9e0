package dev.mmspark.training.models.multitask;

import java.util.Locale;

/** The three modality roles of the multitask model, in the paper's canonical order i, t, #. */
public enum Role {
    IMAGE("i"), TEXT("t"), TAGS("#");

    private final String letter;

    Role(String letter) {
        this.letter = letter;
    }

    /** The paper's notation: i, t or #. */
    public String letter() {
        return letter;
    }

    /** The config key and graph-vertex prefix: image, text, tags. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
