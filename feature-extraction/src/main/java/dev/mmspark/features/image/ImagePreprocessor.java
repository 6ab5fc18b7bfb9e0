package dev.mmspark.features.image;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.Serializable;

/**
 * Brings an image to size x size and writes normalised RGB values either channels-first (CHW, for models
 * trained here) or channels-last (HWC, for imported Keras backbones). {@link Resize#CROP} resizes the
 * shorter side to {@code size} and centre-crops (keeps the aspect ratio); {@link Resize#SQUASH} scales both
 * sides to {@code size} (what Keras' {@code load_img(target_size=...)} does, and what the Tiny Darknet
 * reference check in shared/models was computed with: "bald eagle" 0.40 squashed, 0.17 cropped).
 */
public record ImagePreprocessor(int size, Normalisation normalisation, Resize resize) implements Serializable {

    /** How the image is brought to a square. */
    public enum Resize { CROP, SQUASH }

    public ImagePreprocessor(int size, Normalisation normalisation) {
        this(size, normalisation, Resize.CROP);
    }

    public BufferedImage resizeAndCrop(BufferedImage src) {
        if (resize == Resize.SQUASH) {
            BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = out.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            g.drawImage(src, 0, 0, size, size, null);
            g.dispose();
            return out;
        }
        int w = src.getWidth();
        int h = src.getHeight();
        double scale = (double) size / Math.min(w, h);
        int sw = Math.max(size, (int) Math.round(w * scale));
        int sh = Math.max(size, (int) Math.round(h * scale));
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(src, -(sw - size) / 2, -(sh - size) / 2, sw, sh, null);
        g.dispose();
        return out;
    }

    /** Values in channels-first order: index c*size*size + y*size + x. */
    public float[] chw(BufferedImage img) {
        BufferedImage r = resizeAndCrop(img);
        int n = size * size;
        float[] out = new float[3 * n];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = r.getRGB(x, y);
                int i = y * size + x;
                out[i] = normalisation.apply((rgb >> 16) & 0xff, 0);
                out[n + i] = normalisation.apply((rgb >> 8) & 0xff, 1);
                out[2 * n + i] = normalisation.apply(rgb & 0xff, 2);
            }
        }
        return out;
    }

    /** Values in channels-last order: index (y*size + x)*3 + c. */
    public float[] hwc(BufferedImage img) {
        BufferedImage r = resizeAndCrop(img);
        float[] out = new float[3 * size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int rgb = r.getRGB(x, y);
                int i = (y * size + x) * 3;
                out[i] = normalisation.apply((rgb >> 16) & 0xff, 0);
                out[i + 1] = normalisation.apply((rgb >> 8) & 0xff, 1);
                out[i + 2] = normalisation.apply(rgb & 0xff, 2);
            }
        }
        return out;
    }
}
