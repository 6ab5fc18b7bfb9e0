package dev.mmspark.common.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException.BadPath;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.io.File;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoublePredicate;
import java.util.function.IntPredicate;
import java.util.function.LongPredicate;
import java.util.stream.Collectors;

/**
 * A validated view of a HOCON configuration (files in {@code conf/}).
 *
 * <p>Every typed getter checks the value and fails with a {@link ConfigException} that names the full
 * key path, the value found, what was expected and where the value came from (file:line). Every key that
 * is read is recorded, so that {@link #rejectUnknownKeys()} can report a misspelt key (with a suggestion)
 * instead of silently ignoring it. This runs before Spark starts: a bad config never costs a cluster
 * allocation.
 */
public final class Conf {

    /** The config schema version this build reads; files carry it as {@code schema_version}. */
    public static final int SCHEMA_VERSION = 1;

    private final Config root;
    private final String prefix;
    private final Set<String> consumed;
    /** Paths read as free-form maps ({@link #stringMap}): their whole subtree counts as known. */
    private final Set<String> maps;

    private final String label;

    private Conf(Config root, String prefix, Set<String> consumed) {
        this(root, prefix, consumed, ConcurrentHashMap.newKeySet(), null);
    }

    private Conf(Config root, String prefix, Set<String> consumed, Set<String> maps, String label) {
        this.root = root;
        this.prefix = prefix;
        this.consumed = consumed;
        this.maps = maps;
        this.label = label;
    }

    /** Loads a file, applies {@code key=value} overrides (command-line {@code --set}) and resolves it. */
    public static Conf load(File file, List<String> overrides) {
        if (!file.isFile()) {
            throw new ConfigException("config file " + file + " does not exist or is not a file");
        }
        Config parsed;
        try {
            parsed = ConfigFactory.parseFile(file, ConfigParseOptions.defaults()
                    .setSyntax(ConfigSyntax.CONF).setAllowMissing(false));
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("cannot parse config file " + file + ": " + e.getMessage());
        }
        return fromParsed(withOverrides(parsed, overrides), file.getPath());
    }

    /** Parses HOCON text (tests, embedded defaults) with optional overrides. */
    public static Conf parse(String hocon, String sourceName, List<String> overrides) {
        Config parsed;
        try {
            parsed = ConfigFactory.parseString(hocon,
                    ConfigParseOptions.defaults().setOriginDescription(sourceName));
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("cannot parse config " + sourceName + ": " + e.getMessage());
        }
        return fromParsed(withOverrides(parsed, overrides), sourceName);
    }

    public static Conf parse(String hocon) {
        return parse(hocon, "inline config", List.of());
    }

    /**
     * A configuration built from an already parsed HOCON tree (a sweep derives one per run from sections
     * of its file) with {@code key=value} overrides; values keep their file:line origins for messages.
     */
    public static Conf of(Config config, String sourceName, List<String> overrides) {
        return fromParsed(withOverrides(config, overrides), sourceName);
    }

    /** An empty configuration: every getter returns its default. */
    public static Conf empty() {
        return parse("");
    }

