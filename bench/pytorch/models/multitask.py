"""PyTorch port of the multitask image/text/tag model, for the same-architecture speed comparison.

It follows the Java network (dev.mmspark.training.models.multitask.MultitaskNetwork), not the paper
where the two differ:

  image  (MultitaskNetwork.imageBranch, layers.SmallImageCnn)
         pixels: per cnn_channels entry a 3x3 "same" Conv2d + ReLU and a 2x2/2 max-pool, global average
         pooling, then Dense(representation_dim) + ReLU; embedding / vector input: the Dense alone.
  text   (MultitaskNetwork.textBranch) embedding without bias, output masked by the feature mask
         (DL4J EmbeddingSequenceLayer), then per window w an independent dropout of the embedded words
         (DL4J applies a layer's dropOut to its input, Dropout(retain = 1 - p), inverted), a "same"
         Conv1d(filters, w) + ReLU whose output is masked again (DL4J Convolution1DLayer), masked
         max/avg/min pooling (layers.MaskedGlobalPooling / MaskedGlobalPoolingLayer), concatenation
         (MergeVertex), Dense(representation_dim) + ReLU.
  tags   (MultitaskNetwork.tagBranch) embedding without bias (masked), "same" Conv1d(filters, window) +
         ReLU (masked), masked max pooling.
  heads  one per non-empty subset of the roles, in MultitaskSpec.heads() order (i, t, #, it, i#, t#, it#);
         multimodal heads fuse by concatenation (fusion.ConcatFusion, a MergeVertex); each head is
         Dense(h) + ReLU per head_hidden entry, then a softmax output layer (Xavier init).
  loss   (layers.SampleMaskedMCXENT on LossMCXENT, BaseOutputLayer.computeScore) per head
         sum_n m_n * CE(y_n, clip(softmax(z_n), 1e-10, 1 - 1e-10)) / B with B the minibatch size (not the
         mask sum), summed over the heads; the gradient is DL4J's (softmax - y) * m / B.

Weight init mirrors DL4J's: WeightInit.RELU (N(0, 2/fanIn)) for dense and conv layers, WeightInit.XAVIER
(N(0, 2/(fanIn + fanOut))) for the output layers and embeddings, biases 0.
"""
import math
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

import common

# torch pads even "same" kernels with a copy of the input; DL4J's conv op pads inside im2col (same result)
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")

ROLES = ("image", "text", "tags")
# MaskedGlobalPoolingLayer.PADDING_OFFSET
PADDING_OFFSET = 1e9
# LossMCXENT.DEFAULT_SOFTMAX_CLIPPING_EPSILON
SOFTMAX_CLIP = 1e-10


def _relu_init(weight, fan_in):
    # DL4J WeightInit.RELU: N(0, sqrt(2 / fanIn))
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / fan_in))


def _xavier_init(weight, fan_in, fan_out):
    # DL4J WeightInit.XAVIER: N(0, sqrt(2 / (fanIn + fanOut)))
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def _dense(n_in, n_out, xavier=False):
    layer = nn.Linear(n_in, n_out)
    if xavier:
        _xavier_init(layer.weight, n_in, n_out)
    else:
        _relu_init(layer.weight, n_in)
    nn.init.zeros_(layer.bias)
    return layer


def _conv1d(n_in, n_out, k):
    # DL4J Convolution1DLayer, ConvolutionMode.Same, stride 1: total padding k - 1, the smaller half on the
    # left (ConvolutionUtils.getSameModeTopLeftPadding); torch's padding="same" splits it the same way
    layer = nn.Conv1d(n_in, n_out, k, padding="same")
    _relu_init(layer.weight, n_in * k)
    nn.init.zeros_(layer.bias)
    return layer


def _embedding(vocab, dim):
    # DL4J EmbeddingSequenceLayer, hasBias(false), Xavier (fanIn = vocabulary, fanOut = dim)
    emb = nn.Embedding(vocab, dim)
    _xavier_init(emb.weight, vocab, dim)
    return emb


