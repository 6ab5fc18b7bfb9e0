package dev.mmspark.features;

import dev.mmspark.features.image.ImageBackbone;
import dev.mmspark.features.image.KerasImageBackbone;
import org.apache.hadoop.conf.Configuration;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates the pretrained image backbone named by the config (loaded once per executor JVM) and, when
 * {@code extract.image.region_pool} is above 1, average-pools its region grid by that factor so region
 * sequences stay small enough to store (a 14x14x512 map is 400 KB per image, 7x7x512 is 100 KB).
 */
final class ImageBackbones {
    private ImageBackbones() {
    }

    static ImageBackbone get(ExtractionConfig.Image ic, Configuration hadoopConf) {
        KerasImageBackbone bb = KerasImageBackbone.shared(hadoopConf, ic.backbone(), ic.backboneLayer(), ic.size(),
                ic.normalisation(), ic.resize(), ic.batchSize());
        return ic.regionPool() > 1 ? new PooledRegions(bb, ic.regionPool()) : bb;
    }

    /** Average-pools the region grid k x k (edge cells that do not fill a window are dropped). */
    static final class PooledRegions implements ImageBackbone {
        private final ImageBackbone inner;
        private final int k;
        private final int h;
        private final int w;

        PooledRegions(ImageBackbone inner, int k) {
            this.inner = inner;
            this.k = k;
            int[] g = inner.regionGrid();
            if (g[0] < k || g[1] < k) {
                throw new dev.mmspark.common.config.ConfigException("config key 'extract.image.region_pool': " + k
                        + " is larger than the backbone's region grid " + g[0] + "x" + g[1]);
            }
            this.h = g[0] / k;
            this.w = g[1] / k;
        }

        @Override
        public int inputSize() {
            return inner.inputSize();
        }

        @Override
        public int pooledDim() {
            return inner.pooledDim();
        }

        @Override
        public int regionCount() {
            return h * w;
        }

        @Override
        public int regionDim() {
            return inner.regionDim();
        }

        @Override
        public int[] regionGrid() {
            return new int[]{h, w};
        }

        @Override
        public List<Embedding> embed(List<BufferedImage> images, boolean withRegions) {
            List<Embedding> raw = inner.embed(images, withRegions);
            if (!withRegions) {
                return raw;
            }
            List<Embedding> out = new ArrayList<>(raw.size());
            int d = inner.regionDim();
            int W = inner.regionGrid()[1];
            for (Embedding e : raw) {
                out.add(new Embedding(e.pooled(), pool(e.regions(), W, d)));
            }
            return out;
        }

        float[] pool(float[] regions, int srcW, int d) {
            float[] out = new float[h * w * d];
            float inv = 1f / (k * k);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = (y * w + x) * d;
                    for (int dy = 0; dy < k; dy++) {
                        for (int dx = 0; dx < k; dx++) {
                            int src = ((y * k + dy) * srcW + (x * k + dx)) * d;
                            for (int c = 0; c < d; c++) {
                                out[o + c] += regions[src + c] * inv;
                            }
                        }
                    }
                }
            }
            return out;
        }
    }
}
