"""Independent brute-force reference: every quantity by enumeration of all ``V^T`` sequences.

Nothing here calls the forward algorithm, the streamed blocks or the target-side Gram of
``theory``: probabilities come from summing over every hidden path, patterns from the
sampling definitions (orders for ``plm``, mask sets for ``mlm``, coins for ``aas``), contexts from a dict keyed
by ``(S, i, x_S)``, and spectra from dense matrices.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import networkx as nx
import numpy as np


def sequence_joint(source) -> dict[tuple[int, ...], np.ndarray]:
    """``{x: P(z, x) for all z}`` by summing over all ``H^T`` hidden paths."""
    r, H, V, T = source.n_classes, source.n_states, source.vocab, source.length
    out = {}
    for x in itertools.product(range(V), repeat=T):
        p = np.zeros(r)
        for z in range(r):
            for path in itertools.product(range(H), repeat=T):
                prob = source.prior[z] * source.init[z, path[0]]
                for t in range(T):
                    prob *= source.emit[z, t, path[t], x[t]]
                    if t + 1 < T:
                        prob *= source.trans[z, t, path[t], path[t + 1]]
                p[z] += prob
        out[x] = p
    return out


def pattern_law(spec: str, T: int) -> dict[tuple[tuple[int, ...], int], Fraction]:
    """``w(S, i)`` by the sampling definitions of docs/theory.md §3."""
    kind, _, param = spec.partition(":")
    law: dict = {}

    def add(S, i, mass):
        key = (tuple(sorted(S)), i)
        law[key] = law.get(key, Fraction(0)) + mass

    def masked(m, mass):
        sets = list(itertools.combinations(range(T), m))
        for M in sets:
            for i in M:
                add([t for t in range(T) if t not in M], i, mass / len(sets) / m)

    if spec == "ar":
        for l in range(1, T):
            add(range(l), l, Fraction(1, T - 1))
    elif spec == "ar:last":
        add(range(T - 1), T - 1, Fraction(1))
    elif kind == "dar":
        J = int(param)
        for l in range(1, T):
            steps = min(J, T - l)
            for j in range(1, steps + 1):
                add(range(l), l - 1 + j, Fraction(1, T - 1) / steps)
    elif kind == "mlm":
        m = int(param) if "." not in param else max(1, round(float(param) * T))
        masked(m, Fraction(1))
    elif kind == "vmlm":
        lo, hi = (int(v) for v in param.split("-")) if param else (1, T)
        for m in range(lo, hi + 1):
            masked(m, Fraction(1, hi - lo + 1))
    elif spec == "prefixlm":
        for l in range(1, T):
            for i in range(l, T):
                add(range(l), i, Fraction(1, T - 1) / (T - l))
    elif kind == "span":
        m = int(param)
        for a in range(T - m + 1):
            M = range(a, a + m)
            for i in M:
                add([t for t in range(T) if t not in M], i, Fraction(1, T - m + 1) / m)
    elif spec == "plm":
        orders = list(itertools.permutations(range(T)))
        for sigma in orders:
            for p in range(T):
                add(sigma[:p], sigma[p], Fraction(1, len(orders) * T))
    elif spec == "aas":  # i uniform, then a fair coin per other position: visible or not
        for i in range(T):
            for coins in itertools.product((False, True), repeat=T - 1):
                others = [t for t in range(T) if t != i]
                add([t for t, c in zip(others, coins) if c], i, Fraction(1, T * 2 ** (T - 1)))
    else:
        raise ValueError(spec)
    return law


def labels(joint: np.ndarray) -> np.ndarray:
    top = joint.max(axis=1, keepdims=True)
    return np.argmax(joint >= top - 1e-10 * np.abs(top), axis=1)


class Brute:
    """Dense matrices of one (source, objective) pair, with the theory's numbers."""

    def __init__(self, source, spec: str):
        T, V, r = source.length, source.vocab, source.n_classes
        self.px = sequence_joint(source)
        law = pattern_law(spec, T)
        self.law = law
        cooc: dict = {}
        cj: dict = {}
        incidence: dict = {}
        for x, pz in self.px.items():
            if pz.sum() == 0:
                continue
            for (S, i), w in law.items():
                key = (S, i, tuple(x[s] for s in S))
                cooc.setdefault(key, np.zeros(V))[x[i]] += float(w) * pz.sum()
                cj.setdefault(key, np.zeros(r))
                cj[key] += float(w) * pz
                incidence[(x, key)] = incidence.get((x, key), 0.0) + float(w) * pz.sum()
        self.contexts = [c for c in cooc if cooc[c].sum() > 0]
        index = {c: j for j, c in enumerate(self.contexts)}
        self.A = np.array([cooc[c] for c in self.contexts])
        self.class_joint = np.array([cj[c] for c in self.contexts])
        self.samples = [x for x, pz in self.px.items() if pz.sum() > 0]
        sindex = {x: j for j, x in enumerate(self.samples)}
        self.J = np.zeros((len(self.samples), len(self.contexts)))
        for (x, key), v in incidence.items():
            if key in index:
                self.J[sindex[x], index[key]] += v
        self.sample_joint = np.array([self.px[x] for x in self.samples])

    # ------------------------------------------------------------------ context level
    def context(self, k: int) -> dict:
        return _level(self.A, self.class_joint, k)

    # ------------------------------------------------------------------ sample level
    def sample_kernel(self) -> np.ndarray:
        """``P(x) K(x, x')`` by the walk sample -> context -> target -> context -> sample."""
        A, J = self.A, self.J
        p_c, p_t = A.sum(1), A.sum(0)
        px = J.sum(1)
        p_c_given_x = J / px[:, None]
        p_t_given_c = A / p_c[:, None]
        p_c_given_t = (A / np.where(p_t > 0, p_t, 1)[None, :]).T
        p_x_given_c = (J / p_c[None, :]).T
        K = p_c_given_x @ p_t_given_c @ p_c_given_t @ p_x_given_c
        return px[:, None] * K

    def sample(self, k: int) -> dict:
        W = self.sample_kernel()
        px = W.sum(1)
        y = labels(self.sample_joint)
        alpha = float(sum(W[a, b] for a in range(len(y)) for b in range(len(y)) if y[a] != y[b]))
        norm = W / np.sqrt(np.outer(px, px))
        vals, vecs = np.linalg.eigh(norm)
        order = np.argsort(vals)[::-1]
        vals, vecs = vals[order], vecs[:, order]
        # dense eigh leaves ~1e-16 noise on a true zero: features only above rounding
        keep = min(k, int(np.sum(vals > 1e-12)))
        features = vecs[:, :keep] / np.sqrt(px)[:, None]
        err = _probe_error(features, px, y, self.sample_joint.shape[1])
        lam = np.concatenate([np.clip(vals, 0, 1), np.zeros(k + 1)])
        ctx = self.context(k)
        averaged = (self.J / px[:, None]) @ ctx["features"]
        return {
            "eigenvalues": lam,
            "alpha": alpha,
            "probe_error": err,
            "averaged_probe_error": _probe_error(averaged, px, y, self.sample_joint.shape[1]),
            "graph": W,
            "labels": y,
        }

    def averaged_features(self, k: int) -> np.ndarray:
        """``h(x) = sum_c P(c|x) f*(c)`` with T1's optimal ``f* = D_c^{-1/2} U_k S_k^{1/2}``."""
        ctx = self.context(k)
        keep = ctx["features"].shape[1]
        scaled = ctx["features"] * np.sqrt(ctx["singular_values"][:keep])[None, :]
        return (self.J / self.J.sum(1)[:, None]) @ scaled

    def generation_excess(self) -> float:
        """T3: the mean over ``l`` of ``E KL(P(.|prefix) || uniform)`` on uncovered lengths."""
        T = len(self.samples[0])
        V = self.A.shape[1]
        total = 0.0
        for l in range(1, T):
            if self.law.get((tuple(range(l)), l), 0) > 0:
                continue
            table: dict = {}
            for x, pz in self.px.items():
                table.setdefault(x[:l], np.zeros(V))[x[l]] += pz.sum()
            for row in table.values():
                cond = row[row > 0] / row.sum()
                total += row.sum() * float(np.sum(cond * np.log(cond * V))) / (T - 1)
        return total

    def augmentation_eigenvalues(self) -> np.ndarray:
        W = self.J.T @ (self.J / self.J.sum(1)[:, None])
        d = W.sum(1)
        return np.sort(np.linalg.eigvalsh(W / np.sqrt(np.outer(d, d))))[::-1]


