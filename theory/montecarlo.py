"""Exact-conditional Monte Carlo: T2's context-level numbers where no enumeration reaches.

A context ``c = (S, i, x_S)`` is drawn as the objective draws it (a sequence from the source, a
pattern from the objective's law), and its laws ``q_c = P(x_i = . | x_S)`` and ``P(z | x_S)``
are computed exactly (:mod:`lookaround.theory.conditionals`). Every number of T2 is a
function of three averages over contexts drawn from ``P_c``, docs/theory.md §9:

- ``M = E_c[q_c q_c^T]``, the target-side Gram: ``Abar^T Abar = D_t^{-1/2} M D_t^{-1/2}``, whose
  eigenvalues are ``s_j^2``;
- ``L[t, z] = E_c[q_c(t) 1{y(c) = z}]``, the target mass by Bayes label, so that
  ``phi = 1 - sum_{t,z} L[t, z]^2 / P_t(t)``;
- the probe's error ``E_c[1{argmax q_c B != y(c)}]`` for the readout ``B`` built from ``M``, ``L``.

``P_t`` is exact (position marginals under the objective's target law). The averages are
unbiased whatever the number of distinct contexts, unlike the plug-in of ``--sampled``.
``phi`` uses the unbiased U-statistic for ``L^2``; each ``s_j^2`` subtracts the second-order
perturbation bias of an eigenvalue of an average of ``N`` rank-one terms. Intervals come
from the central limit theorem on the iid terms (first-order influence functions), with a
second pass over the same draws (regenerated from the seed, not stored) for the terms that
need the first pass's eigenvectors, ``L`` and ``B``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm
from tqdm import tqdm

from lookaround.base.checks import check_seed
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import SeedLike, as_seed, streams
from lookaround.theory.bounds import probe_readout, spectral_features
from lookaround.theory.conditionals import context_laws, sequence_classes
from lookaround.theory.influence import context_intervals, second_pass
from lookaround.theory.intervals import ContextEstimates
from lookaround.theory.limits import check_draws, check_k
from lookaround.theory.marginals import bayes_labels, position_marginals
from lookaround.theory.numerics import inverse_sqrt_mass
from lookaround.theory.objectives import Objective, objective_name, parse_objective
from lookaround.theory.pattern_laws import PatternLaw, pattern_law
from lookaround.theory.presets import as_source
from lookaround.theory.sampling import draw_sequences
from lookaround.theory.sources import Source
from lookaround.theory.spectral import TargetSide, gram_factor

__all__ = [
    "MC_CHUNK",
    "MAX_MC_SECONDS",
    "MonteCarloEstimate",
    "drawn_contexts",
    "mc_seconds",
    "monte_carlo",
    "monte_carlo_context",
    "monte_carlo_sample",
]

MC_CHUNK = 4096  # contexts per chunk: their (chunk, V) laws and one Gram update
MAX_MC_SECONDS = 1800.0  # a request's modelled time (mc_seconds), not a clock


@dataclass(frozen=True, eq=False)
class MonteCarloEstimate(Presented):
    """Exact-conditional Monte Carlo estimates with central-limit intervals.

    Attributes
    ----------
    level : {"context", "sample"}
        Whether contexts or samples were drawn.
    n, seed : int
        Contexts drawn, and the seed they derive from.
    confidence : float
    values : ContextEstimates
    eigenvalue_bias : ndarray
        The second-order bias subtracted from each plug-in ``s_j^2``, ``j = 2..k+1``.
    readout_instability : float
        Fraction of draws within the readout's noise of a tie (the noise estimated from the
        readouts fitted on two halves of the draws); the probe error gets an interval only
        when it is 0.
    """

    __repr__ = short_repr

    n: int
    seed: int
    confidence: float
    values: ContextEstimates
    eigenvalue_bias: np.ndarray
    readout_instability: float
    level: str = "context"

    def to_dict(self) -> dict:
        """JSON form: the settings, then ``{name: x, name + "_ci": [lo, hi]}``."""
        out = {
            "monte_carlo": True,
            "n": self.n,
            "seed": self.seed,
            "confidence": self.confidence,
            "eigenvalue_bias": self.eigenvalue_bias.tolist(),
        }
        out.update(self.values.record(self.level))
        out["readout_instability"] = self.readout_instability
        notes = {
            "probe_error": "some draws are within the readout's noise of a tie, so its argmax "
            "moves with the draws (raise N)",
            "bound": "s_(k+1) = 1 (lambda_(k+1) = 1) leaves it infinite",
        }
        if "unreliable" in out:
            out["unreliable_note"] = "no interval: " + "; ".join(
                f"{name}: {notes[name]}" for name in out["unreliable"]
            )
        return out


def mc_seconds(source: Source, n: int, laws: int = 1) -> float:
    """Seconds a Monte Carlo run of ``n`` draws (both passes) takes on a 2-core machine,
    each draw needing ``laws`` exact conditionals (1 for a context; one per pattern, plus the
    sequence's classes, for a sample).

    A conditional is a forward-backward pass over ``T`` positions: per position a fixed numpy
    overhead (0.6 us for a context, 0.35 us per law of a sample's batched laws) plus
    ``0.5 ns r H^2``; per draw 1.4 us for the Gram update; and per chunk of
    ``MC_CHUNK`` draws 80 us for each law and position. Fitted to runs of ``V = 3..30``,
    ``T = 8..4096``; within 1.5x of each (``benchmarks/sizing.py``).

    Parameters
    ----------
    source : Source
        The source.
    n : int
        Draws.
    laws : int
        Exact conditionals per draw.

    Returns
    -------
    float

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> f"{mc_seconds(preset_source('markov'), 20_000):.2f}"
    '0.09'
    """
    r, states = source.init.shape
    overhead = 0.6e-6 if laws == 1 else 0.35e-6
    per_draw = laws * source.length * (overhead + 0.5e-9 * r * states**2)
    per_chunk = laws * source.length * 80e-6
    chunks = -(-n // MC_CHUNK)
    return float(n) * (per_draw + 1.4e-6) + chunks * per_chunk


def drawn_contexts(
    source: Source, law: PatternLaw, *, n: int, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The exact conditionals and Bayes labels of ``n`` contexts drawn under ``law``, by chunk.

    Each context's row of ``q`` is ``q_c = P(x_i = t | x_S)`` over the targets ``t``. The same
    draws come on every call with the same seed (the ``monte_carlo`` stream), so a second pass
    regenerates them instead of storing them.

    Parameters
    ----------
    source : Source
        The source.
    law : PatternLaw
        The objective's pattern law.
    n : int
        Contexts drawn.
    seed : int
        Their seed.

    Yields
    ------
    q : ndarray, shape (chunk, V)
    labels : ndarray of int, shape (chunk,)
    """
    for rng, tokens in _sequences(source, n, seed):
        visible, target = law.draw(rng, tokens.shape[0])
        laws = context_laws(source, tokens, visible=visible, target=target)
        yield laws.targets, bayes_labels(laws.classes)


def _sequences(
    source: Source, n: int, seed: int
) -> Iterator[tuple[np.random.Generator, np.ndarray]]:
    """``n`` sequences in chunks of ``MC_CHUNK``, each with the generator that drew it (which
    then draws the chunk's patterns); the same on every call."""
    children = streams(seed).monte_carlo.spawn(-(-n // MC_CHUNK))
    for j, child in enumerate(children):
        rng = np.random.default_rng(child)
        _, tokens = draw_sequences(source, min(MC_CHUNK, n - j * MC_CHUNK), rng)
        yield rng, tokens


def _sample_chunks(
    source: Source, objective: Objective, n: int, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(q_x, y(x))`` of drawn sequences, chunk by chunk; the same draws on every call.

    ``q_x = P(t | x) = sum_(S, i) w(S, i) P(x_i = t | x_S)`` is the sample's row of ``Q``
    divided by ``P(x)``, summed over every pattern of the objective; ``y(x)`` is the Bayes
    label of the whole sequence.
    """
    positions = np.arange(source.length)
    patterns = [np.isin(positions, p.visible) for p in objective.patterns]
    for _, tokens in _sequences(source, n, seed):
        size = tokens.shape[0]
        q = np.zeros((size, source.vocab))
        for visible, pattern, weight in zip(patterns, objective.patterns, objective.weights):
            mask = np.broadcast_to(visible, tokens.shape)
            target = np.full(size, pattern.target)
            q += weight * context_laws(source, tokens, visible=mask, target=target).targets
        yield q, bayes_labels(sequence_classes(source, tokens))


@dataclass
class _FirstPass:
    """Sums over the draws of ``q q^T`` and ``l = q 1{y = z}`` for the two halves of the draws
    (even and odd within each chunk), and of ``q q^T`` by Bayes label over all (for the
    U-statistic of ``phi`` and its second-order variance)."""

    gram: np.ndarray  # (2, V, V)
    labels: np.ndarray  # (2, V, r)
    class_gram: np.ndarray  # (r, V, V)

    @property
    def labels_squared(self) -> np.ndarray:
        """Sums of ``l^2`` over the draws, ``(V, r)``: the diagonals of the per-label Grams."""
        return np.diagonal(self.class_gram, axis1=1, axis2=2).T

    @classmethod
    def run(cls, chunks: Iterator, vocab: int, classes: int) -> _FirstPass:
        out = cls(
            np.zeros((2, vocab, vocab)),
            np.zeros((2, vocab, classes)),
            np.zeros((classes, vocab, vocab)),
        )
        for q, y in chunks:
            for half in (0, 1):
                mine, labels = q[half::2], y[half::2]
                out.gram[half] += mine.T @ mine
                for z in range(classes):
                    out.labels[half, :, z] += mine[labels == z].sum(axis=0)
            for z in range(classes):
                theirs = q[y == z]
                out.class_gram[z] += theirs.T @ theirs
        return out

    def kernel_variance(self, n: int, scale: np.ndarray, phi: float) -> float:
        """``zeta_2 = Var h(X, X')`` of ``phi``'s U-statistic kernel
        ``h(x, x') = sum_t q_x(t) q_x'(t) 1{y = y'} / P_t(t)`` (plug-in, ``>= 0``):
        ``E h^2 = sum_z ||D_t^{-1/2} E[q q^T 1{y = z}] D_t^{-1/2}||_F^2`` and ``E h = 1 - phi``."""
        scaled = self.class_gram / n * scale[None, :, None] * scale[None, None, :]
        return max(float(np.sum(scaled**2)) - (1.0 - phi) ** 2, 0.0)


def _check(source: Source, k: int, n: int, seed: int, confidence: float, laws: int = 1) -> None:
    check_k(k, source.vocab)
    check_draws(n, "n", length=source.length, low=2)
    check_seed(seed, "seed")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}")
    seconds = mc_seconds(source, n, laws)
    if seconds > MAX_MC_SECONDS:
        each = f", {laws} conditionals per sequence" if laws > 1 else ""
        raise InputError(
            f"n = {n} draws take about {seconds / 60:.3g} minutes on this source "
            f"(V = {source.vocab}, T = {source.length}{each}) on two cores, over the limit of "
            f"{MAX_MC_SECONDS / 60:.0f} minutes; use fewer draws",
            field="n",
        )


def monte_carlo_context(
    source: Source,
    objective: str,
    k: int,
    n: int,
    *,
    seed: SeedLike = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> MonteCarloEstimate:
    """Unbiased estimates of ``s_1..s_{k+1}``, ``phi``, the probe error and T2's bound.

    Parameters
    ----------
    source : Source
    objective : str
        An objective's name; its patterns are drawn, never enumerated.
    k : int
        Feature dimension, ``1 <= k <= V``.
    n : int
        Contexts drawn (``N``); interval widths shrink like ``1/sqrt(N)``.
    seed : int
    confidence : float
    progress : bool
        A progress bar of the chunks of both passes on stderr.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.analysis import analyze
    >>> source = preset_source("markov")
    >>> exact = analyze(source, parse_objective("mlm:2", 5), 2, level="context").context
    >>> est = monte_carlo_context(source, "mlm:2", 2, 20_000, seed=1)
    >>> est.values.singular_values[1].covers(exact.singular_values[1]), est.values.phi.covers(exact.phi)
    (True, True)
    """
    source, objective = as_source(source), objective_name(objective)
    seed = as_seed(seed)
    draws, target_mass = _context_draws(source, objective, k, n, seed, confidence)
    return _estimate(draws, source, target_mass, k, confidence, progress)


def monte_carlo_sample(
    source: Source,
    objective: str,
    k: int,
    n: int,
    *,
    seed: SeedLike = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> MonteCarloEstimate:
    """Unbiased estimates of T2' on the sample graph: ``lambda_1..lambda_{k+1}``, ``alpha``,
    the probe error on samples and the bound ``2 alpha / (1 - lambda_{k+1})``.

    Sequences are drawn from the source, and each one's row of ``Q`` is exact: its Bayes
    label ``y(x)`` and ``q_x = sum_(S, i) w(S, i) P(x_i = . | x_S)``, one exact conditional
    per pattern of the objective (docs/theory.md §9). The objective's patterns are therefore
    enumerated: the cost grows with their number, and the request is sized first.

    Parameters
    ----------
    source : Source
    objective : str
        An objective's name (its patterns are enumerated, see :func:`parse_objective`).
    k, n, seed, confidence, progress
        As in :func:`monte_carlo_context`, ``n`` counting sequences.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.analysis import analyze
    >>> source = preset_source("markov")
    >>> exact = analyze(source, parse_objective("mlm:1", 5), 2, level="sample").sample
    >>> est = monte_carlo_sample(source, "mlm:1", 2, 20_000, seed=1)
    >>> est.values.singular_values[1].squared().covers(exact.eigenvalues[1])
    True
    >>> est.values.phi.covers(exact.alpha)  # alpha
    True
    """
    source, objective = as_source(source), objective_name(objective)
    seed = as_seed(seed)
    draws, target_mass = _sample_draws(source, objective, k, n, seed, confidence)
    return _estimate(draws, source, target_mass, k, confidence, progress)


def monte_carlo(
    source: Source | str,
    objective: Objective | str,
    k: int,
    n: int,
    *,
    levels: tuple[str, ...] = ("context",),
    seed: SeedLike = 0,
    confidence: float = 0.95,
    progress: bool = False,
) -> dict[str, MonteCarloEstimate]:
    """Both levels' estimates (those in ``levels``), every request checked before any runs.

    Parameters
    ----------
    source : Source or str
        A source, or a name :func:`~lookaround.theory.presets.resolve_source` reads.
    objective : str or Objective
        An objective's name (``ar``, ``mlm:2``, ...) or the objective itself.
    k : int
        Feature dimension, ``1 <= k <= V``.
    n : int
        Draws: contexts at the context level, sequences at the sample level; every quantity of
        a draw is exact (its conditional ``P(. | c)`` and Bayes label from the source's model).
    levels : tuple of {"context", "sample"}
        The levels estimated, each from its own draws.
    seed : int or SeedLike
        The draws derive from it: the same seed gives the same bits.
    confidence : float
        Of every interval, in ``(0, 1)``.
    progress : bool
        Show progress bars of both passes on stderr.

    Returns
    -------
    dict of str to MonteCarloEstimate
        Per level: the spectrum, ``phi`` (or ``alpha``), the probe error and the bound, each
        with its interval (docs/theory.md §9).

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> sorted(monte_carlo(preset_source("topic"), "ar", 1, 1000, levels=("context", "sample")))
    ['context', 'sample']
    """
    source, objective = as_source(source), objective_name(objective)
    seed = as_seed(seed)
    prepare = {"context": _context_draws, "sample": _sample_draws}
    if isinstance(levels, str) or not levels:
        raise InputError(
            f"levels must be a non-empty tuple of 'context' and 'sample', got {levels!r}"
        )
    unknown = [level for level in levels if level not in prepare]
    if unknown:
        raise InputError(f"level must be context or sample, got {unknown[0]!r}")
    ready = {level: prepare[level](source, objective, k, n, seed, confidence) for level in levels}
    return {
        level: _estimate(draws, source, target_mass, k, confidence, progress)
        for level, (draws, target_mass) in ready.items()
    }


def _context_draws(source, objective, k, n, seed, confidence) -> tuple[_Draws, np.ndarray]:
    law = pattern_law(objective, source.length)
    _check(source, k, n, seed, confidence)
    target_mass = law.target_law @ position_marginals(source)
    return _Draws(
        "context", lambda: drawn_contexts(source, law, n=n, seed=seed), n, seed
    ), target_mass


def _sample_draws(source, objective, k, n, seed, confidence) -> tuple[_Draws, np.ndarray]:
    exact = parse_objective(objective, source.length)
    _check(source, k, n, seed, confidence, laws=len(exact.patterns) + 1)
    targets = np.zeros(source.length)
    np.add.at(targets, [p.target for p in exact.patterns], exact.weights)
    target_mass = targets @ position_marginals(source)
    return _Draws("sample", lambda: _sample_chunks(source, exact, n, seed), n, seed), target_mass


@dataclass(frozen=True)
class _Draws:
    """What is drawn (contexts or samples) and how to draw the same ``(q, y)`` chunks again."""

    level: str
    chunks: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
    n: int
    seed: int


def _estimate(
    draws: _Draws,
    source: Source,
    target_mass: np.ndarray,
    k: int,
    confidence: float,
    progress: bool,
) -> MonteCarloEstimate:
    """The estimator shared by both levels: averages of ``q q^T`` and ``q 1{y = z}`` over the
    draws, then influence terms on a second pass (``P_t`` exact in both)."""
    n = draws.n
    z_score = float(norm.ppf(0.5 + confidence / 2))
    scale, root = inverse_sqrt_mass(target_mass), np.sqrt(target_mass)

    def chunks(what: str) -> Iterator:
        stream = draws.chunks()
        total = -(-n // MC_CHUNK)
        return iter(tqdm(stream, desc=what, total=total, leave=False)) if progress else stream

    first = _FirstPass.run(chunks("Monte Carlo pass 1"), source.vocab, source.n_classes)
    gram, labels = first.gram.sum(axis=0) / n, first.labels.sum(axis=0) / n
    eigenvalues, vectors = _deflated_spectrum(gram, labels.sum(axis=1), root, scale)
    squares = ((labels**2 * n * n - first.labels_squared) / (n * (n - 1))).sum(axis=1)
    phi = 1.0 - float(np.sum(np.where(target_mass > 0, squares * scale**2, 0.0)))
    halves = [(n + 1) // 2, n // 2]
    readouts = [_readout(gram, labels, target_mass, k)] + [
        _readout(first.gram[h] / halves[h], first.labels[h] / halves[h], target_mass, k)
        for h in (0, 1)
    ]
    m = min(k, eigenvalues.size)  # s_2..s_(m+1) are estimated; past the rank V they are 0
    second = second_pass(
        chunks("Monte Carlo pass 2"),
        scale=scale,
        root=root,
        vectors=vectors,
        labels=labels,
        readouts=readouts,
        m=m,
        z_score=z_score,
    )
    # phi is an order-2 U-statistic: Var = (4 (n - 2) zeta_1 + 2 zeta_2) / (n (n - 1)). The
    # second pass estimates zeta_1; zeta_2's term is the whole variance where zeta_1 vanishes
    # (classes the objective cannot tell apart) and 2-10% of it near there.
    degenerate = 2.0 * first.kernel_variance(n, scale, phi) / (n * (n - 1))
    values, bias = context_intervals(eigenvalues, phi, second, m=m, k=k, z_score=z_score,
                                     degenerate=degenerate)  # fmt: skip
    return MonteCarloEstimate(n, draws.seed, confidence, values, bias, second.unstable / n,
                              level=draws.level)  # fmt: skip


def _deflated_spectrum(
    gram: np.ndarray, mean: np.ndarray, root: np.ndarray, scale: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenpairs of the estimated ``Abar^T Abar`` on the complement of ``sqrt(P_t)``, largest
    first.

    ``s_1 = 1`` with right vector ``u = sqrt(P_t)`` for every co-occurrence (docs/theory.md
    §4.1), so that pair is known exactly. Every draw's ``z = D_t^{-1/2} q`` has ``u . z = 1``
    (``q`` sums to 1): projecting ``z - u`` leaves the exact zero of ``u`` out of the noise,
    and the spectrum estimated is ``s_2, s_3, ...``.
    """
    middle = scale * mean
    projected = (
        scale[:, None] * gram * scale[None, :]
        - np.outer(root, middle)
        - np.outer(middle, root)
        + np.outer(root, root)
    )
    values, vectors = np.linalg.eigh(projected)
    keep = np.arange(values.size) != np.argmax(np.abs(vectors.T @ root))
    return values[keep][::-1], vectors[:, keep][:, ::-1]


def _readout(gram: np.ndarray, labels: np.ndarray, target_mass: np.ndarray, k: int):
    """The least-squares probe's readout ``B`` of an estimated target side."""
    side = TargetSide(target_mass, gram_factor(gram), labels, gram.shape[0])
    return probe_readout(
        side, spectral_features(side, k)
    )  # its noise is the draws', not rounding's
