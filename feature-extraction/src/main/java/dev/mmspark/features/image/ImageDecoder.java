package dev.mmspark.features.image;

import dev.mmspark.common.InputException;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Decodes image files strictly. The JDK's JPEG reader decodes a truncated file into a partly grey image
 * and only emits a warning; here every decoder warning is an error, so a corrupt or truncated file is
 * reported (naming the file) instead of silently training on garbage.
 */
public final class ImageDecoder {
    private ImageDecoder() {
    }

    public static BufferedImage decode(byte[] bytes, String where) {
        if (bytes.length == 0) {
            throw new InputException(where + ": image file is empty (0 bytes)");
        }
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InputException(where + ": not a recognised image format (expected JPEG, PNG, BMP or GIF)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((IIOReadWarningListener) (source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, true);
                BufferedImage img = reader.read(0);
                if (!warnings.isEmpty()) {
                    throw new InputException(where + ": image is corrupt or truncated (" + warnings.get(0) + ")");
                }
                if (img == null || img.getWidth() < 1 || img.getHeight() < 1) {
                    throw new InputException(where + ": image has no pixels");
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (InputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new InputException(where + ": image cannot be decoded (" + msg + ")");
        }
    }
}
