package dev.mmspark.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on loopback: one Master and N Workers, each its own JVM, started from the
 * project's Spark jars (src/test/spark-dist, no Spark installation). Workers launch executors from
 * {@code $SPARK_HOME/jars} like on a real cluster. {@link #close()} stops every process it started,
 * including executors and drivers the workers launched.
 */
final class StandaloneCluster implements AutoCloseable {
    private final Path dir;
    private final int masterPort;
    private final int masterUiPort;
    private final List<Process> processes = new ArrayList<>();

    private StandaloneCluster(Path dir, int masterPort, int masterUiPort) {
        this.dir = dir;
        this.masterPort = masterPort;
        this.masterUiPort = masterUiPort;
    }

    /** Starts a master and {@code workers} workers with {@code coresPerWorker} cores and the given memory each. */
    static StandaloneCluster start(Path dir, int workers, int coresPerWorker, String memoryPerWorker) throws Exception {
        return start(dir, workers, coresPerWorker, memoryPerWorker, 0);
    }

    /**
     * As {@link #start(Path, int, int, String)}, each worker also announcing {@code gpusPerWorker} GPUs (addresses
     * 0..n-1, from a discovery script) to Spark's resource scheduling. No device is behind them: this checks
     * the scheduling plumbing (which address each task gets) on machines without a GPU.
     */
    static StandaloneCluster start(Path dir, int workers, int coresPerWorker, String memoryPerWorker,
                                   int gpusPerWorker) throws Exception {
        StandaloneCluster c = new StandaloneCluster(dir, freePort(), freePort());
        try {
            c.launch("master", List.of("org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                    "--port", String.valueOf(c.masterPort), "--webui-port", String.valueOf(c.masterUiPort)));
            c.waitFor(() -> c.status() != null, 60, "master to start");
            List<String> gpuProps = new ArrayList<>();
            if (gpusPerWorker > 0) {
                Path script = dir.resolve("discover-gpus.sh");
                StringBuilder addresses = new StringBuilder();
                for (int g = 0; g < gpusPerWorker; g++) {
                    addresses.append(g == 0 ? "" : ",").append('"').append(g).append('"');
                }
                Files.writeString(script, "#!/bin/sh\necho '{\"name\": \"gpu\", \"addresses\": [" + addresses
                        + "]}'\n");
                script.toFile().setExecutable(true);
                gpuProps.add("-Dspark.worker.resource.gpu.amount=" + gpusPerWorker);
                gpuProps.add("-Dspark.worker.resource.gpu.discoveryScript=" + script);
            }
            for (int i = 0; i < workers; i++) {
                Path work = Files.createDirectories(dir.resolve("worker-" + i));
                List<String> cmd = new ArrayList<>(gpuProps);
                cmd.addAll(List.of("org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                        "--cores", String.valueOf(coresPerWorker), "--memory", memoryPerWorker,
                        "--work-dir", work.toString(), "--webui-port", String.valueOf(freePort()), c.masterUrl()));
                c.launch("worker-" + i, cmd);
            }
            c.waitFor(() -> c.aliveWorkers() == workers, 90, workers + " workers to register");
            return c;
        } catch (Exception | AssertionError e) {
            c.close();
            throw e;
        }
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    Path dir() {
        return dir;
    }

    private void launch(String name, List<String> mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(E2e.java());
        cmd.addAll(E2e.opens());
        cmd.addAll(List.of("-Xmx512m", "-Dlog4j2.configurationFile=" + E2e.root().resolve("conf/log4j2.properties"),
                "-cp", E2e.sparkHome().resolve("jars") + File.separator + "*"));
        cmd.addAll(mainAndArgs);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        pb.environment().put("SPARK_HOME", E2e.sparkHome().toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        // A distribution's load-spark-env.sh sets this; Spark's launcher needs it to build executor commands.
        pb.environment().put("SPARK_SCALA_VERSION", "2.12");
        // Executors and drivers launched by workers get these (ND4J is off-heap; Java 17 needs the opens).
        pb.environment().put("SPARK_WORKER_OPTS", "-Dspark.worker.cleanup.enabled=false");
        processes.add(pb.start());
    }

    /** The master's JSON status, or null while it is not answering. */
    JsonNode status() {
        try {
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + masterUiPort + "/json/"))
                            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    int aliveWorkers() {
        JsonNode s = status();
        return s == null ? -1 : s.path("aliveworkers").asInt(-1);
    }

    void waitFor(java.util.function.BooleanSupplier cond, int seconds, String what) throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (!cond.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out after " + seconds + " s waiting for " + what + "; logs in " + dir);
            }
            Thread.sleep(500);
        }
    }

    /** Pids of executor JVMs the workers launched (CoarseGrainedExecutorBackend), for failure tests. */
    List<ProcessHandle> executors() {
        List<ProcessHandle> out = new ArrayList<>();
        for (Process p : processes) {
            p.descendants().filter(h -> h.info().commandLine().orElse("").contains("CoarseGrainedExecutorBackend"))
                    .forEach(out::add);
        }
        return out;
    }

    @Override
    public void close() {
        // Children first (executors, cluster-mode drivers), then workers, then the master.
        for (int i = processes.size() - 1; i >= 0; i--) {
            Process p = processes.get(i);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** stderr of every executor the workers ran. */
    String executorLogs() {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.walk(dir, 4)) {
            for (Path err : files.filter(p -> p.getFileName().toString().equals("stderr")
                    && p.getParent().getParent().getFileName().toString().startsWith("app-")).sorted().toList()) {
                sb.append("== ").append(err).append('\n').append(Files.readString(err));
            }
        } catch (IOException e) {
            sb.append("(cannot read executor logs: ").append(e).append(')');
        }
        return sb.toString();
    }

    /** stderr of every driver the workers ran (cluster deploy mode), for failure messages. */
    String driverLogs() {
        StringBuilder sb = new StringBuilder();
        try (var workers = Files.list(dir)) {
            for (Path w : workers.filter(Files::isDirectory).toList()) {
                try (var drivers = Files.list(w)) {
                    for (Path d : drivers.filter(p -> p.getFileName().toString().startsWith("driver-")).toList()) {
                        Path err = d.resolve("stderr");
                        if (Files.exists(err)) {
                            sb.append("== ").append(err).append('\n').append(Files.readString(err));
                        }
                    }
                }
            }
        } catch (IOException e) {
            sb.append("(cannot read driver logs: ").append(e).append(')');
        }
        return sb.toString();
    }
}
