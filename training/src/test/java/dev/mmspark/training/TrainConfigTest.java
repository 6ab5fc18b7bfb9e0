package dev.mmspark.training;

import dev.mmspark.common.ExitCode;
import dev.mmspark.common.MmsparkException;
import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.training.models.multitask.MultitaskFixtures;
import dev.mmspark.training.models.multitask.MultitaskParams;
import dev.mmspark.training.models.multitask.MultitaskSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TrainConfigTest {
    private static final String BASE = "train {\nmodel { name = multitask }\nfeatures = /data/f\noutput = /models/m\n";

    private static TrainConfig parse(String extra) {
        Conf root = Conf.parse(BASE + extra + "\n}");
        TrainConfig c = TrainConfig.from(root.section("train"));
        root.rejectUnknownKeys();
        return c;
    }

    private static String error(String extra) {
        return assertThrows(MmsparkException.class, () -> parse(extra)).getMessage();
    }

    @Test
    void defaults() {
        TrainConfig c = parse("");
        assertEquals(10, c.epochs());
        assertEquals(32, c.batchSizePerWorker());
        assertEquals(5, c.averagingFrequency());
        assertEquals(0, c.workers());
        assertEquals(1e-3, c.learningRate());
        assertEquals(42, c.seed());
        assertEquals("/models/m.work/checkpoints", c.checkpointDir());
        MultitaskParams p = (MultitaskParams) c.modelParams();
        assertEquals(300, p.representationDim());
        assertEquals(List.of(256, 128), p.headHidden());
        assertEquals(List.of(3, 4, 5), p.text().windows());
        assertEquals(100, p.text().filters());
        assertEquals(250, p.tags().embeddingDim());
        assertEquals("concat", p.fusion().name());
    }

    @Test
    void unknownModelListsTheKnownOnes() {
        MmsparkException e = assertThrows(MmsparkException.class,
                () -> TrainConfig.from(Conf.parse("model { name = mult }", "train.conf", List.of())));
        assertEquals("config key 'model.name' (train.conf: 1): unknown model 'mult'; known models: dscmr, misa, "
                + "multitask, tate, tfrnet", e.getMessage());
        assertEquals(ExitCode.BAD_CONFIG, e.exitCode());
        assertEquals(List.of("dscmr", "misa", "multitask", "tate", "tfrnet"), List.copyOf(ModelRegistry.names()));
    }

    @Test
    void badValuesNameTheirKey() {
        assertEquals("config key 'train.batch_size_per_worker': expected an integer between 1 and 100000, found 0 "
                + "(inline config: 5)", error("batch_size_per_worker = 0"));
        assertEquals("config key 'train.optimizer': expected one of adam, sgd, nesterovs, rmsprop, adamax, nadam, "
                + "amsgrad, adagrad, found 'adamw' (inline config: 5)", error("optimizer = adamw"));
        assertEquals("config key 'train.model.text.windows': expected a list of integers between 1 and 100 (n-gram "
                + "widths), found [3,0] (inline config: 5)", error("model.text.windows = [3, 0]"));
        assertEquals("config key 'train.model.text.dropout': expected a number in [0, 1) (a drop probability), "
                + "found 1 (inline config: 5)", error("model.text.dropout = 1"));
        assertEquals("config key 'train.model.fusion': unknown fusion 'tensor'; known fusions: attention, block, "
                + "concat, gmu, lmf, mcb, mfb, mfh, mlb, mutan, sum, tfn", error("model.fusion = tensor"));
        assertEquals("config key 'train.epoch' is not a known key (inline config: 5); did you mean 'train.epochs'?",
                assertThrows(ConfigException.class, () -> parse("epoch = 3")).getMessage());
        assertEquals("config key 'train.model.text.filter' is not a known key (inline config: 5); did you mean "
                + "'train.model.text.filters'?", assertThrows(ConfigException.class,
                () -> parse("model.text.filter = 3")).getMessage());
    }

    @Test
    void explicitModalityMissingFromTheTableIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> MultitaskFixtures.spec(
                MultitaskFixtures.metadata(true, true, false), "modalities.tags = hashtags"));
        assertEquals("config key 'modalities.tags' names modality 'hashtags', which feature table /tables/tiny does "
                + "not have; it has [image, text]", e.getMessage());
        // by default a missing role is simply left out
        MultitaskSpec spec = MultitaskFixtures.spec(MultitaskFixtures.metadata(false, true, true), "");
        assertEquals(List.of("text", "tags"), spec.modalities());
    }
}