def masked_pool(x, mask, statistics):
    """layers.MaskedGlobalPoolingLayer.activate: x [B, C, T], mask [B, T] -> [B, C * len(statistics)]."""
    count = mask.sum(1, keepdim=True)                      # [B, 1]
    any_ = (count > 0).to(x.dtype)                         # [B, 1]
    offset = ((mask - 1.0) * PADDING_OFFSET).unsqueeze(1)  # [B, 1, T]: 0 valid, -1e9 padding
    out = []
    for s in statistics:
        if s == "MAX":
            # max/min with indices: the gradient goes to one extreme step, as in DL4J's IsMax one-hot
            out.append((x + offset).max(2)[0] * any_)
        elif s == "MIN":
            out.append((x - offset).min(2)[0] * any_)
        elif s == "AVG":
            out.append((x * mask.unsqueeze(1)).sum(2) / (count + 1.0 - any_))
        else:
            raise ValueError("unknown pooling statistic %s" % s)
    return torch.cat(out, 1) if len(out) > 1 else out[0]


class _MaskedMcxent(torch.autograd.Function):
    """SampleMaskedMCXENT / LossMCXENT with a softmax output and per-example mask [B, 1], as DL4J's
    BaseOutputLayer scores it: sum_n m_n * -sum_k y_nk log clip(p_nk) / B. Backward is DL4J's
    LossMCXENT.computeGradient for softmax, (p - y) * m, divided by B as the DL4J updater does."""

    @staticmethod
    def forward(ctx, logits, labels, mask):
        p = torch.softmax(logits, 1)
        ctx.save_for_backward(p, labels, mask)
        log_p = p.clamp(SOFTMAX_CLIP, 1.0 - SOFTMAX_CLIP).log()
        per_example = -(log_p * labels).sum(1, keepdim=True) * mask
        return per_example.sum() / logits.shape[0]

    @staticmethod
    def backward(ctx, grad):
        p, labels, mask = ctx.saved_tensors
        return (p - labels) * mask * (grad / p.shape[0]), None, None


