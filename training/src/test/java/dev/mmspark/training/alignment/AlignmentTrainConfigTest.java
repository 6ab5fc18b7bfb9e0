package dev.mmspark.training.alignment;

import dev.mmspark.common.config.Conf;
import dev.mmspark.common.config.ConfigException;
import dev.mmspark.training.models.mclea.MCLEASpec;
import dev.mmspark.training.models.meaformer.MEAformerSpec;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AlignmentTrainConfigTest {
    private static AlignmentTrainConfig parse(String train) {
        Conf c = Conf.parse("train { kg_table = kg, output = out\n" + train + " }");
        AlignmentTrainConfig cfg = AlignmentTrainConfig.from(c.section("train"));
        c.rejectUnknownKeys();
        return cfg;
    }

    private static String error(String train) {
        return assertThrows(ConfigException.class, () -> parse(train)).getMessage();
    }

    @Test
    void mcleaDefaultsAreThePapers() {
        AlignmentTrainConfig c = parse("model { name = mclea }");
        MCLEASpec s = (MCLEASpec) c.spec();
        assertEquals(List.of(Modality.values()), s.modalities());
        assertFalse(c.explicitModalities());
        assertEquals(new GraphAttention.Spec(300, 2, 2), s.gat());
        assertEquals(100, s.modalityDim());
        assertEquals(0.1, s.tau());
        assertEquals(4.0, s.tau2());
        assertEquals(0.5, s.abWeight());
        assertEquals(0.1, s.zoom());
        assertEquals(1000, s.relationTop());
        assertEquals(MCLEASpec.OPTIMIZER, c.optimizer());
        assertEquals(512, c.optimizer().batchSize());
        assertEquals(5e-4, c.optimizer().learningRate());
        assertEquals(100, c.epochs());
        assertEquals(5, c.averagingFrequency());
        assertEquals(0, c.workers());
        assertEquals(42, c.seed());
        assertFalse(c.selfTraining().enabled());
        assertEquals(50, c.selfTraining().start(100));
        assertEquals(10, c.selfTraining().confirm());
    }

    @Test
    void meaformerDefaultsAreThePapers() {
        AlignmentTrainConfig c = parse("model { name = MEAformer, modalities = [name, structure] }");
        MEAformerSpec s = (MEAformerSpec) c.spec();
        assertEquals(List.of(Modality.STRUCTURE, Modality.NAME), s.modalities());
        assertTrue(c.explicitModalities());
        assertEquals(300, s.dim());
        assertEquals(1, s.heads());
        assertEquals(1, s.layers());
        assertEquals(400, s.intermediate());
        assertEquals(0.1, s.dropout());
        assertEquals(new OptimizerSpec(3500, 5e-4, 1e-4, OptimizerSpec.Schedule.COSINE, 0.15, 1.0), c.optimizer());
    }

    @Test
    void everyTrainingKeyOverrides() {
        AlignmentTrainConfig c = parse("model { name = mclea, modalities = [structure], dim = 64 }, epochs = 7,"
                + " batch_size = 64, learning_rate = 0.001, weight_decay = 0, lr_schedule = cosine, warmup_fraction = 0.1,"
                + " grad_clip = 2, averaging_frequency = 3, workers = 4, seed = 9, checkpoint_keep = 1,"
                + " validation { fraction = 0.1, every = 2 }, self_training { enabled = true, start_epoch = 5, every = 2,"
                + " confirm = 3, lr_factor = 0.5 }");
        assertEquals(new OptimizerSpec(64, 0.001, 0, OptimizerSpec.Schedule.COSINE, 0.1, 2), c.optimizer());
        assertEquals(7, c.epochs());
        assertEquals(3, c.averagingFrequency());
        assertEquals(4, c.workers());
        assertEquals(9, c.seed());
        assertEquals(1, c.checkpointKeep());
        assertEquals(0.1, c.validationFraction());
        assertEquals(2, c.validateEvery());
        assertEquals(new AlignmentTrainConfig.SelfTraining(true, 5, 2, 3, 0.5), c.selfTraining());
        assertEquals(64, c.spec().gat().dim());
    }

    @Test
    void errorsNameTheKey() {
        assertEquals("config key 'train.kg_table' is required (a non-empty string) but is missing in inline config: 1",
                assertThrows(ConfigException.class, () -> AlignmentTrainConfig.from(Conf.parse(
                        "train { output = o, model { name = mclea } }").section("train"))).getMessage());
        assertEquals("config key 'train.model.name': unknown entity-alignment model 'gcn'; known models: mclea,"
                + " meaformer (inline config: 2)", error("model { name = gcn }"));
        assertEquals("config key 'train.model.modalities': unknown modality 'images'; known modalities: structure,"
                + " relation, attribute, image, name, char (inline config: 2)",
                error("model { name = mclea, modalities = [structure, images] }"));
        assertEquals("config key 'train.model.modalities': modality 'name' is listed twice (inline config: 2)",
                error("model { name = mclea, modalities = [name, name] }"));
        assertEquals("config key 'train.model.heads': expected an integer that divides dim (300), found 7 (inline"
                + " config: 2)", error("model { name = meaformer, heads = 7 }"));
        assertEquals("config key 'train.model.tau': expected a number > 0, found 0 (inline config: 2)",
                error("model { name = mclea, tau = 0 }"));
        assertEquals("config key 'train.validation.fraction': expected a number in [0, 0.5): the share of the training"
                + " pairs held out for validation, found 0.7 (inline config: 2)",
                error("model { name = mclea }, validation { fraction = 0.7 }"));
        assertEquals("config key 'train.lr_schedule': expected one of constant, cosine, found 'step' (inline config: 2)",
                error("model { name = mclea }, lr_schedule = step"));
        assertEquals("config key 'train.self_training.start_epoch': 20 is after the last epoch (train.epochs = 10)"
                + " (inline config: 2)", error("model { name = mclea }, epochs = 10, self_training { enabled = true,"
                + " start_epoch = 20 }"));
        // a misspelt key is refused with a suggestion, not ignored
        String typo = assertThrows(ConfigException.class, () -> parse("model { name = mclea, modality_dimm = 10 }"))
                .getMessage();
        assertTrue(typo.startsWith("config key 'train.model.modality_dimm' is not a known key"), typo);
        assertTrue(typo.contains("did you mean 'train.model.modality_dim'?"), typo);
    }

    @Test
    void cosineScheduleWarmsUpThenDecays() {
        OptimizerSpec o = new OptimizerSpec(8, 1.0, 0, OptimizerSpec.Schedule.COSINE, 0.2, 0);
        assertEquals(0.0, o.learningRate(0, 10), 1e-12);
        assertEquals(0.5, o.learningRate(1, 10), 1e-12);
        assertEquals(1.0, o.learningRate(2, 10), 1e-12);
        assertEquals(0.5, o.learningRate(6, 10), 1e-12);       // halfway through the 8 decay steps
        assertEquals(0.0, o.learningRate(10, 10), 1e-12);
        assertEquals(0.3, new OptimizerSpec(8, 0.3, 0, OptimizerSpec.Schedule.CONSTANT, 0, 0).learningRate(5, 10));
    }
}