def _probe_error(features: np.ndarray, mass: np.ndarray, y: np.ndarray, classes: int) -> float:
    Y = np.eye(classes)[y]
    D = np.diag(mass)
    W = np.linalg.lstsq(features.T @ D @ features, features.T @ D @ Y, rcond=None)[0]
    return float(mass[labels(features @ W) != y].sum())


def _level(A: np.ndarray, class_joint: np.ndarray, k: int) -> dict:
    p_c, p_t = A.sum(1), A.sum(0)
    inv_t = np.where(p_t > 0, 1 / np.where(p_t > 0, p_t, 1), 0)
    W = A @ np.diag(inv_t) @ A.T
    y = labels(class_joint)
    phi = float(W[y[:, None] != y[None, :]].sum())
    abar = A / np.sqrt(p_c)[:, None] * np.sqrt(inv_t)[None, :]
    U, s, _ = np.linalg.svd(abar, full_matrices=False)
    keep = min(k, int(np.sum(s > 1e-8)))
    features = U[:, :keep] / np.sqrt(p_c)[:, None]
    return {
        "singular_values": np.concatenate([s, np.zeros(k + 1)]),
        "phi": phi,
        "probe_error": _probe_error(features, p_c, y, class_joint.shape[1]),
        "features": features,
        "graph": W,
        "labels": y,
        "abar": abar,
    }


