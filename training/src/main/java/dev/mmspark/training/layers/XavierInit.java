package dev.mmspark.training.layers;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.Map;

/**
 * The initialisation of the SameDiff Transformer vertices (MulT's for TFR-Net, TensorFlow's Xavier initialiser for
 * TATE): Xavier-uniform weights, zero biases, LayerNorm gains 1 and offsets 0. A parameter's kind is the end of its
 * name: names are a place (letters other than W, b, and digits) followed by the kind ({@code W...} weight,
 * {@code b...} bias, {@code ln...g} / {@code ln...b} LayerNorm gain / offset), letters and digits only, because
 * DL4J's gradient check splits parameter keys at '_'.
 */
public final class XavierInit {
    private XavierInit() {
    }

    /** The kind part of a parameter name: from its first "W", "b" or "ln" on. */
    public static String kind(String name) {
        int k = name.length();
        for (String start : List.of("W", "b", "ln")) {
            int i = name.indexOf(start);
            if (i >= 0) {
                k = Math.min(k, i);
            }
        }
        return name.substring(k);
    }

    public static void initialise(Map<String, INDArray> params) {
        for (Map.Entry<String, INDArray> e : params.entrySet()) {
            String name = kind(e.getKey());
            INDArray v = e.getValue();
            if (name.startsWith("ln")) {
                v.assign(name.endsWith("g") ? 1.0 : 0.0);
            } else if (name.startsWith("b")) {
                v.assign(0.0);
            } else {
                double bound = Math.sqrt(6.0 / (v.size(0) + v.size(1)));
                v.assign(Nd4j.rand(v.dataType(), v.shape()).muli(2 * bound).subi(bound));
            }
        }
    }
}