class MultitaskNet(nn.Module):
    def __init__(self, spec):
        super().__init__()
        params = spec["params"]
        self.roles = [r for r in ROLES if spec.get(r) is not None]
        rep = params["representationDim"]
        fusion = (params.get("fusion") or {}).get("name", "concat")
        if fusion != "concat":
            raise NotImplementedError("fusion %s: only the default concat fusion is ported" % fusion)
        sizes = {}

        image = spec.get("image")
        if image is not None:
            self.image_pixels = image["source"] == "PIXELS"
            if self.image_pixels:
                # layers.SmallImageCnn: conv 3x3 same + ReLU, max-pool 2x2/2 (Truncate), global avg pool
                convs = []
                c_in = image["channels"]
                for c in params["image"]["cnnChannels"]:
                    conv = nn.Conv2d(c_in, c, 3, padding=1)
                    _relu_init(conv.weight, c_in * 9)
                    nn.init.zeros_(conv.bias)
                    convs.append(conv)
                    c_in = c
                self.image_convs = nn.ModuleList(convs)
                image_out = c_in
            else:
                image_out = image["dim"]
            self.image_repr = _dense(image_out, rep)
            sizes["image"] = rep

        text = spec.get("text")
        if text is not None:
            tp = params["text"]
            self.text_embedding = _embedding(text["vocabSize"], text["embeddingDim"])
            self.text_convs = nn.ModuleList(_conv1d(text["embeddingDim"], tp["filters"], w) for w in tp["windows"])
            # one dropout per convolution input (DL4J draws each layer's dropout mask independently)
            self.text_dropout = tp["dropout"]
            self.text_pooling = list(tp["pooling"])
            self.text_repr = _dense(tp["filters"] * len(tp["pooling"]) * len(tp["windows"]), rep)
            sizes["text"] = rep

        tags = spec.get("tags")
        if tags is not None:
            gp = params["tags"]
            self.tags_embedding = _embedding(tags["vocabSize"], tags["embeddingDim"])
            self.tags_conv = _conv1d(tags["embeddingDim"], gp["filters"], gp["window"])
            sizes["tags"] = gp["filters"]

        # MultitaskSpec.heads(): subsets by size, then in role order
        n = len(self.roles)
        heads = [[self.roles[i] for i in range(n) if m & (1 << i)] for m in range(1, 1 << n)]
        heads.sort(key=lambda h: (len(h), [ROLES.index(r) for r in h]))
        self.heads = heads
        classes = len(spec["classes"])
        self.head_layers = nn.ModuleList()
        for h in heads:
            layers = []
            size = sum(sizes[r] for r in h)  # ConcatFusion: [r_1; r_2; ...]
            for hid in params["headHidden"]:
                layers.append(_dense(size, hid))
                size = hid
            layers.append(_dense(size, classes, xavier=True))  # OutputLayer, softmax, Xavier
            self.head_layers.append(nn.ModuleList(layers))

    def _image(self, x):
        if self.image_pixels:
            for conv in self.image_convs:
                x = F.max_pool2d(F.relu(conv(x)), 2, 2)
            x = x.mean((2, 3))  # GlobalPoolingLayer AVG
        return F.relu(self.image_repr(x))

    def _text(self, ids, mask):
        m3 = mask.unsqueeze(1)
        e = self.text_embedding(ids).transpose(1, 2) * m3  # [B, D, T], NCW, masked
        pooled = []
        for conv in self.text_convs:
            x = F.dropout(e, self.text_dropout, self.training) if self.text_dropout > 0 else e
            c = F.relu(conv(x)) * m3  # Convolution1DLayer masks its activations
            pooled.append(masked_pool(c, mask, self.text_pooling))
        return F.relu(self.text_repr(torch.cat(pooled, 1)))

    def _tags(self, ids, mask):
        m3 = mask.unsqueeze(1)
        e = self.tags_embedding(ids).transpose(1, 2) * m3
        c = F.relu(self.tags_conv(e)) * m3
        return masked_pool(c, mask, ["MAX"])

    def forward(self, inputs, masks):
        """inputs/masks: dicts by role. Returns the logits (pre-softmax) of every head, in head order."""
        reps = {}
        if "image" in inputs:
            reps["image"] = self._image(inputs["image"])
        if "text" in inputs:
            reps["text"] = self._text(inputs["text"], masks["text"])
        if "tags" in inputs:
            reps["tags"] = self._tags(inputs["tags"], masks["tags"])
        out = []
        for h, layers in zip(self.heads, self.head_layers):
            x = reps[h[0]] if len(h) == 1 else torch.cat([reps[r] for r in h], 1)
            for layer in layers[:-1]:
                x = F.relu(layer(x))
            out.append(layers[-1](x))
        return out


def build(case, arrays):
    spec = case["spec"]
    model = MultitaskNet(spec)
    inputs, masks = {}, {}
    # MultitaskBatchBuilder: one input per role in roles() order; token ids [B, 1, L] + mask [B, L]
    for k, role in enumerate(model.roles):
        x = arrays["features"][k]
        m = arrays["featureMasks"][k] if k < len(arrays["featureMasks"]) else None
        if role == "image":
            inputs[role] = x
        else:
            inputs[role] = x.reshape(x.shape[0], -1).long()
            masks[role] = m if m is not None else torch.ones(inputs[role].shape, dtype=torch.float32)
    labels = arrays["labels"]
    given = arrays["labelMasks"]
    label_masks = [given[o] if o < len(given) and given[o] is not None else torch.ones(y.shape[0], 1)
                   for o, y in enumerate(labels)]
    if len(labels) != len(model.heads):
        raise ValueError("case has %d label arrays, the model %d heads" % (len(labels), len(model.heads)))

    def loss():
        logits = model(inputs, masks)
        total = 0.0
        for z, y, m in zip(logits, labels, label_masks):
            total = total + _MaskedMcxent.apply(z, y, m.reshape(-1, 1))
        return total

    def infer():
        return [torch.softmax(z, 1) for z in model(inputs, masks)]

    # no functional matmuls: Linear/Conv modules are counted by common.forward_flops; embedding lookups,
    # pooling, masks and softmax are not multiply-adds
    return common.Bench(model, loss, infer, extra_forward_flops=0)
