package dev.mmspark.evaluation.samples;

import dev.mmspark.evaluation.missing.MissingProtocol;

import java.io.Serializable;
import java.util.List;

/**
 * One evaluation condition: which rows are scored and which modalities the model may use for them.
 *
 * @param subset      the modalities allowed (null: each row's own), e.g. [image, text]
 * @param completeRows score only rows that have every modality of the model (the one set of rows on which
 *                    every subset can be compared); otherwise the rows that have all of {@code subset}
 * @param protocol    missing-modality protocol applied to the rows
 * @param rate        its rate
 */
public record Condition(List<String> subset, boolean completeRows, MissingProtocol protocol, double rate)
        implements Serializable {

    public static Condition natural() {
        return new Condition(null, false, MissingProtocol.NONE, 0);
    }

    /**
     * The leaderboard's {@code eval_subset}: "natural", or the subset with the paper's initials (image i, text t,
     * tags #) written together ("it#"), or names joined by '+' when other modalities are involved
     * ("audio+t"); "@complete" marks the complete-rows variant.
     */
    public String label() {
        if (subset == null) {
            return "natural";
        }
        List<String> abbrev = subset.stream().map(m -> switch (m) {
            case "image" -> "i";
            case "text" -> "t";
            case "tags" -> "#";
            default -> m;
        }).toList();
        boolean initials = abbrev.stream().allMatch(a -> a.length() == 1);
        String l = String.join(initials ? "" : "+", abbrev);
        return completeRows ? l + "@complete" : l;
    }
}