    private static Config withOverrides(Config parsed, List<String> overrides) {
        Config result = parsed;
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("override '" + o + "' must have the form key.path=value");
            }
            String key = o.substring(0, eq).trim();
            String value = o.substring(eq + 1).trim();
            try {
                Config one = ConfigFactory.parseString(key + " = " + quoteIfNeeded(value),
                        ConfigParseOptions.defaults().setOriginDescription("--set " + key));
                result = one.withFallback(result);
            } catch (com.typesafe.config.ConfigException e) {
                throw new ConfigException("override '" + o + "' is not valid HOCON: " + e.getMessage());
            }
        }
        return result;
    }

    private static String quoteIfNeeded(String value) {
        // Let numbers, booleans, lists, objects and already-quoted strings through; quote the rest so
        // that paths like /tmp/x:y are not misread as HOCON syntax.
        if (value.isEmpty()) {
            return "\"\"";
        }
        char c = value.charAt(0);
        if (c == '[' || c == '{' || c == '"' || value.equals("true") || value.equals("false")
                || value.equals("null") || value.matches("-?[0-9][0-9_]*(\\.[0-9]+)?([eE][-+]?[0-9]+)?")) {
            return value;
        }
        return '"' + value.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static Conf fromParsed(Config parsed, String source) {
        Config resolved;
        try {
            resolved = parsed.resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(true));
        } catch (com.typesafe.config.ConfigException e) {
            throw new ConfigException("cannot resolve config " + source + ": " + e.getMessage());
        }
        Conf conf = new Conf(resolved, "", ConcurrentHashMap.newKeySet());
        if (resolved.hasPath("schema_version")) {
            int v = conf.integer("schema_version", SCHEMA_VERSION, x -> x >= 1, "a positive integer");
            if (v != SCHEMA_VERSION) {
                throw new ConfigException("config key 'schema_version': this build reads schema version "
                        + SCHEMA_VERSION + ", found " + v + " (" + conf.origin("schema_version") + ")");
            }
        }
        return conf;
    }

    // ---------------------------------------------------------------- navigation

    /** A view of the sub-object at {@code key}; an absent key gives an empty view. */
    public Conf section(String key) {
        String full = full(key);
        if (root.hasPathOrNull(full) && !root.getIsNull(full)
                && root.getValue(full).valueType() != ConfigValueType.OBJECT) {
            throw new ConfigException("config key '" + full + "': expected an object { ... }, found "
                    + render(root.getValue(full)) + " (" + origin(key) + ")");
        }
        consumed.add(full);
        return new Conf(root, full, consumed, maps, label);
    }

    /** The full key path of this view ("" for the root). */
    public String path() {
        return prefix;
    }

    /** The full path of a key of this view, for messages. */
    public String full(String key) {
        return prefix.isEmpty() ? key : prefix + "." + key;
    }

    public boolean has(String key) {
        String full = full(key);
        try {
            return root.hasPath(full);
        } catch (BadPath e) {
            throw new ConfigException("'" + full + "' is not a valid config key path");
        }
    }

    /** The keys directly under this view, in no particular order. */
    public Set<String> keys() {
        if (prefix.isEmpty()) {
            return new TreeSet<>(root.root().keySet());
        }
        if (!root.hasPath(prefix)) {
            return Set.of();
        }
        return new TreeSet<>(root.getObject(prefix).keySet());
    }

    // ---------------------------------------------------------------- typed getters

    public String string(String key, String defaultValue) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (v.valueType() == ConfigValueType.OBJECT || v.valueType() == ConfigValueType.LIST) {
            throw bad(key, v, "a string");
        }
        return String.valueOf(v.unwrapped());
    }

    public String requireString(String key) {
        String s = string(key, null);
        if (s == null || s.isBlank()) {
            throw new ConfigException("config key '" + full(key) + "' is required (a non-empty string) but "
                    + (s == null ? "is missing" : "is empty") + " in " + sourceDescription());
        }
        return s;
    }

    public int integer(String key, int defaultValue, IntPredicate valid, String expectation) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        Object u = v.unwrapped();
        if (!(u instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                || Math.abs(n.doubleValue()) > Integer.MAX_VALUE) {
            throw bad(key, v, "an integer " + expectation);
        }
        int i = n.intValue();
        if (!valid.test(i)) {
            throw bad(key, v, "an integer " + expectation);
        }
        return i;
    }

    public long longValue(String key, long defaultValue, LongPredicate valid, String expectation) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        Object u = v.unwrapped();
        if (!(u instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) {
            throw bad(key, v, "an integer " + expectation);
        }
        long l = n.longValue();
        if (!valid.test(l)) {
            throw bad(key, v, "an integer " + expectation);
        }
        return l;
    }

    public double number(String key, double defaultValue, DoublePredicate valid, String expectation) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        Object u = v.unwrapped();
        if (!(u instanceof Number n) || !Double.isFinite(n.doubleValue()) || !valid.test(n.doubleValue())) {
            throw bad(key, v, "a number " + expectation);
        }
        return n.doubleValue();
    }

    public boolean bool(String key, boolean defaultValue) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (!(v.unwrapped() instanceof Boolean b)) {
            throw bad(key, v, "true or false");
        }
        return b;
    }

    /** A closed set of values: accepted case-insensitively with '-' or '_', listed in the message. */
    public <E extends Enum<E>> E enumValue(String key, Class<E> type, E defaultValue) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        String s = String.valueOf(v.unwrapped()).trim().toUpperCase(Locale.ROOT).replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(s)) {
                return e;
            }
        }
        throw bad(key, v, "one of " + enumNames(type));
    }

    public static <E extends Enum<E>> String enumNames(Class<E> type) {
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        return String.join(", ", names);
    }

    public List<String> strings(String key, List<String> defaultValue) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        if (v.valueType() == ConfigValueType.STRING || v.valueType() == ConfigValueType.NUMBER) {
            return List.of(String.valueOf(v.unwrapped()));
        }
        if (!(v instanceof ConfigList list)) {
            throw bad(key, v, "a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (ConfigValue e : list) {
            if (e.valueType() == ConfigValueType.OBJECT || e.valueType() == ConfigValueType.LIST
                    || e.valueType() == ConfigValueType.NULL) {
                throw bad(key, v, "a list of strings");
            }
            out.add(String.valueOf(e.unwrapped()));
        }
        return Collections.unmodifiableList(out);
    }

    public List<Double> numbers(String key, List<Double> defaultValue, DoublePredicate valid,
                                String expectation) {
        ConfigValue v = value(key);
        if (v == null) {
            return defaultValue;
        }
        List<ConfigValue> items = v instanceof ConfigList l ? l : List.of(v);
        List<Double> out = new ArrayList<>();
        for (ConfigValue e : items) {
            if (!(e.unwrapped() instanceof Number n) || !Double.isFinite(n.doubleValue())
                    || !valid.test(n.doubleValue())) {
                throw bad(key, v, "a list of numbers " + expectation);
            }
            out.add(n.doubleValue());
        }
        return Collections.unmodifiableList(out);
    }

    public List<Integer> integers(String key, List<Integer> defaultValue, IntPredicate valid,
                                  String expectation) {
        List<Double> raw = numbers(key, null, d -> true, expectation);
        if (raw == null) {
            return defaultValue;
        }
        List<Integer> out = new ArrayList<>();
        for (double d : raw) {
            if (d != Math.rint(d) || !valid.test((int) d)) {
                throw bad(key, value(key), "a list of integers " + expectation);
            }
            out.add((int) d);
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * The value at {@code key} as parsed (null when absent), counted as used: for values of several shapes, such as
     * a list whose entries are names or objects, that the caller validates itself.
     */
    public ConfigValue rawValue(String key) {
        return value(key);
    }

    /** A list of objects, each as its own view (e.g. the entries of a sweep's model list). */
    public List<Conf> sections(String key) {
        ConfigValue v = value(key);
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof ConfigList list)) {
            throw bad(key, v, "a list of objects");
        }
        List<Conf> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            ConfigValue e = list.get(i);
            if (!(e instanceof ConfigObject obj)) {
                throw bad(key, v, "a list of objects (entry " + i + " is " + render(e) + ")");
            }
            out.add(new Conf(obj.toConfig(), "", ConcurrentHashMap.newKeySet(), ConcurrentHashMap.newKeySet(),
                    displayKey(key) + "[" + i + "]"));
        }
        return out;
    }

    /**
     * A free-form map of string values (for pass-through settings such as {@code spark.conf}); every key
     * under it counts as known.
     */
    public Map<String, String> stringMap(String key) {
        String full = full(key);
        consumed.add(full);
        maps.add(full);
        if (!root.hasPath(full)) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, ConfigValue> e : root.getConfig(full).entrySet()) {
            consumed.add(full + "." + e.getKey());
            out.put(e.getKey(), String.valueOf(e.getValue().unwrapped()));
        }
        return out;
    }

    // ---------------------------------------------------------------- unknown keys

    /**
     * Fails on any key under this view that no getter asked for: a misspelt key must not silently fall
     * back to a default.
     */
    public void rejectUnknownKeys() {
        List<String> unknown = new ArrayList<>();
        collectLeaves(prefix, unknown);
        unknown.removeIf(this::isConsumed);
        if (unknown.isEmpty()) {
            return;
        }
        String first = unknown.get(0);
        Set<String> known = consumed.stream()
                .filter(k -> prefix.isEmpty() || k.startsWith(prefix + "."))
                .collect(Collectors.toCollection(TreeSet::new));
        String suggestion = closest(first, known);
        StringBuilder msg = new StringBuilder("config key '").append(first).append("' is not a known key (")
                .append(originOfFull(first)).append(')');
        if (suggestion != null) {
            msg.append("; did you mean '").append(suggestion).append("'?");
        }
        if (unknown.size() > 1) {
            msg.append(" Other unknown keys: ").append(String.join(", ", unknown.subList(1, unknown.size())));
        }
        throw new ConfigException(msg.toString());
    }

    private boolean isConsumed(String leaf) {
        if (consumed.contains(leaf)) {
            return true;
        }
        // a consumed list or map covers its elements
        for (String c : consumed) {
            if (leaf.startsWith(c + ".") && root.hasPathOrNull(c)
                    && root.getValue(c).valueType() != ConfigValueType.OBJECT) {
                return true;
            }
        }
        return leaf.equals("schema_version") && prefix.isEmpty();
    }

    private void collectLeaves(String path, List<String> out) {
        ConfigValue v = path.isEmpty() ? root.root() : (root.hasPathOrNull(path) ? root.getValue(path) : null);
        if (v == null) {
            return;
        }
        if (v instanceof ConfigObject obj) {
            if (obj.isEmpty() && !path.isEmpty()) {
                out.add(path);
            }
            for (String k : new TreeSet<>(obj.keySet())) {
                String child = path.isEmpty() ? quoteKey(k) : path + "." + quoteKey(k);
                if (consumedAsMap(child)) {
                    continue;
                }
                collectLeaves(child, out);
            }
        } else {
            out.add(path);
        }
    }

    private boolean consumedAsMap(String path) {
        // only a map read by stringMap covers its subtree: a section whose direct keys were all read (e.g.
        // as sub-sections) must still have the keys below them checked
        return maps.contains(path) && root.hasPathOrNull(path)
                && root.getValue(path).valueType() == ConfigValueType.OBJECT
                && mapKeysConsumed(path);
    }

    private boolean mapKeysConsumed(String path) {
        for (String k : root.getObject(path).keySet()) {
            if (!consumed.contains(path + "." + k)) {
                return false;
            }
        }
        return true;
    }

    private static String quoteKey(String k) {
        return k.matches("[A-Za-z0-9_-]+") ? k : '"' + k + '"';
    }

    static String closest(String key, Set<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = levenshtein(key, c);
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best != null && bestDistance <= Math.max(2, key.length() / 4) ? best : null;
    }

    private static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    // ---------------------------------------------------------------- helpers

    private ConfigValue value(String key) {
        String full = full(key);
        consumed.add(full);
        try {
            if (!root.hasPathOrNull(full) || root.getIsNull(full)) {
                return null;
            }
        } catch (BadPath e) {
            throw new ConfigException("'" + displayKey(key) + "' is not a valid config key path");
        }
        return root.getValue(full);
    }

    private ConfigException bad(String key, ConfigValue v, String expected) {
        return new ConfigException("config key '" + displayKey(key) + "': expected " + expected + ", found "
                + render(v) + " (" + origin(v) + ")");
    }

    private String displayKey(String key) {
        return label == null ? full(key) : label + "." + full(key);
    }

    /** Where a key's value came from, e.g. {@code conf/quickstart.conf: 12}. */
    public String origin(String key) {
        ConfigValue v = value(key);
        return v == null ? sourceDescription() : origin(v);
    }

    private String originOfFull(String full) {
        return root.hasPathOrNull(full) ? origin(root.getValue(full)) : sourceDescription();
    }

    private static String origin(ConfigValue v) {
        ConfigOrigin o = v.origin();
        String desc = o.filename() != null ? o.filename() : o.description();
        return o.lineNumber() > 0 && o.filename() != null ? desc + ": " + o.lineNumber() : desc;
    }

    private String sourceDescription() {
        return origin(root.root());
    }

    private static String render(ConfigValue v) {
        if (v.valueType() == ConfigValueType.STRING) {
            return "'" + v.unwrapped() + "'";
        }
        return v.render(ConfigRenderOptions.concise());
    }

    /** The resolved configuration of this view as JSON, recorded with every model and result row. */
    public String toJson() {
        ConfigValue v = prefix.isEmpty() ? root.root()
                : (root.hasPath(prefix) ? root.getValue(prefix) : ConfigFactory.empty().root());
        return v.render(ConfigRenderOptions.concise().setJson(true));
    }

    /** The underlying Typesafe config of this view (read-only). */
    public Config raw() {
        return prefix.isEmpty() ? root : (root.hasPath(prefix) ? root.getConfig(prefix) : ConfigFactory.empty());
    }

    @Override
    public String toString() {
        return "Conf(" + (prefix.isEmpty() ? "<root>" : prefix) + ")";
    }
}
