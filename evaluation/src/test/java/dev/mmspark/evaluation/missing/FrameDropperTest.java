package dev.mmspark.evaluation.missing;

import dev.mmspark.features.FeatureTableMetadata;
import dev.mmspark.features.ModalityKind;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import scala.collection.JavaConverters;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class FrameDropperTest {
    private static final StructType SCHEMA = new StructType()
            .add("id", DataTypes.StringType)
            .add("text_present", DataTypes.BooleanType)
            .add("text_ids", DataTypes.createArrayType(DataTypes.IntegerType))
            .add("audio_present", DataTypes.BooleanType)
            .add("audio_values", DataTypes.createArrayType(DataTypes.FloatType))
            .add("audio_length", DataTypes.IntegerType);

    private static FeatureTableMetadata meta() {
        var text = new FeatureTableMetadata.Modality("text", ModalityKind.TOKENS, List.of(150), Map.of(), "t", 1,
                Map.of(), 100, null, null, null, null);
        var audio = new FeatureTableMetadata.Modality("audio", ModalityKind.SEQUENCE, List.of(-1, 2), Map.of(), "s", 1,
                Map.of(), null, null, null, null, null);
        return new FeatureTableMetadata("mmspark-feature-table", 1, "classification", List.of("a"), List.of(text, audio),
                Map.of(), "h", null, null, null, List.of(), Map.of(), "now", 0);
    }

    private static Row row(String id, int tokens, int frames) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < tokens; i++) {
            ids.add(10 + i);
        }
        List<Float> audio = new ArrayList<>();
        for (int i = 0; i < frames * 2; i++) {
            audio.add(1f);
        }
        return new GenericRowWithSchema(new Object[]{id, true, JavaConverters.asScalaBuffer(ids).toSeq(), true,
                JavaConverters.asScalaBuffer(audio).toSeq(), frames}, SCHEMA);
    }

    @Test
    void dropsTheRequestedShareOfFrames() {
        FrameDropper d = new FrameDropper(meta(), SCHEMA, 0.3, 5);
        int unk = 0;
        int zero = 0;
        for (int s = 0; s < 200; s++) {
            Row r = d.apply(row("s" + s, 50, 50));
            List<Integer> ids = r.getList(2);
            unk += (int) ids.stream().filter(i -> i == 1).count();
            List<Float> a = r.getList(4);
            for (int f = 0; f < 50; f++) {
                if (a.get(2 * f) == 0f) {
                    assertEquals(0f, a.get(2 * f + 1));
                    zero++;
                }
            }
        }
        assertEquals(0.3, unk / 10_000.0, 0.02);
        assertEquals(0.3, zero / 10_000.0, 0.02);
    }

    @Test
    void rateOneDropsEverythingAndZeroNothing() {
        Row all = new FrameDropper(meta(), SCHEMA, 1.0, 5).apply(row("x", 4, 3));
        assertEquals(List.of(1, 1, 1, 1), all.getList(2));
        Row none = new FrameDropper(meta(), SCHEMA, 0.0, 5).apply(row("x", 4, 3));
        assertEquals(List.of(10, 11, 12, 13), none.getList(2));
    }
}
