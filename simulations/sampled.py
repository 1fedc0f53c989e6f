"""Networks judged past enumeration: a sampled evaluation with 95% intervals (docs/theory.md §10.4).

Held-out sequences are drawn from the source through the ``evaluation`` stream of the run's
seed (training draws from ``draws``), and every per-context quantity is the source's own, by
forward-backward: the exact conditionals ``P(x_i = . | x_S)``, ``P(x_l = . | x_<l)`` and the
Bayes label ``y(x)``. Each sequence carries ``J`` of the objective's patterns (all of them,
weighted ``w(omega)``, when the objective has at most ``J``; else ``J`` drawn from its law,
weighted ``1/J``) and ``G`` prefix lengths (all ``T - 1``, or ``G`` drawn uniformly).

- **generation excess**: per sequence, the mean over its prefix lengths of
  ``KL(P(. | x_<l) || q(. | x_<l))``; its mean over sequences is unbiased for the population
  mean over ``l`` of ``CE_l - H(x_l | x_<l)``. Per length, the sequences that drew ``l``.
- **objective excess**: per sequence, ``sum_j w_j KL(P(. | x_S_j) || q(. | x_S_j))``, unbiased
  for the cross-entropy on the objective minus ``H(t | c)``.
- **probes**: the least-squares probe of the pattern-averaged features (through ``Psi_k``, or
  raw) is cross-fitted: each half of the draws is scored by the probe fitted on the other, so
  no sequence is scored by a probe that saw it. Its interval is a percentile bootstrap that
  refits the probe on every resample.
- **ARI**: k-means (best of ``RESTARTS``) fitted on one half and read on the other against the
  latent class; percentile bootstrap interval, refitting k-means from the centres found.

Means carry central-limit intervals. The classification numbers estimate the population's
only when every pattern is read (``all_patterns``); with drawn patterns they estimate the same
probe on features averaged over ``J`` patterns, which the theory's side reads too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from lookaround.base.seeds import streams
from lookaround.simulations.evaluate import RESTARTS, population_ari
from lookaround.simulations.evaluations import PATTERNS_PER_SEQUENCE
from lookaround.simulations.pretrain import ClassMetrics, Outputs, PretrainEvaluation, SpectralFit
from lookaround.theory.conditionals import context_laws, prefix_laws, sequence_classes
from lookaround.theory.feature_maps import FeatureMapEstimate, feature_map_estimate
from lookaround.theory.intervals import Interval
from lookaround.theory.marginals import bayes_labels
from lookaround.theory.objectives import name_pattern_count, parse_objective
from lookaround.theory.pattern_laws import pattern_arrays, pattern_law
from lookaround.theory.sampling import draw_sequences
from lookaround.theory.sources import Source

__all__ = [
    "ARI_BOOTSTRAP",
    "ARI_RESTARTS",
    "BOOTSTRAP",
    "CONFIDENCE",
    "EvaluationDraws",
    "SampledTheory",
    "draw_evaluation",
    "evaluate_sampled",
    "exact_sampled_outputs",
    "mean_interval",
    "sampled_spectral_fit",
    "sampled_theory",
    "t3_interval",
]

CONFIDENCE = 0.95
BOOTSTRAP = 200  # resamples of a probe's interval
ARI_BOOTSTRAP, ARI_RESTARTS = 30, 3  # an ARI's resamples each refit k-means: fewer, cheaper
_LAW_ROWS = 32_768  # contexts per forward-backward call: bounds its (rows, r, H) memory


@dataclass(frozen=True, eq=False)
class EvaluationDraws:
    """Held-out sequences and what the source says of each (``n`` sequences, ``J`` patterns
    and ``G`` prefix lengths per sequence).

    Attributes
    ----------
    tokens : ndarray of int, shape (n, T)
    classes : ndarray of int, shape (n,)
        The latent class ``z`` each sequence was drawn from.
    labels : ndarray of int, shape (n,)
        Bayes labels ``y(x) = argmax_z P(z | x)``.
    visible : ndarray of bool, shape (n, J, T)
    target : ndarray of int, shape (n, J)
    weights : ndarray, shape (n, J)
        Each row sums to 1: ``w(omega)`` of every pattern, or ``1/J`` of drawn ones.
    lengths : ndarray of int, shape (n, G)
        Prefix lengths ``l``, each of weight ``1/G``.
    conditionals : ndarray, shape (n, J, V)
        ``P(x_i = . | x_S)``, exact.
    prefix_conditionals : ndarray, shape (n, G, V)
        ``P(x_l = . | x_<l)``, exact.
    all_patterns, all_lengths : bool
        Whether every pattern (prefix length) is read, or ``J`` (``G``) are drawn.
    n_classes : int
        ``r``.
    seed : int
    """

    tokens: np.ndarray
    classes: np.ndarray
    labels: np.ndarray
    visible: np.ndarray
    target: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray
    conditionals: np.ndarray
    prefix_conditionals: np.ndarray
    all_patterns: bool
    all_lengths: bool
    n_classes: int
    seed: int

    @property
    def n(self) -> int:
        """Sequences drawn."""
        return int(self.tokens.shape[0])


def _patterns(objective: str, length: int, n: int, rng: np.random.Generator, per: int):
    """``visible`` (n, J, T), ``target`` (n, J), ``weights`` (n, J) and whether all are read."""
    if name_pattern_count(objective, length) <= per:
        exact = parse_objective(objective, length)
        visible, target = pattern_arrays(exact.patterns, length)
        count = target.size
        return (np.broadcast_to(visible, (n, count, length)).copy(),
                np.broadcast_to(target, (n, count)).copy(),
                np.broadcast_to(exact.weights, (n, count)).copy(), True)  # fmt: skip
    visible, target = pattern_law(objective, length).draw(rng, n * per)
    return (visible.reshape(n, per, length), target.reshape(n, per),
            np.full((n, per), 1.0 / per), False)  # fmt: skip


def _lengths(length: int, n: int, rng: np.random.Generator, per: int) -> tuple[np.ndarray, bool]:
    if length - 1 <= per:
        return np.broadcast_to(np.arange(1, length), (n, length - 1)).copy(), True
    return rng.integers(1, length, size=(n, per)), False


def _target_laws(source: Source, tokens: np.ndarray, visible: np.ndarray, target: np.ndarray):
    """``P(x_i = . | x_S)`` of every ``(sequence, pattern)``, in bounded chunks."""
    n, count, length = visible.shape
    rows = np.repeat(tokens, count, axis=0)
    flat_visible, flat_target = visible.reshape(-1, length), target.reshape(-1)
    out = np.empty((n * count, source.vocab))
    for start in range(0, n * count, _LAW_ROWS):
        part = slice(start, start + _LAW_ROWS)
        out[part] = context_laws(source, rows[part], visible=flat_visible[part],
                                 target=flat_target[part]).targets  # fmt: skip
    return out.reshape(n, count, source.vocab)


def _prefix_rows(source: Source, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``P(x_l = . | x_<l)`` at each sequence's lengths, from one forward pass per chunk."""
    out = np.empty((*lengths.shape, source.vocab))
    step = max(1, _LAW_ROWS // source.length)
    for start in range(0, tokens.shape[0], step):
        part = slice(start, start + step)
        laws = prefix_laws(source, tokens[part])
        out[part] = np.take_along_axis(laws, lengths[part, :, None] - 1, axis=1)
    return out


def draw_evaluation(
    source: Source, objective: str, *, n: int, seed: int, per_sequence: int = PATTERNS_PER_SEQUENCE
) -> EvaluationDraws:
    """``n`` held-out sequences of ``source`` with the exact laws of their contexts.

    Parameters
    ----------
    source : Source
        The source.
    objective : str
        The objective whose patterns are read.
    n : int
        Sequences.
    seed : int
        The run's seed: sequences, patterns and lengths come from its ``evaluation`` stream.
    per_sequence : int
        ``J`` and ``G``: patterns and prefix lengths per sequence (all, when there are fewer).

    Returns
    -------
    EvaluationDraws

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> d = draw_evaluation(preset_source("markov"), "mlm:2", n=100, seed=0)
    >>> d.visible.shape, d.all_patterns, d.lengths.shape, d.all_lengths
    ((100, 8, 5), False, (100, 4), True)
    """
    rng = np.random.default_rng(streams(seed).evaluation)
    classes, tokens = draw_sequences(source, n, rng)
    visible, target, weights, all_patterns = _patterns(
        objective, source.length, n, rng, per_sequence
    )
    lengths, all_lengths = _lengths(source.length, n, rng, per_sequence)
    return EvaluationDraws(
        tokens=tokens, classes=np.asarray(classes), labels=bayes_labels(sequence_classes(source, tokens)),
        visible=visible, target=target, weights=weights, lengths=lengths,
        conditionals=_target_laws(source, tokens, visible, target),
        prefix_conditionals=_prefix_rows(source, tokens, lengths),
        all_patterns=all_patterns, all_lengths=all_lengths, n_classes=source.n_classes,
        seed=seed,
    )  # fmt: skip


def exact_sampled_outputs(draws: EvaluationDraws) -> Outputs:
    """The exact conditionals of the draws as a predictor's outputs: the theory's side.

    Parameters
    ----------
    draws : EvaluationDraws

    Returns
    -------
    Outputs
    """
    return Outputs(draws.conditionals, draws.prefix_conditionals)


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> Interval:
    """The mean of iid ``values`` and its central-limit interval.

    Parameters
    ----------
    values : ndarray
        One value per independent draw.
    confidence : float
        Of the interval.

    Returns
    -------
    Interval

    Examples
    --------
    >>> mean_interval(np.array([1.0, 2.0, 3.0, 4.0])).estimate
    2.5
    """
    if values.size == 0:
        return Interval(float("nan"))
    mean = float(np.mean(values))
    if values.size < 2:
        return Interval(mean)
    half = float(norm.ppf(0.5 + confidence / 2) * np.std(values, ddof=1) / np.sqrt(values.size))
    return Interval(mean, mean - half, mean + half)


def _kl(truth: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``KL(truth || probs)`` along the last axis."""
    logs = np.log(np.where(truth > 0, truth, 1.0)) - np.log(np.maximum(probs, 1e-300))
    return np.sum(np.where(truth > 0, truth * logs, 0.0), axis=-1)


def _cross_fitted(design: np.ndarray, labels: np.ndarray, classes: int,
                  halves: tuple[np.ndarray, np.ndarray]) -> float:  # fmt: skip
    """Error of the least-squares probe, each half scored by the probe of the other."""
    onehot = np.eye(classes)[labels]
    wrong = 0
    for fit, scored in (halves, halves[::-1]):
        x = design[fit]
        # the normal equations, solved by least squares: the same minimizer as lstsq on the
        # rows (a minimum-norm one when features are collinear), 20x faster at d = 33
        weights = np.linalg.lstsq(x.T @ x, x.T @ onehot[fit], rcond=None)[0]
        wrong += int(np.sum(bayes_labels(design[scored] @ weights) != labels[scored]))
    return wrong / (halves[0].size + halves[1].size)


def _percentile(point: float, boot: list[float]) -> Interval:
    """The basic (reverse-percentile) bootstrap interval: a refitted probe or k-means errs
    on its own draws' side of the population's, and reflecting the quantiles about the point
    corrects that bias where the plain percentile interval would carry it."""
    low, high = np.quantile(boot, [(1 - CONFIDENCE) / 2, (1 + CONFIDENCE) / 2])
    return Interval(point, float(2 * point - high), float(2 * point - low))


def _halves(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Even and odd rows: the draws are iid, so these are two independent halves."""
    return np.arange(0, n, 2), np.arange(1, n, 2)


def _resampled(
    halves: tuple[np.ndarray, np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Each half resampled within itself, so no row is on both sides of a cross-fit."""
    first, second = halves
    return first[rng.integers(0, first.size, first.size)], second[
        rng.integers(0, second.size, second.size)
    ]


def _probe(features: np.ndarray, labels: np.ndarray, classes: int, intercept: bool,
           rng: np.random.Generator) -> Interval:  # fmt: skip
    """The cross-fitted error and a bootstrap interval that refits the probe on each resample
    (a fitted argmax moves with its draws near a tie, which a binomial interval misses)."""
    design = np.hstack([features, np.ones((features.shape[0], 1))]) if intercept else features
    halves = _halves(labels.size)
    boot = [_cross_fitted(design, labels, classes, _resampled(halves, rng))
            for _ in range(BOOTSTRAP)]  # fmt: skip
    return _percentile(_cross_fitted(design, labels, classes, halves), boot)


def _kmeans(points: np.ndarray, r: int, restarts: int, seed: int) -> KMeans:
    # one OpenMP thread: a second one spin-waits against the other workers (60x slower when
    # a core is busy), and one thread gives the same centres on any machine
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")  # duplicate points (a collapsed map) warn
        # scikit-learn's bundled hints type n_init as a str ("auto"); an int is documented
        return KMeans(n_clusters=r, n_init=restarts, random_state=seed).fit(points)  # pyright: ignore[reportArgumentType]


def _ari(features: np.ndarray, classes: np.ndarray, r: int, seed: int,
         rng: np.random.Generator) -> Interval:  # fmt: skip
    """k-means fitted on one half and read on the other; the bootstrap refits it (fewer
    restarts) on a resample of the first half and reads a resample of the second."""
    fit, held = _halves(classes.size)
    found = np.asarray(_kmeans(features[fit], r, RESTARTS, seed).predict(features[held]))
    boot = []
    for _ in range(ARI_BOOTSTRAP):
        again, rows = _resampled((fit, held), rng)
        model = _kmeans(features[again], r, ARI_RESTARTS, int(rng.integers(2**31)))
        boot.append(_contingency_ari(classes[rows], np.asarray(model.predict(features[rows])), r))
    return _percentile(_contingency_ari(classes[held], found, r), boot)


def _contingency_ari(truth: np.ndarray, found: np.ndarray, r: int) -> float:
    joint = np.zeros((r, r))
    np.add.at(joint, (truth, found), 1.0 / truth.size)
    return population_ari(joint)


def _metrics(features, draws: EvaluationDraws, k, r, seed, intercept) -> ClassMetrics:
    rng = np.random.default_rng(streams(seed).bootstrap)
    probe = _probe(features, draws.labels, r, intercept, rng)
    ari = _ari(features, draws.classes, r, seed, rng)
    return ClassMetrics(k, probe.estimate, ari.estimate, probe_error_ci=(probe.low, probe.high),
                        ari_ci=(ari.low, ari.high))  # fmt: skip


def _per_length(kl: np.ndarray, lengths: np.ndarray, length: int) -> list[Interval]:
    return [mean_interval(kl[lengths == l]) for l in range(1, length)]


def evaluate_sampled(
    outputs: Outputs, draws: EvaluationDraws, feature_map: np.ndarray | FeatureMapEstimate, *,
    ks: tuple[int, ...], seed: int = 0,
) -> PretrainEvaluation:  # fmt: skip
    """Every number of one predictor on the draws, each with its 95% interval.

    Parameters
    ----------
    outputs : Outputs
        What the predictor says on the draws' patterns and prefixes.
    draws : EvaluationDraws
        The held-out draws.
    feature_map : ndarray, shape (V, rank), or FeatureMapEstimate
        T1's map ``Psi``: exact, or estimated
        (:func:`~lookaround.theory.feature_maps.feature_map_estimate`). Given as the estimate,
        a spectral-loss network's fit against T1 (``spectral``) is estimated too.
    ks : tuple of int
        The ``k`` of the T1 map.
    seed : int
        Seed of k-means and of the bootstrap.

    Returns
    -------
    PretrainEvaluation

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.feature_maps import feature_map_estimate
    >>> src = preset_source("markov")
    >>> d = draw_evaluation(src, "ar", n=400, seed=0)
    >>> psi = feature_map_estimate(src, "ar", n=2000).feature_map
    >>> ev = evaluate_sampled(exact_sampled_outputs(d), d, psi, ks=(2,))
    >>> ev.objective_excess, ev.objective_excess_ci, ev.sequences
    (0.0, (0.0, 0.0), 400)
    """
    estimate = feature_map if isinstance(feature_map, FeatureMapEstimate) else None
    psi = feature_map.feature_map if isinstance(feature_map, FeatureMapEstimate) else feature_map
    r = draws.n_classes
    gen_kl = _kl(draws.prefix_conditionals, outputs.prefix_conditionals)
    generation = mean_interval(gen_kl.mean(axis=1))
    fit = mean_interval(
        np.sum(draws.weights * _kl(draws.conditionals, outputs.conditionals), axis=1)
    )
    averaged = np.einsum("nj,njv->nv", draws.weights, outputs.conditionals)
    t1 = tuple(_metrics(averaged @ psi[:, :k], draws, k, r, seed, False) for k in ks)
    raw = pooled = None
    if outputs.pattern_hidden is not None:
        hidden = np.einsum("nj,njd->nd", draws.weights, outputs.pattern_hidden)
        raw = _metrics(hidden, draws, None, r, seed, True)
    if outputs.pooled is not None:
        pooled = _metrics(outputs.pooled, draws, None, r, seed, True)
    per_length = _per_length(gen_kl, draws.lengths, draws.tokens.shape[1])
    return PretrainEvaluation(
        generation_excess=generation.estimate,
        excess_per_length=np.array([i.estimate for i in per_length]),
        objective_excess=fit.estimate, t1=t1, raw=raw, pooled=pooled,
        spectral=None if estimate is None else sampled_spectral_fit(outputs, draws, estimate),
        generation_excess_ci=(generation.low, generation.high),
        excess_per_length_ci=np.array([[i.low, i.high] for i in per_length], dtype=float),
        objective_excess_ci=(fit.low, fit.high), sequences=draws.n,
    )  # fmt: skip


def sampled_spectral_fit(
    outputs: Outputs, draws: EvaluationDraws, estimate: FeatureMapEstimate
) -> SpectralFit | None:
    """A spectral-loss network against T1 on the draws (None for cross-entropy).

    The loss ``-2 E f(c).g(t) + E_c E_t (f(c).g(t))^2`` is a mean over sequences of
    ``sum_j w_j [-2 q_c . s_c + P_t . s_c^2]`` with ``s_c = g f(c)`` and ``q_c`` exact:
    unbiased, with a central-limit interval. T1's optimum ``-(s_1^2 + ... + s_k^2)`` is the
    Monte Carlo estimate's, with its influence-function interval; the gap's half-width joins
    the two (independent draws). The largest principal angle is read from the draws' moments
    ``E[f f^T]`` and ``E[f (q Psi_k)^T]``, the left singular vectors being
    ``u_i(c) = sqrt(P_c) (q_c . Psi_i) sqrt(s_i) / s_i``; it has no interval.

    Parameters
    ----------
    outputs : Outputs
        A predictor's outputs on the draws (``spectral_f`` and ``spectral_g`` set for a
        spectral-loss network).
    draws : EvaluationDraws
    estimate : FeatureMapEstimate
        The theory's side: ``s_i``, ``Psi`` and ``P_t``.

    Returns
    -------
    SpectralFit or None
    """
    f, g = outputs.spectral_f, outputs.spectral_g
    if f is None or g is None:
        return None
    k = g.shape[1]
    scores = f @ g.T  # (n, J, V)
    per = -2 * np.sum(draws.conditionals * scores, axis=2) + scores**2 @ estimate.target_mass
    loss = mean_interval(np.sum(draws.weights * per, axis=1))
    optimum = -float(np.sum(estimate.singular_values[:k] ** 2))
    half = float(estimate.top_half[k - 1])
    gap = loss.estimate - optimum
    gap_half = float(np.hypot(0.0 if loss.high is None else loss.high - loss.estimate, half))
    w = draws.weights / draws.n
    left = draws.conditionals @ estimate.feature_map[:, :k] / np.sqrt(estimate.singular_values[:k])
    cross = np.einsum("nj,nja,nji->ai", w, f, left)
    whiten_f, whiten_u = (_whitening(np.einsum("nj,nja,njb->ab", w, x, x)) for x in (f, left))
    cosines = np.linalg.svd(whiten_f.T @ cross @ whiten_u, compute_uv=False)
    smallest = float(cosines.min()) if cosines.size else 0.0  # no direction held: 90 degrees
    angle = float(np.degrees(np.arccos(np.clip(smallest, -1.0, 1.0))))
    return SpectralFit(k, loss.estimate, optimum, gap, angle, loss_ci=(loss.low, loss.high),
                       optimum_ci=(optimum - half, optimum + half),
                       gap_ci=(gap - gap_half, gap + gap_half))  # fmt: skip


def _whitening(gram: np.ndarray) -> np.ndarray:
    """``W`` with ``W^T gram W = I`` on the directions ``gram`` spans (what an orthonormal
    basis of a subspace is, given its vectors' inner products)."""
    values, vectors = np.linalg.eigh(gram)
    kept = values > 1e-12 * max(values.max(), 1e-300)
    return vectors[:, kept] / np.sqrt(values[kept])


def t3_interval(draws: EvaluationDraws, covered: np.ndarray) -> Interval:
    """T3's excess of the population-optimal predictor, estimated on the draws.

    On a prefix length the objective does not cover (``covered[l - 1]`` False) the predictor
    falls back to uniform, with excess ``KL(P(. | x_<l) || uniform) = log V - H(P(. | x_<l))``;
    per sequence, the mean over its lengths (the uniform test law of
    :func:`~lookaround.theory.coverage.generation_report`).

    Parameters
    ----------
    draws : EvaluationDraws
    covered : ndarray of bool, shape (T - 1,)
        The objective's prefix coverage (:attr:`~lookaround.theory.pattern_laws.PatternLaw.prefixes`).

    Returns
    -------
    Interval
    """
    truth = draws.prefix_conditionals
    vocab = truth.shape[-1]
    uniform = np.full(vocab, 1.0 / vocab)
    excess = np.where(covered[draws.lengths - 1], 0.0, _kl(truth, uniform[None, None, :]))
    return mean_interval(excess.mean(axis=1))


@dataclass(frozen=True, eq=False)
class SampledTheory:
    """The theory's side past enumeration, on the same estimator as the networks'.

    Attributes
    ----------
    objective : str
    feature_map : FeatureMapEstimate
        T1's map from Monte Carlo contexts (seed 0).
    evaluation : PretrainEvaluation
        The exact conditionals through :func:`evaluate_sampled` on held-out draws (seed 0).
    t3 : Interval
        T3's generation excess of the objective's population-optimal predictor.
    """

    objective: str
    feature_map: FeatureMapEstimate
    evaluation: PretrainEvaluation
    t3: Interval

    def ambiguous(self, k: int, tol: float = 1e-9) -> bool:
        """Whether the Monte Carlo map cannot separate ``s_k`` from ``s_(k+1)`` (the 95%
        interval of their gap reaches 0): T1's top-``k`` map is then not resolved, as an exact
        tie leaves it undefined. ``tol`` is the exact side's and unused here."""
        return self.feature_map.ambiguous(k)


def sampled_theory(
    source: Source, objective: str, *, n: int, ks: tuple[int, ...],
    per_sequence: int = PATTERNS_PER_SEQUENCE, feature_map: FeatureMapEstimate | None = None,
) -> SampledTheory:  # fmt: skip
    """T1's map from ``n`` Monte Carlo contexts and the exact predictor on ``n`` held-out
    sequences, both of seed 0.

    Parameters
    ----------
    source : Source
        The source.
    objective : str
        An objective's name.
    n : int
        Contexts of the map; held-out sequences of the evaluation.
    ks : tuple of int
        The ``k`` of the T1 map.
    per_sequence : int
        ``J`` and ``G`` of :func:`draw_evaluation`.
    feature_map : FeatureMapEstimate, optional
        T1's map, when already estimated (default: from ``n`` contexts of seed 0).

    Returns
    -------
    SampledTheory

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> th = sampled_theory(preset_source("markov"), "mlm:2", n=400, ks=(2,))
    >>> th.t3.estimate > 0, th.evaluation.generation_excess
    (True, 0.0)
    """
    psi = feature_map or feature_map_estimate(source, objective, n=n, seed=0)
    draws = draw_evaluation(source, objective, n=n, seed=0, per_sequence=per_sequence)
    evaluation = evaluate_sampled(exact_sampled_outputs(draws), draws, psi, ks=ks)
    covered = pattern_law(objective, source.length).prefixes
    return SampledTheory(objective, psi, evaluation, t3_interval(draws, covered))
