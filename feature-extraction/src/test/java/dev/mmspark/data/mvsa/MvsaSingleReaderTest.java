package dev.mmspark.data.mvsa;

import dev.mmspark.data.BadRecordPolicy;
import dev.mmspark.data.BadRecords;
import dev.mmspark.data.SplitAssigner;
import dev.mmspark.data.TextDecoding;
import dev.mmspark.testing.SparkTestSession;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MvsaSingleReaderTest {
    @TempDir
    Path tmp;

    /** A 3-post fixture in the MVSA-Single layout: one GBK text, one post without label, one image-only. */
    private Path fixture() throws Exception {
        Path posts = tmp.resolve("mvsa/posts");
        Files.createDirectories(posts);
        Files.writeString(posts.resolve("1.txt"), "How I feel today #legday #Gym ", StandardCharsets.UTF_8);
        Files.write(posts.resolve("2.txt"), "\u4eca\u5929\u5f88\u597d\u2026 #\u5feb\u4e50".getBytes(Charset.forName("GBK")));
        Files.writeString(posts.resolve("5.txt"), "unlabelled post", StandardCharsets.UTF_8);
        for (String id : List.of("1", "2", "7")) {
            ImageIO.write(new BufferedImage(8, 6, BufferedImage.TYPE_INT_RGB), "jpg", posts.resolve(id + ".jpg").toFile());
        }
        Files.writeString(tmp.resolve("mvsa/labels.csv"), "id,label\n1,positive\n2,neutral\n7,negative\n");
        return tmp.resolve("mvsa");
    }

    @Test
    void readsTextsTagsImagesLabelsAndDecodesGbk() throws Exception {
        BadRecords bad = new BadRecords(SparkTestSession.get().sparkContext(), BadRecordPolicy.FAIL, "t");
        List<Row> rows = MvsaSingleReader.read(SparkTestSession.get(), fixture().toString(),
                new MvsaSingleReader.Options(new SplitAssigner(1, 0.8, 0.1), TextDecoding.UTF8_THEN_GB18030, false), bad)
                .orderBy("id").collectAsList();
        assertEquals(4, rows.size());
        Row p1 = rows.get(0);
        assertEquals("How I feel today", p1.getString(5));
        assertEquals(List.of("legday", "gym"), p1.getList(6));
        assertEquals("positive", p1.getString(2));
        assertTrue(p1.getString(4).endsWith("posts/1.jpg"));
        Row p2 = rows.get(1);
        assertEquals("\u4eca\u5929\u5f88\u597d\u2026", p2.getString(5));
        assertEquals(List.of("\u5feb\u4e50"), p2.getList(6));
        Row p5 = rows.get(2);
        assertEquals("unlabeled", p5.getString(1));
        assertNull(p5.get(2));
        assertNull(p5.get(4));
        Row p7 = rows.get(3);
        assertNull(p7.get(5));
        assertEquals("negative", p7.getString(2));
    }

    @Test
    void hashtagsCanStayInTheText() throws Exception {
        BadRecords bad = new BadRecords(SparkTestSession.get().sparkContext(), BadRecordPolicy.FAIL, "t");
        Row p1 = MvsaSingleReader.read(SparkTestSession.get(), fixture().toString(),
                new MvsaSingleReader.Options(new SplitAssigner(1, 0.8, 0.1), TextDecoding.UTF8_THEN_GB18030, true), bad)
                .where("id = '1'").first();
        assertEquals("How I feel today legday Gym", p1.getString(5));
    }

    @Test
    void labelForUnknownPostIsRejected() throws Exception {
        Path dir = fixture();
        Files.writeString(dir.resolve("labels.csv"), "id,label\n1,positive\n99,neutral\n");
        BadRecords bad = new BadRecords(SparkTestSession.get().sparkContext(), BadRecordPolicy.FAIL, "t");
        String msg = dev.mmspark.testing.Failures.message(() -> MvsaSingleReader.read(SparkTestSession.get(),
                dir.toString(), new MvsaSingleReader.Options(new SplitAssigner(1, 0.8, 0.1),
                        TextDecoding.UTF8_THEN_GB18030, false), bad));
        assertEquals("labels.csv: post '99' has a label but neither posts/99.jpg nor posts/99.txt exists", msg);
    }
}
