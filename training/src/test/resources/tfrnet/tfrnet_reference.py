"""Reference values for TfrNetLayersTest, written with NumPy from the formulas of thuiar/TFR-Net
(models/missingTask/TFR_NET/model.py: RECLoss with recloss_type 'combine' -- SmoothL1Loss(reduction='sum') of the
masked prediction and target divided by (mask.sum() + 1e-4), plus weight_sim_loss * CMD(masked, n_moments=3) divided
by the same count -- and trains/missingTask/TFR_NET.py: the task loss, L1 for regression).

Run:  python3 tfrnet_reference.py   (writes loss_terms.csv beside this file; with PyTorch installed it also checks
      the NumPy values against torch.nn.SmoothL1Loss and the official CMD written in torch)

The loss layer's input is [B, O + sum_m (2 T_m D_m + T_m)]: head outputs z, then per modality the reconstruction r
and the complete sequence x (each [T_m, D_m] flattened position-major) and the dropped mask q [T_m]. It is filled
deterministically: value(k) = 2 sin(1.3 k + 0.4) over the whole row-major array (differences reach the linear part
of SmoothL1), then every mask entry is replaced by q[i, m, t] = 1 if (i + 2 t + m) % 3 != 0 else 0; the Java test
does the same, so both compute the same function of the same numbers.
"""
import os
import numpy as np

B, C = 4, 3
DIMS, STEPS = (3, 2), (3, 2)
HERE = os.path.dirname(os.path.abspath(__file__))


def layout():
    out, pos = [], C
    for d, t in zip(DIMS, STEPS):
        out.append((pos, pos + t * d, pos + 2 * t * d, pos + 2 * t * d + t))
        pos += 2 * t * d + t
    return out, pos


def make_input():
    spans, width = layout()
    inp = (2 * np.sin(1.3 * np.arange(B * width) + 0.4)).reshape(B, width)
    for m, (_, _, qs, qe) in enumerate(spans):
        for i in range(B):
            for t in range(qe - qs):
                inp[i, qs + t] = 1.0 if (i + 2 * t + m) % 3 != 0 else 0.0
    return inp


def smooth_l1(e):
    a = np.abs(e)
    return np.where(a < 1, 0.5 * e * e, a - 0.5)


def matchnorm(a, b):
    return np.sqrt(((a - b) ** 2).sum() + 1e-12)


def cmd(x1, x2, n_moments=3):
    m1, m2 = x1.mean(0), x2.mean(0)
    s1, s2 = x1 - m1, x2 - m2
    total = matchnorm(m1, m2)
    for k in range(2, n_moments + 1):
        total += matchnorm((s1 ** k).mean(0), (s2 ** k).mean(0))
    return total


def rec_terms(inp):
    """Per modality: (SmoothL1 part, CMD part), each already divided by the count, as RECLoss."""
    spans, _ = layout()
    out = []
    for (rs, xs, qs, qe), d, t in zip(spans, DIMS, STEPS):
        r = inp[:, rs:xs].reshape(B, t, d)
        x = inp[:, xs:qs].reshape(B, t, d)
        q = np.repeat(inp[:, qs:qe].reshape(B, t, 1), d, axis=2)
        count = q.sum() + 1e-4
        out.append((smooth_l1(r * q - x * q).sum() / count, cmd((r * q).reshape(-1, d), (x * q).reshape(-1, d)) / count))
    return out


def task_terms(inp, labels, targets):
    z = inp[:, :C]
    logp = z - z.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    ce = -(logp * labels).sum() / B
    l1 = np.abs(inp[:, :1] - targets).sum() / B
    return ce, l1


def torch_check(inp, terms):
    try:
        import torch
    except ImportError:
        return
    spans, _ = layout()
    t_inp = torch.tensor(inp)
    for (rs, xs, qs, qe), d, t, (sl1, cm) in zip(spans, DIMS, STEPS, terms):
        r = t_inp[:, rs:xs].reshape(B, t, d)
        x = t_inp[:, xs:qs].reshape(B, t, d)
        mask = t_inp[:, qs:qe].unsqueeze(-1).expand(B, t, d)
        loss = torch.nn.SmoothL1Loss(reduction='sum')(r * mask, x * mask) / (torch.sum(mask) + 1e-4)
        assert abs(loss.item() - sl1) < 1e-12, (loss.item(), sl1)
        a, b = (r * mask).view(-1, d), (x * mask).view(-1, d)
        ma, mb = a.mean(0), b.mean(0)
        sa, sb = a - ma, b - mb
        c = ((ma - mb).pow(2).sum() + 1e-12) ** 0.5
        for k in (2, 3):
            c = c + ((sa.pow(k).mean(0) - sb.pow(k).mean(0)).pow(2).sum() + 1e-12) ** 0.5
        assert abs(c.item() / (torch.sum(mask).item() + 1e-4) - cm) < 1e-12
    print("torch agrees")


if __name__ == "__main__":
    inp = make_input()
    labels = np.eye(C)[[0, 2, 1, 0]]
    targets = np.array([[0.5], [-1.0], [2.0], [0.1]])
    ce, l1 = task_terms(inp, labels, targets)
    terms = rec_terms(inp)
    row = [ce, l1] + [v for pair in terms for v in pair]
    np.savetxt(os.path.join(HERE, "loss_terms.csv"), np.array([row]), delimiter=",", fmt="%.17g")
    print("ce, l1, [smoothl1_m, cmd_m] per modality =", row)
    torch_check(inp, terms)
