"""Evaluation of features and predictors: probe, k-means, and generation loss per prefix length.

Classification metrics are measured on held-out draws against the latent class ``z`` (what a
downstream task sees), with the sample size stated; generation losses come with their
standard errors and are set beside the exact Bayes loss.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import streams
from lookaround.simulations.tabular import exact_spectral_model
from lookaround.theory.cooccurrence import context_offsets, iter_blocks
from lookaround.theory.coverage import generation_report
from lookaround.theory.marginals import sequence_joint
from lookaround.theory.numerics import normalize
from lookaround.theory.objectives import Objective, Pattern
from lookaround.theory.sources import Source

__all__ = [
    "Classification",
    "GenerationEval",
    "PopulationClustering",
    "RESTARTS",
    "all_context_features",
    "all_context_tokens",
    "all_sequences",
    "averaged_features",
    "classification_metrics",
    "conditional_entropy",
    "exact_dense_cooccurrence",
    "exact_population_clustering",
    "generation_eval",
    "normalized_svd",
    "population_ari",
    "population_clustering",
]


def exact_dense_cooccurrence(source: Source, objective: Objective) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``P(z, c)`` over the dense context index (zero rows kept), for small sources.

    Parameters
    ----------
    source : Source
        A small source.
    objective : Objective
        The objective.

    Returns
    -------
    cooccurrence : ndarray, shape (contexts, V)
    class_joint : ndarray, shape (contexts, r)
    """
    offsets = context_offsets(objective, source.vocab)
    a = np.zeros((int(offsets[-1]), source.vocab))
    class_joint = np.zeros((int(offsets[-1]), source.n_classes))
    for block in iter_blocks(source, objective):
        pattern, context = block.contexts()
        rows = offsets[pattern] + context
        a[rows] = block.cooccurrence
        class_joint[rows] = block.class_joint
    return a, class_joint


