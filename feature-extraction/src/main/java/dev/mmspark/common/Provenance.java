package dev.mmspark.common;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The versions a result depends on, recorded in every model's and every result row's metadata. Library,
 * Java, OS and CPU are all recorded because floating-point results can differ across them (different
 * BLAS kernels, different {@code Math} intrinsics).
 */
public record Provenance(String mmsparkVersion, String gitCommit, boolean gitDirty, String sparkVersion,
                         String dl4jVersion, String nd4jBackend, String javaVersion, String os, String cpu,
                         int cores) implements Serializable {

    private static final Properties BUILD = loadBuild();

    private static Properties loadBuild() {
        Properties p = new Properties();
        try (InputStream in = Provenance.class.getResourceAsStream("/dev/mmspark/build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // leave empty: reported as "unknown"
        }
        return p;
    }

    private static String build(String key) {
        String v = BUILD.getProperty(key, "unknown");
        return v.startsWith("${") ? "unknown" : v;
    }

    public static Provenance current() {
        return new Provenance(build("version"), build("git.commit"), Boolean.parseBoolean(build("git.dirty")),
                build("spark.version"), build("dl4j.version"),
                build("nd4j.backend") + ":" + build("nd4j.classifier"),
                System.getProperty("java.vendor") + " " + System.getProperty("java.version"),
                System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                cpuModel(), Runtime.getRuntime().availableProcessors());
    }

    /** The code version used in run ids: the release plus the commit when known. */
    public String codeVersion() {
        return mmsparkVersion + (gitCommit.equals("unknown") ? "" : "+" + gitCommit) + (gitDirty ? ".dirty" : "");
    }

    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("mmspark_version", mmsparkVersion);
        m.put("git_commit", gitCommit);
        m.put("git_dirty", gitDirty);
        m.put("spark_version", sparkVersion);
        m.put("dl4j_version", dl4jVersion);
        m.put("nd4j_backend", nd4jBackend);
        m.put("java", javaVersion);
        m.put("os", os);
        m.put("cpu", cpu);
        m.put("cores", cores);
        m.put("recorded_at", Instant.now().toString());
        return m;
    }

    private static String cpuModel() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }
}
