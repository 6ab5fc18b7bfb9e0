"""Reference values for DscmrLossTest: the loss of penghu-cs/DSCMR (train_model.calc_loss), transcribed from
PyTorch to NumPy operation by operation, on the 3-sample case of the test.

    python3 dscmr_loss_reference.py

calc_loss(view1_feature, view2_feature, view1_predict, view2_predict, labels_1, labels_2, alpha, beta):
    term1 = ((view1_predict-labels_1)**2).sum(1).sqrt().mean() + ((view2_predict-labels_2)**2).sum(1).sqrt().mean()
    cos = lambda x, y: x.mm(y.t()) / ((x**2).sum(1, keepdim=True).sqrt().mm((y**2).sum(1, keepdim=True).sqrt().t())).clamp(min=1e-6) / 2.
    theta11, theta12, theta22 = cos(v1, v1), cos(v1, v2), cos(v2, v2)
    Sim11, Sim12, Sim22 = labels_1 @ labels_1.T, labels_1 @ labels_2.T, labels_2 @ labels_2.T
    term2x = ((1 + exp(theta)).log() - Sim * theta).mean()     for each of the three pairs
    term3 = ((view1_feature - view2_feature)**2).sum(1).sqrt().mean()
    loss = term1 + alpha * term2 + beta * term3
"""
import numpy as np

u = np.array([[1.0, 0.0], [0.0, 2.0], [-1.0, 1.0]])     # image common-space representations
v = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, -1.0]])     # text common-space representations
y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])      # classes 0, 0, 1
W = np.array([[0.5, 0.0], [0.0, 0.5]])                  # shared classifier (d x C)
b = np.array([0.1, -0.1])


def cos(x, z):
    nx = np.sqrt((x ** 2).sum(1, keepdims=True))
    nz = np.sqrt((z ** 2).sum(1, keepdims=True))
    return x @ z.T / np.maximum(nx @ nz.T, 1e-6) / 2.0


pu, pv = u @ W + b, v @ W + b
term1 = np.sqrt(((pu - y) ** 2).sum(1)).mean() + np.sqrt(((pv - y) ** 2).sum(1)).mean()
sim = y @ y.T
term2 = sum((np.log(1 + np.exp(t)) - sim * t).mean() for t in (cos(u, u), cos(u, v), cos(v, v)))
term3 = np.sqrt(((u - v) ** 2).sum(1)).mean()
print("term1 (label space)      %.15f" % term1)
print("term2 (common space)     %.15f" % term2)
print("term3 (invariance)       %.15f" % term3)
print("loss alpha=1e-3 beta=0.1 %.15f" % (term1 + 1e-3 * term2 + 0.1 * term3))
print("class scores (pu+pv)/2   %s" % ((pu + pv) / 2).tolist())
