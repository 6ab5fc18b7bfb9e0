"""Reference values for SeedStatisticsTest (run: python3 seed_statistics_reference.py; SciPy 1.17.1)."""
import numpy as np
from scipy import stats

a = np.array([0.712, 0.698, 0.731, 0.705])   # accuracy of setting A over seeds 1..4
b = np.array([0.690, 0.701, 0.702, 0.688])   # setting B, same seeds

for name, x in (("a", a), ("b", b)):
    m, s = x.mean(), x.std(ddof=1)
    lo, hi = stats.t.interval(0.95, len(x) - 1, loc=m, scale=s / np.sqrt(len(x)))
    print(f"{name}: mean={m:.12f} std={s:.12f} ci=({lo:.12f}, {hi:.12f})")
r = stats.ttest_rel(a, b)
print(f"paired a-b: t={r.statistic:.12f} p={r.pvalue:.12f}")
print(f"t quantile 0.975 df=2: {stats.t.ppf(0.975, 2):.12f}")
