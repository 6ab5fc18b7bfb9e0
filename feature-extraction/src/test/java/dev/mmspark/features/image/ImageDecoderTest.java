package dev.mmspark.features.image;

import dev.mmspark.common.InputException;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageDecoderTest {
    @Test
    void decodesAValidJpeg() throws Exception {
        BufferedImage img = ImageDecoder.decode(dev.mmspark.testing.TestData.jpeg(40, 30), "a.jpg");
        assertEquals(40, img.getWidth());
        assertEquals(30, img.getHeight());
    }

    @Test
    void truncatedJpegIsAnErrorNotAGreyImage() throws Exception {
        byte[] full = dev.mmspark.testing.TestData.jpeg(64, 64);
        byte[] cut = Arrays.copyOf(full, full.length / 2);
        InputException e = assertThrows(InputException.class, () -> ImageDecoder.decode(cut, "posts/9.jpg"));
        assertTrue(e.getMessage().startsWith("posts/9.jpg: image is corrupt or truncated ("), e.getMessage());
    }

    @Test
    void zeroByteFile() {
        InputException e = assertThrows(InputException.class, () -> ImageDecoder.decode(new byte[0], "x.jpg"));
        assertEquals("x.jpg: image file is empty (0 bytes)", e.getMessage());
    }

    @Test
    void notAnImage() {
        InputException e = assertThrows(InputException.class,
                () -> ImageDecoder.decode("hello".getBytes(), "x.jpg"));
        assertEquals("x.jpg: not a recognised image format (expected JPEG, PNG, BMP or GIF)", e.getMessage());
    }

    @Test
    void preprocessingCropsTheCentreAndNormalises() {
        // 4x2 image: left half black, right half white; shorter side 2 -> 2x2 crop of the centre columns.
        BufferedImage img = new BufferedImage(4, 2, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 2; y++) {
            for (int x = 2; x < 4; x++) {
                img.setRGB(x, y, 0xFFFFFF);
            }
        }
        float[] chw = new ImagePreprocessor(2, Normalisation.ZERO_ONE).chw(img);
        assertEquals(12, chw.length);
        assertEquals(0f, chw[0], 1e-6);   // R, y0 x0 (column 1 of the original: black)
        assertEquals(1f, chw[1], 1e-6);   // R, y0 x1 (column 2: white)
        float[] m = new ImagePreprocessor(2, Normalisation.MINUS_ONE_ONE).hwc(img);
        assertEquals(-1f, m[0], 1e-6);
        assertEquals(1f, m[3], 1e-6);
    }
}