def components(W: np.ndarray) -> int:
    return nx.number_connected_components(nx.from_numpy_array((W > 0).astype(int)))


def support_fraction(W: np.ndarray) -> float:
    return float(np.mean(W > 0))


def within_class_gap(W: np.ndarray, y: np.ndarray) -> float:
    gaps = []
    for z in np.unique(y):
        sub = W[np.ix_(y == z, y == z)]
        if sub.shape[0] < 2:
            continue
        d = sub.sum(1)
        vals = np.sort(np.linalg.eigvalsh(sub / np.sqrt(np.outer(d, d))))[::-1]
        gaps.append(1 - vals[1])
    return min(gaps) if gaps else math.nan


def effective_degree(W: np.ndarray) -> float:
    px = W.sum(1)
    K = W / px[:, None]
    logs = np.log(np.where(K > 0, K, 1))
    return float(px @ np.exp(-(K * logs).sum(1)))


def context_probe_50_digits(source, spec: str, k: int) -> tuple[float, np.ndarray]:
    """The context probe error at 50 significant digits, and each context's gap between its
    top two scores relative to the top.

    The source's probabilities are read as the decimals they print as; the probe is
    ``B = D_t^{-1/2} V_k S_k^{-2} V_k^T D_t^{-1/2} L`` from mpmath's symmetric eigensolver, so a
    tie the source's symmetry makes exact shows as a gap near ``1e-45``.
    """
    import mpmath

    mpmath.mp.dps = 50
    exact = lambda value: mpmath.mpf(repr(float(value)))  # noqa: E731
    T, V, r, H = source.length, source.vocab, source.n_classes, source.n_states
    law = {key: mpmath.mpf(w.numerator) / w.denominator for key, w in pattern_law(spec, T).items()}
    rows: dict = {}
    for x in itertools.product(range(V), repeat=T):
        joint = []
        for z in range(r):
            total = mpmath.mpf(0)
            # every hidden path that can emit x (the others add zero)
            states = [[h for h in range(H) if source.emit[z, t, h, x[t]] > 0] for t in range(T)]
            for path in itertools.product(*states):
                prob = exact(source.prior[z]) * exact(source.init[z, path[0]])
                for t in range(T):
                    prob *= exact(source.emit[z, t, path[t], x[t]])
                    if t + 1 < T:
                        prob *= exact(source.trans[z, t, path[t], path[t + 1]])
                total += prob
            joint.append(total)
        for (S, i), w in law.items():
            row, classes = rows.setdefault((S, i, tuple(x[s] for s in S)), ([0] * V, [0] * r))
            row[x[i]] += w * sum(joint)
            for z in range(r):
                classes[z] += w * joint[z]
    rows = {key: value for key, value in rows.items() if sum(value[0]) > 0}
    top_rule = lambda values: next(  # noqa: E731
        z for z, v in enumerate(values) if v >= max(values) - mpmath.mpf("1e-10") * abs(max(values))
    )
    p_t = [sum(row[t] for row, _ in rows.values()) for t in range(V)]
    gram, labels = mpmath.zeros(V, V), mpmath.zeros(V, r)
    for row, classes in rows.values():
        y = top_rule(classes)
        for s in range(V):
            labels[s, y] += row[s]
            for t in range(V):
                gram[s, t] += row[s] * row[t] / sum(row)
    normalized = mpmath.matrix(V, V)
    for s in range(V):
        for t in range(V):
            normalized[s, t] = gram[s, t] / mpmath.sqrt(p_t[s] * p_t[t])
    values, vectors = mpmath.eigsy(normalized)
    top = sorted(range(V), key=lambda j: -values[j])[:k]
    readout = mpmath.zeros(V, r)
    for j in top:
        for s in range(V):
            for t in range(V):
                weight = vectors[s, j] * vectors[t, j] / values[j] / mpmath.sqrt(p_t[s] * p_t[t])
                for z in range(r):
                    readout[s, z] += weight * labels[t, z]
    error, gaps = mpmath.mpf(0), []
    for row, classes in rows.values():
        scores = [sum(row[t] * readout[t, z] for t in range(V)) for z in range(r)]
        if top_rule(scores) != top_rule(classes):
            error += sum(row)
        first, second = sorted(scores, reverse=True)[:2]
        gaps.append(float((first - second) / abs(first)))
    return float(error), np.array(gaps)
