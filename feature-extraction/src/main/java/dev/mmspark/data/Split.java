package dev.mmspark.data;

import java.util.Locale;

/** Dataset splits. {@code UNLABELED} samples may be used for unsupervised steps (word vectors) only. */
public enum Split {
    TRAIN, VALIDATION, TEST, UNLABELED;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a split name; returns null for anything else. */
    public static Split parse(String s) {
        if (s == null) {
            return null;
        }
        String n = s.trim().toUpperCase(Locale.ROOT);
        if (n.equals("VAL") || n.equals("DEV")) {
            return VALIDATION;
        }
        for (Split sp : values()) {
            if (sp.name().equals(n)) {
                return sp;
            }
        }
        return null;
    }

    public static String names() {
        return "train, validation, test, unlabeled";
    }
}
