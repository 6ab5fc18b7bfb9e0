"""Reference values for RetrievalReferenceTest: cross-modal retrieval metrics computed independently of the
Java code, in plain Python (IEEE doubles, the same operations in the same order as RetrievalItem, so equal
cosines are equal here too and the tie rule decides the same way).

    python3 retrieval_reference.py      # rewrites retrieval_fixture.tsv and retrieval_expected.tsv

Fixture: 14 queries and 17 candidates on a small integer grid in 3-d (repeated and scaled vectors, the zero
vector), classes 0..3 of which the candidates lack class 3, so the ranking is full of exact ties and some
queries have no relevant candidate.

Definitions (relevant = same class; ranking by cosine, descending, ties by candidate id ascending):
    AP   = mean over the query's R relevant candidates of (k / r_k), r_k the rank of the k-th relevant one;
           0 when R = 0 (such a query still counts in the mean)
    AP@R = sum over relevant candidates with r_k <= R of (k / r_k), divided by R
    P@K  = (relevant in the top K) / K;  R@K = (relevant in the top K) / R (0 when R = 0)
mAP as DSCMR's fx_calc_map_label computes it with k = 0 (the whole ranking) is the first of these; the
script checks its own AP against a transcription of that loop.
"""
import math
import os
import random

KS = [1, 3, 10]
HERE = os.path.dirname(os.path.abspath(__file__))


def unit(v):
    sq = 0.0
    for x in v:
        sq += x * x
    norm = math.sqrt(sq)
    return [x / norm for x in v] if norm > 0 else [0.0] * len(v)


def sim(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s += x * y
    return s


def fixture():
    rnd = random.Random(11)
    queries = [("q%02d" % i, rnd.randint(0, 3), [rnd.randint(-1, 1), rnd.randint(0, 2), rnd.randint(0, 1)])
               for i in range(14)]
    cands = [("c%02d" % ((i * 7) % 17), rnd.randint(0, 2), [rnd.randint(-1, 1), rnd.randint(0, 2), rnd.randint(0, 1)])
             for i in range(17)]
    cands[3] = (cands[3][0], cands[3][1], [0, 0, 0])
    cands[5] = (cands[5][0], cands[5][1], [2 * x for x in cands[4][2]])
    return queries, cands


def per_query(q, cands):
    uq = unit(q[2])
    scored = [(sim(uq, unit(c[2])), c[0], c[1]) for c in cands]
    ranking = sorted(scored, key=lambda t: (-t[0], t[1]))
    rel = [t[2] == q[1] for t in ranking]
    R = sum(rel)
    ap = ap_at_r = 0.0
    k = 0
    for i, r in enumerate(rel):
        if r:
            k += 1
            ap += k / (i + 1)
            if i + 1 <= R:
                ap_at_r += k / (i + 1)
    # DSCMR's fx_calc_map_label loop (k = 0: the whole ranking), on the same order
    p = 0.0
    rr = 0.0
    for j in range(len(rel)):
        if rel[j]:
            rr += 1
            p += rr / (j + 1)
    assert (p / rr if rr > 0 else 0.0) == (ap / R if R else 0.0)
    hits = [sum(rel[:K]) for K in KS]
    ties = sum(1 for i in range(len(ranking)) for j in range(i + 1, len(ranking)) if ranking[i][0] == ranking[j][0])
    return R, (ap / R if R else 0.0), (ap_at_r / R if R else 0.0), hits, ties


def direction(queries, cands):
    res = [per_query(q, cands) for q in queries]
    n = len(res)
    out = {"queries": n, "candidates": len(cands), "queries_without_relevant": sum(1 for r in res if r[0] == 0),
           "map": sum(r[1] for r in res) / n, "map_at_r": sum(r[2] for r in res) / n}
    for j, K in enumerate(KS):
        out["p_at_%d" % K] = sum(r[3][j] / K for r in res) / n
        out["r_at_%d" % K] = sum((r[3][j] / r[0] if r[0] else 0.0) for r in res) / n
    return out, sum(r[4] for r in res)


def main():
    queries, cands = fixture()
    with open(os.path.join(HERE, "retrieval_fixture.tsv"), "w") as f:
        f.write("role\tid\tlabel\tx\ty\tz\n")
        for role, items in (("query", queries), ("candidate", cands)):
            for i, l, v in items:
                f.write("%s\t%s\t%d\t%d\t%d\t%d\n" % (role, i, l, v[0], v[1], v[2]))
    fwd, ties = direction(queries, cands)
    # the other direction: candidates query the queries (classes 3 are now candidates without a query)
    back, ties_back = direction(cands, queries)
    assert ties > 30 and ties_back > 30, (ties, ties_back)
    assert fwd["queries_without_relevant"] > 0
    with open(os.path.join(HERE, "retrieval_expected.tsv"), "w") as f:
        f.write("direction\tmetric\tvalue\n")
        for name, d in (("forward", fwd), ("backward", back)):
            for k, v in d.items():
                f.write("%s\t%s\t%s\n" % (name, k, repr(float(v))))


if __name__ == "__main__":
    main()
