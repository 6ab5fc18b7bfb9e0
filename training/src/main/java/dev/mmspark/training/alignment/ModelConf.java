package dev.mmspark.training.alignment;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;

import java.util.ArrayList;
import java.util.List;

/** Config readers shared by the model specs, so that both models spell and check common keys the same way. */
public final class ModelConf {
    private ModelConf() {
    }

    /** {@code modalities = [structure, relation, name]}: known names, no repeats, not empty. */
    public static List<Modality> modalities(Conf c, List<Modality> defaults) {
        List<String> raw = c.strings("modalities", null);
        if (raw == null) {
            return defaults;
        }
        List<Modality> out = new ArrayList<>();
        for (String s : raw) {
            Modality m = Modality.byId(s);
            if (m == null) {
                throw new ConfigException("config key '" + c.full("modalities") + "': unknown modality '" + s
                        + "'; known modalities: " + Modality.ids() + " (" + c.origin("modalities") + ")");
            }
            if (out.contains(m)) {
                throw new ConfigException("config key '" + c.full("modalities") + "': modality '" + s
                        + "' is listed twice (" + c.origin("modalities") + ")");
            }
            out.add(m);
        }
        if (out.isEmpty()) {
            throw new ConfigException("config key '" + c.full("modalities") + "': at least one modality is needed ("
                    + c.origin("modalities") + ")");
        }
        return Modality.ordered(out);
    }

    public static GraphAttention.Spec gat(Conf c, int dim) {
        int layers = c.integer("gat_layers", 2, n -> n >= 1 && n <= 4, "between 1 and 4");
        int heads = c.integer("gat_heads", 2, n -> n >= 1 && n <= 16, "between 1 and 16");
        return new GraphAttention.Spec(dim, layers, heads);
    }

    public static int dim(Conf c, String key, int def) {
        return c.integer(key, def, n -> n >= 2 && n <= 4096, "between 2 and 4096");
    }

    public static double positive(Conf c, String key, double def) {
        return c.number(key, def, x -> x > 0, "> 0");
    }

    public static double fraction(Conf c, String key, double def) {
        return c.number(key, def, x -> x >= 0 && x <= 1, "between 0 and 1");
    }

    public static int top(Conf c, String key) {
        return c.integer(key, 1000, n -> n >= 1, ">= 1");
    }
}