def normalized_svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of positive mass, and ``U``, ``s`` of ``Abar`` over them (dense, small sources).

    Parameters
    ----------
    a : ndarray, shape (contexts, V)
        ``A``, dense.

    Returns
    -------
    rows : ndarray of int
    u : ndarray
    s : ndarray
    """
    abar, left, _ = normalize(a)
    live = left > 0
    u, s, _ = np.linalg.svd(abar[live], full_matrices=False)
    return live, u, s


def conditional_entropy(a: np.ndarray) -> float:
    """``H(t | c)`` under ``A``: the cross-entropy no predictor of ``t`` from ``c`` goes below.

    Parameters
    ----------
    a : ndarray, shape (contexts, V)
        ``A``, a joint law.

    Returns
    -------
    float

    Examples
    --------
    >>> conditional_entropy(np.array([[0.25, 0.25], [0.5, 0.0]]))
    0.34657359027997264
    """
    mass = a.sum(axis=1, keepdims=True)
    cond = np.divide(a, mass, out=np.zeros_like(a), where=mass > 0)
    return float(-np.sum(a * np.log(np.where(cond > 0, cond, 1.0))))


def all_context_tokens(pattern: Pattern, length: int, vocab: int) -> np.ndarray:
    """One token row per context of ``pattern`` in mixed-radix order (hidden positions 0).

    Parameters
    ----------
    pattern : Pattern
        The pattern.
    length : int
        ``T``.
    vocab : int
        ``V``.

    Returns
    -------
    ndarray of int, shape (V^|S|, T)
    """
    count = vocab ** len(pattern.visible)
    tokens = np.zeros((count, length), dtype=np.int64)
    if pattern.visible:
        digits = np.unravel_index(np.arange(count), (vocab,) * len(pattern.visible))
        tokens[:, list(pattern.visible)] = np.stack(digits, axis=1)
    return tokens


def all_context_features(model, objective: Objective, vocab: int) -> np.ndarray:
    """``f(c)`` for every context of the dense index, from any model with ``features``.

    Parameters
    ----------
    model : Model
        Any model with ``features``.
    objective : Objective
        The objective whose contexts are read.
    vocab : int
        ``V``.

    Returns
    -------
    ndarray, shape (contexts, k)
    """
    return np.concatenate(
        [
            model.features(p, all_context_tokens(p, objective.length, vocab))
            for p in objective.patterns
        ]
    )


def averaged_features(model, objective: Objective, tokens: np.ndarray) -> np.ndarray:
    """``h(x) = sum_c P(c|x) f(c) = sum_omega w(omega) f(omega, x_S)`` for each sequence.

    Parameters
    ----------
    model : Model
        Any model with ``features``.
    objective : Objective
        The objective.
    tokens : ndarray, shape (n, T)
        Sequences.

    Returns
    -------
    ndarray, shape (n, k)
    """
    parts = (w * model.features(p, tokens) for p, w in zip(objective.patterns, objective.weights))
    return sum(parts, start=np.zeros(()))


@dataclass(frozen=True)
class PopulationClustering(Presented):
    """Weighted k-means on every sequence at once, with how close the runner-up optimum is.

    ``ari`` is the population adjusted Rand index of the best partition against the latent
    class (the large-sample limit of the held-out ARI). ``runner_up_sse`` is the best SSE among
    restarts that ended in a *different* partition (``inf`` when all agree): a small
    ``sse_gap`` says two optima nearly tie, so a held-out ARI would move with the draw.

    Attributes
    ----------
    ari : float
        The adjusted Rand index of the best k-means optimum against the Bayes labels.
    sse : float
        Its weighted within-cluster sum of squares.
    runner_up_sse, runner_up_ari : float
        The same of the best different optimum among the restarts.
    restarts : int
        Restarts run.
    """

    __repr__ = short_repr

    ari: float
    sse: float
    runner_up_sse: float
    runner_up_ari: float
    restarts: int

    @property
    def sse_gap(self) -> float:
        """``runner_up_sse - sse`` (``inf`` when every restart found the same partition)."""
        return self.runner_up_sse - self.sse

    def describe(self) -> str:
        """``"ARI 0.684, SSE 0.08725, runner-up SSE 0.08740 (ARI 0.586)"``."""
        text = f"ARI {self.ari:.4g}, SSE {self.sse:.6g}"
        if np.isfinite(self.runner_up_sse):
            text += f", runner-up SSE {self.runner_up_sse:.6g} (ARI {self.runner_up_ari:.4g})"
        return text


def population_ari(joint: np.ndarray) -> float:
    """Adjusted Rand index of a joint law ``P(class, cluster)``: the limit of the sample ARI.

    Parameters
    ----------
    joint : ndarray, shape (r, clusters)
        ``P(class, cluster)``.

    Returns
    -------
    float

    Examples
    --------
    >>> population_ari(np.array([[0.5, 0.0], [0.0, 0.5]]))
    1.0
    >>> population_ari(np.array([[0.25, 0.25], [0.25, 0.25]]))
    0.0
    """
    index = float(np.sum(joint**2))
    rows, cols = float(np.sum(joint.sum(1) ** 2)), float(np.sum(joint.sum(0) ** 2))
    expected, top = rows * cols, (rows + cols) / 2
    return 1.0 if top == expected else (index - expected) / (top - expected)


def population_clustering(
    features: np.ndarray, class_joint: np.ndarray, *, restarts: int, seed: int
) -> PopulationClustering:
    """k-means with ``r`` clusters on ``features`` weighted by ``P(x)``, best of ``restarts``.

    Parameters
    ----------
    features : ndarray, shape (n, d)
        ``h(x)`` for every sequence of positive mass.
    class_joint : ndarray, shape (n, r)
        ``P(z, x)``: the weights are its row sums, the reference labels its class.
    restarts, seed
        Independent single k-means++ starts, seeded from one ``SeedSequence(seed)``.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> pz = np.array([[0.25, 0], [0.25, 0], [0, 0.25], [0, 0.25]])
    >>> population_clustering(x, pz, restarts=3, seed=0).ari
    1.0
    """
    mass, n_classes = class_joint.sum(axis=1), class_joint.shape[1]
    if np.unique(np.round(features, 12), axis=0).shape[0] < n_classes:
        joint = class_joint.sum(axis=0, keepdims=True).T  # one cluster: nothing to separate
        return PopulationClustering(population_ari(joint), 0.0, np.inf, np.nan, restarts)
    found: dict[tuple, tuple[float, float]] = {}
    for state in streams(seed).restarts.generate_state(restarts):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # scikit-learn's bundled hints type n_init as a str ("auto"); an int is documented
            fit = KMeans(n_clusters=n_classes, n_init=1, random_state=int(state))  # pyright: ignore[reportArgumentType]
            fit.fit(features, sample_weight=mass)
        labels, inertia = np.asarray(fit.labels_), float(fit.inertia_ or 0.0)
        # a partition up to the names of its clusters: relabel by first appearance
        _, first = np.unique(labels, return_index=True)
        rename = np.argsort(np.argsort(first))
        key = tuple(rename[labels])
        joint = class_joint.T @ np.eye(n_classes)[labels]
        found[key] = (min(inertia, found.get(key, (np.inf,))[0]), population_ari(joint))
    ranked = sorted(found.values())
    runner = ranked[1] if len(ranked) > 1 else (np.inf, np.nan)
    return PopulationClustering(ranked[0][1], ranked[0][0], runner[0], runner[1], restarts)


RESTARTS = 10  # k-means restarts of the population ARI: its one home


def all_sequences(source: Source) -> tuple[np.ndarray, np.ndarray]:
    """Every sequence of positive mass, ``(tokens (n, T), P(z, x) (n, r))``, for small sources.

    Parameters
    ----------
    source : Source
        A small source.

    Returns
    -------
    tokens : ndarray, shape (n, T)
    class_joint : ndarray, shape (n, r)
    """
    joint = sequence_joint(source).reshape(source.n_classes, -1).T
    live = joint.sum(axis=1) > 0
    tokens = np.indices((source.vocab,) * source.length).reshape(source.length, -1).T
    return tokens[live], joint[live]


def exact_population_clustering(
    source: Source, objective: Objective, k: int, *, restarts: int = RESTARTS, seed: int = 0
) -> PopulationClustering:
    """:func:`population_clustering` of the exact averaged features ``h(x)`` (T1's optimum).

    Parameters
    ----------
    source : Source
        A small source.
    objective : Objective
        The objective.
    k : int
        The feature dimension.
    restarts : int
        k-means restarts.
    seed : int
        Their seed.

    Returns
    -------
    PopulationClustering

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> res = exact_population_clustering(preset_source("disjoint"), parse_objective("ar", 4), 2)
    >>> res.ari
    1.0
    """
    a, _ = exact_dense_cooccurrence(source, objective)
    model = exact_spectral_model(a, objective, vocab=source.vocab, k=k)
    tokens, class_joint = all_sequences(source)
    features = averaged_features(model, objective, tokens)
    return population_clustering(features, class_joint, restarts=restarts, seed=seed)


@dataclass(frozen=True)
class Classification(Presented):
    """How well features separate the classes of ``n`` sequences.

    Attributes
    ----------
    probe_error : float
        Error of a least-squares linear probe fit on the first half, scored on the second.
    ari, nmi : float
        Adjusted Rand index and normalized mutual information of k-means with ``r`` clusters.
    n : int
    """

    __repr__ = short_repr

    probe_error: float
    ari: float
    nmi: float
    n: int


def classification_metrics(
    features: np.ndarray, labels: np.ndarray, n_classes: int, *, seed: int
) -> Classification:
    """Linear probe error (least squares, fit on the first half, scored on the second) and
    k-means ARI / NMI with ``n_classes`` clusters, all against ``labels``.

    Parameters
    ----------
    features : ndarray, shape (n, k)
        Features of held-out sequences.
    labels : ndarray of int, shape (n,)
        Their classes.
    n_classes : int
        ``r``.
    seed : int
        Seed of k-means.

    Returns
    -------
    Classification

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1]] * 5)
    >>> y = np.array([0, 0, 1, 1] * 5)
    >>> m = classification_metrics(x, y, 2, seed=0)
    >>> m.probe_error, m.ari
    (0.0, 1.0)
    """
    n = features.shape[0]
    half = n // 2
    design = np.hstack([features, np.ones((n, 1))])
    onehot = np.eye(n_classes)[labels]
    weights = np.linalg.lstsq(design[:half], onehot[:half], rcond=None)[0]
    error = float(np.mean(np.argmax(design[half:] @ weights, axis=1) != labels[half:]))
    distinct = np.unique(np.round(features, 12), axis=0).shape[0]
    if distinct < n_classes:
        clusters = np.zeros(n, dtype=int)  # fewer distinct points than clusters: no clustering
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmeans = KMeans(n_clusters=n_classes, n_init=10, random_state=seed)  # pyright: ignore[reportArgumentType]
            clusters = kmeans.fit_predict(features)
    return Classification(
        probe_error=error,
        ari=float(adjusted_rand_score(labels, clusters)),
        nmi=float(normalized_mutual_info_score(labels, clusters)),
        n=int(n),
    )


@dataclass(frozen=True, eq=False)
class GenerationEval(Presented):
    """Held-out generation loss per prefix length ``l = 1..T-1`` (index ``l-1``), in nats.

    Attributes
    ----------
    loss, standard_error : ndarray
        Mean of ``-log q(x_l | prefix)`` over held-out sequences, and its standard error.
    bayes : ndarray
        Exact ``H(x_l | prefix)``.
    excess : ndarray
        ``loss - bayes``, an unbiased estimate of ``E KL(P(.|prefix) || q)``.
    mean_excess, mean_standard_error : float
        Averages over ``l`` uniform on ``1..T-1`` (the test law of T3).
    n : int
    """

    __repr__ = short_repr

    loss: np.ndarray
    standard_error: np.ndarray
    bayes: np.ndarray
    excess: np.ndarray
    mean_excess: float
    mean_standard_error: float
    n: int


def generation_eval(
    model, source: Source, objective: Objective, *, tokens: np.ndarray
) -> GenerationEval:
    """Prefix-generation losses of any model with ``conditional(pattern, tokens)``.

    Parameters
    ----------
    model : Model
        Any model with ``conditional``.
    source : Source
        The source.
    objective : Objective
        The objective it was trained under.
    tokens : ndarray, shape (n, T)
        Held-out sequences.

    Returns
    -------
    GenerationEval
    """
    length = source.length
    per_sequence = np.empty((tokens.shape[0], length - 1))
    for l in range(1, length):
        probs = model.conditional(Pattern(tuple(range(l)), l), tokens)
        per_sequence[:, l - 1] = -np.log(
            np.maximum(probs[np.arange(tokens.shape[0]), tokens[:, l]], 1e-300)
        )
    n = tokens.shape[0]
    loss = per_sequence.mean(axis=0)
    se = per_sequence.std(axis=0, ddof=1) / np.sqrt(n)
    bayes = generation_report(source, objective).bayes_loss
    averaged = per_sequence.mean(axis=1)
    return GenerationEval(
        loss,
        se,
        bayes,
        loss - bayes,
        float(np.mean(loss - bayes)),
        float(averaged.std(ddof=1) / np.sqrt(n)),
        n,
    )
