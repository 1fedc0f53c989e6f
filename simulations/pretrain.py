"""Pretrained networks held against the exact theory, population-exact (docs/theory.md §10).

Every sequence of positive mass is enumerated with its weight ``P(x)``, so each number below
is the network's *population* value, with no sampling error:

- generation: the network's cross-entropy per prefix length against ``H(x_l | x_<l)``;
  objective fit: its cross-entropy on the objective's own patterns against ``H(t | c)``;
- classification through **T1's map**: the network's conditionals ``q(.|omega, x_S)``,
  averaged over patterns, times ``Psi_k = D_t^{-1/2} V_k S_k^{-1/2}`` (the factor that turns
  the exact conditionals into T1's optimal features), so the exact conditionals give exactly
  the theory's ``h(x)``;
- classification through T1's map at **full rank** (every column of ``D_t^{-1/2} V S^{-1/2}``),
  which keeps everything the network's conditionals say about a sequence;
- classification on the **raw** features: hidden states at the context's read-out position
  averaged over patterns (``w``-weighted), their top-``k`` principal directions (a
  practitioner's PCA, ``P(x)``-weighted), and mean-pooled states of the whole sequence;
- with ``belief``, the belief geometry of every layer (:mod:`lookaround.simulations.beliefs`).

Probes are the ``P(x)``-weighted least-squares linear probe read by argmax against the Bayes
labels (theory's T2'); clusterings are the population k-means ARI of the claim table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import subspace_angles

from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.simulations.beliefs import BeliefGeometry
from lookaround.simulations.evaluate import (
    RESTARTS,
    all_sequences,
    conditional_entropy,
    exact_dense_cooccurrence,
    population_clustering,
)
from lookaround.simulations.models import predictive
from lookaround.simulations.probes import (
    STATES_RCOND,
    principal_directions,
    weighted_probe_error,
)
from lookaround.theory.cooccurrence import context_offsets, visible_index
from lookaround.theory.coverage import GenerationReport, generation_report
from lookaround.theory.numerics import normalize, softmax
from lookaround.theory.objectives import Objective, Pattern, parse_objective
from lookaround.theory.sources import Source

__all__ = [
    "MAX_EVALUATION_ROWS",
    "ClassMetrics",
    "ExactTheory",
    "check_evaluation_size",
    "Outputs",
    "Population",
    "PretrainEvaluation",
    "SpectralFit",
    "conditionals_of",
    "evaluate",
    "prefix_patterns",
    "exact_outputs",
    "exact_theory",
    "population",
]

MAX_EVALUATION_ROWS = 2_000_000  # sequences x patterns read through a network, sized first


@dataclass(frozen=True, eq=False)
class Population:
    """Every sequence of positive mass: ``tokens`` (n, T) and ``P(z, x)`` (n, r).

    Attributes
    ----------
    tokens : ndarray of int, shape (n, T)
    class_joint : ndarray, shape (n, r)
        ``P(z, x)``.
    """

    tokens: np.ndarray
    class_joint: np.ndarray

    @property
    def mass(self) -> np.ndarray:
        """``P(x)``."""
        return self.class_joint.sum(axis=1)


def population(source: Source) -> Population:
    """The enumerable population of ``source`` (refused past ``V^T = 10^6`` sequences).

    Parameters
    ----------
    source : Source
        The source.

    Returns
    -------
    Population

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> pop = population(preset_source("markov"))
    >>> pop.tokens.shape, round(float(pop.mass.sum()), 12)
    ((243, 5), 1.0)
    """
    if source.vocab**source.length > 10**6:
        raise InputError(
            f"pretrain evaluation enumerates V^T = {source.vocab}^{source.length} sequences; "
            "at most 10^6 are allowed"
        )
    return Population(*all_sequences(source))


def check_evaluation_size(pop: Population, objective: Objective) -> None:
    """The one size rule of an evaluation: contexts read through a network, sized first.

    Every sequence under every pattern of the objective, and under every prefix pattern.

    Parameters
    ----------
    pop : Population
        The population.
    objective : Objective
        The objective whose contexts a network reads.
    """
    rows = pop.tokens.shape[0] * (len(objective.patterns) + pop.tokens.shape[1] - 1)
    if rows > MAX_EVALUATION_ROWS:
        raise InputError(
            f"pretrain evaluation reads {rows:,} contexts (sequences x patterns) under "
            f"{objective.name}; at most {MAX_EVALUATION_ROWS:,}"
        )


def prefix_patterns(length: int) -> tuple[Pattern, ...]:
    """
    Parameters
    ----------
    length : int
        ``T``.

    Returns
    -------
    tuple of Pattern
        ``({0..l-1}, l)`` for ``l = 1..T-1``.
    """
    return tuple(Pattern(tuple(range(l)), l) for l in range(1, length))


@dataclass(frozen=True, eq=False)
class ExactTheory:
    """The exact side of one source and objective, on its population.

    Attributes
    ----------
    objective : Objective
    conditionals : ndarray, shape (n, P, V)
        ``P(x_i = . | x_S)`` for each sequence and pattern of the objective.
    prefix_conditionals : ndarray, shape (n, T-1, V)
        ``P(x_l = . | x_<l)``.
    singular_values : ndarray
        ``s_1 >= s_2 >= ...`` of ``Abar``.
    feature_map : ndarray, shape (V, min(n_c, V))
        ``D_t^{-1/2} V S^{-1/2}``; its first ``k`` columns are ``Psi_k``.
    target_mass : ndarray
        ``P_t``.
    objective_entropy : float
        ``H(t | c)``: the cross-entropy no predictor of the objective's targets beats.
    generation : GenerationReport
        T3 (its ``bayes_loss`` is ``H(x_l | x_<l)``).
    cooccurrence : ndarray
        ``A`` over the dense context index (for the spectral subspace).
    """

    objective: Objective
    conditionals: np.ndarray
    prefix_conditionals: np.ndarray
    singular_values: np.ndarray
    feature_map: np.ndarray
    target_mass: np.ndarray
    objective_entropy: float
    generation: GenerationReport
    cooccurrence: np.ndarray

    def ambiguous(self, k: int, tol: float = 1e-9) -> bool:
        """``s_k = s_(k+1)`` within ``tol``: the top-``k`` subspace (and T1's map) is not unique."""
        s = np.concatenate([self.singular_values, np.zeros(k + 1)])
        return bool(s[k - 1] - s[k] <= tol)


def _conditionals(
    a: np.ndarray, objective: Objective, tokens: np.ndarray, vocab: int
) -> np.ndarray:
    offsets = context_offsets(objective, vocab)
    rows = np.stack(
        [
            offsets[j] + visible_index(p.visible, tokens, vocab)
            for j, p in enumerate(objective.patterns)
        ],
        axis=1,
    )
    table = a[rows]
    return table / table.sum(axis=-1, keepdims=True)


def exact_theory(source: Source, objective: Objective, pop: Population) -> ExactTheory:
    """The exact conditionals, spectrum and T1 map of ``objective`` on ``source``.

    Parameters
    ----------
    source : Source
        The source.
    objective : Objective
        The objective.
    pop : Population
        Its population.

    Returns
    -------
    ExactTheory

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> src = preset_source("markov")
    >>> theory = exact_theory(src, parse_objective("mlm:2", 5), population(src))
    >>> theory.conditionals.shape, round(float(theory.singular_values[0]), 12)
    ((243, 20, 3), 1.0)
    """
    a, _ = exact_dense_cooccurrence(source, objective)
    prefix, _ = exact_dense_cooccurrence(source, parse_objective("ar", source.length))
    abar, _, right = normalize(a)
    _, s, vt = np.linalg.svd(abar, full_matrices=False)
    rank = int(np.sum(s > 1e-12 * s[0]))
    feature_map = right[:, None] * vt[:rank].T / np.sqrt(s[:rank])[None, :]
    return ExactTheory(
        objective=objective,
        conditionals=_conditionals(a, objective, pop.tokens, source.vocab),
        prefix_conditionals=_conditionals(
            prefix, parse_objective("ar", source.length), pop.tokens, source.vocab
        ),
        singular_values=s,
        feature_map=feature_map,
        target_mass=a.sum(axis=0),
        objective_entropy=conditional_entropy(a),
        generation=generation_report(source, objective),
        cooccurrence=a,
    )


@dataclass(frozen=True, eq=False)
class Outputs:
    """What a predictor says on the population (the exact one, or a trained network).

    ``conditionals`` (n, P, V) on the objective's patterns and ``prefix_conditionals``
    (n, T-1, V); a network adds its hidden states at each pattern's read-out (n, P, d), its
    mean-pooled states (n, d) and, when trained on the spectral loss, ``f`` (n, P, k) and ``g``.

    Attributes
    ----------
    conditionals : ndarray, shape (n, P, V)
        On the objective's patterns.
    prefix_conditionals : ndarray, shape (n, T - 1, V)
        On the prefix patterns, for generation.
    pattern_hidden : ndarray, optional
        Hidden states at each pattern's read-out, (n, P, d).
    pooled : ndarray, optional
        Mean-pooled states, (n, d).
    spectral_f, spectral_g : ndarray, optional
        ``f`` (n, P, k) and ``g`` of a network trained on the spectral loss.
    """

    conditionals: np.ndarray
    prefix_conditionals: np.ndarray
    pattern_hidden: np.ndarray | None = None
    pooled: np.ndarray | None = None
    spectral_f: np.ndarray | None = None
    spectral_g: np.ndarray | None = None


def exact_outputs(theory: ExactTheory) -> Outputs:
    """The exact conditionals as a predictor's outputs: the evaluation's own check.

    Parameters
    ----------
    theory : ExactTheory
        The exact theory.

    Returns
    -------
    Outputs
    """
    return Outputs(theory.conditionals, theory.prefix_conditionals)


@dataclass(frozen=True)
class ClassMetrics:
    """Probe error and population k-means ARI of one feature map (``k`` None: raw features).

    Attributes
    ----------
    k : int or None
        The feature dimension (None for raw features).
    probe_error : float
        The ``P(x)``-weighted least-squares probe's error.
    ari : float
        Population k-means ARI.
    probe_error_ci, ari_ci : tuple of float, optional
        95% intervals of a sampled evaluation (None when exact).
    """

    k: int | None
    probe_error: float
    ari: float
    probe_error_ci: tuple[float | None, float | None] | None = None
    ari_ci: tuple[float | None, float | None] | None = None


@dataclass(frozen=True)
class SpectralFit:
    """A spectral-loss network against T1 at its ``k``: population loss, optimum, angle.

    Attributes
    ----------
    k : int
    loss, optimum, gap : float
        The population spectral loss, T1's optimum and their difference.
    max_angle_deg : float
        The largest principal angle to the top-``k`` subspace, in degrees (sampled: from the
        draws' moments and the estimated ``V_k``, without an interval).
    loss_ci, optimum_ci, gap_ci : tuple of float, optional
        Sampled only: their 95% intervals.
    """

    k: int
    loss: float
    optimum: float
    gap: float
    max_angle_deg: float
    loss_ci: tuple[float | None, float | None] | None = None
    optimum_ci: tuple[float | None, float | None] | None = None
    gap_ci: tuple[float | None, float | None] | None = None


@dataclass(frozen=True, eq=False)
class PretrainEvaluation(Presented):
    """One predictor against the exact theory on one source and objective.

    Attributes
    ----------
    generation_excess : float
        Mean over ``l = 1..T-1`` of ``CE_l - H(x_l | x_<l)`` (never negative).
    excess_per_length : ndarray
    objective_excess : float
        Cross-entropy on the objective's patterns minus ``H(t | c)`` (never negative).
    t1 : tuple of ClassMetrics
        Through T1's map, one per ``k``.
    raw, pooled : ClassMetrics or None
        Pattern-averaged and mean-pooled hidden states (networks only; all ``d`` units plus
        an intercept, whatever ``k``).
    spectral : SpectralFit or None
        A spectral-loss network against T1 (None for cross-entropy).
    generation_excess_ci, objective_excess_ci : tuple of float, optional
        95% intervals of a sampled evaluation (None when exact).
    excess_per_length_ci : ndarray, shape (T - 1, 2), optional
        Each length's interval.
    sequences : int, optional
        Held-out sequences of a sampled evaluation (None: the population, exactly).
    full : ClassMetrics or None
        Through T1's map at full rank (its ``k`` is the rank; None where not evaluated).
    pca : tuple of ClassMetrics
        The top-``k`` principal directions of the raw pattern-averaged states, one per ``k``
        (networks only).
    belief : BeliefGeometry or None
        Every layer's belief ``R^2`` (networks trained with ``belief`` only).
    """

    __repr__ = short_repr

    generation_excess: float
    excess_per_length: np.ndarray
    objective_excess: float
    t1: tuple[ClassMetrics, ...]
    raw: ClassMetrics | None
    pooled: ClassMetrics | None
    spectral: SpectralFit | None
    generation_excess_ci: tuple[float | None, float | None] | None = None
    excess_per_length_ci: np.ndarray | None = None
    objective_excess_ci: tuple[float | None, float | None] | None = None
    sequences: int | None = None
    full: ClassMetrics | None = None
    pca: tuple[ClassMetrics, ...] = ()
    belief: BeliefGeometry | None = None

    @property
    def sampled(self) -> bool:
        """Whether the numbers are estimates on held-out draws (with intervals)."""
        return self.sequences is not None

    def at(self, k: int) -> ClassMetrics:
        """The T1-mapped metrics at ``k``."""
        return next(m for m in self.t1 if m.k == k)

    def metrics(self, part: str, k: int) -> ClassMetrics | None:
        """The classification metrics of ``part`` (``t1``, ``pca``: at ``k``; ``raw``,
        ``pooled``, ``full``: whatever ``k``), None where not evaluated."""
        if part in ("t1", "pca"):
            return next((m for m in getattr(self, part) if m.k == k), None)
        return getattr(self, part)


def _cross_entropy(probs: np.ndarray, truth: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``sum_x P(x) sum_t P(t|.) (-log q(t|.))`` along the last axis, per middle index."""
    logs = -np.log(np.maximum(probs, 1e-300))
    return np.einsum("n,npv,npv->p", weights, truth, logs)


def _classes(features: np.ndarray, pop: Population, k: int | None, seed: int, *, states: bool):
    """``states``: a network's float32 hidden states (raw, PCA, mean-pooled), probed with an
    intercept and their rounding cut; else T1's features, probed as the theory does."""
    rcond = STATES_RCOND if states else None
    return ClassMetrics(
        k,
        weighted_probe_error(features, pop.class_joint, intercept=states, rcond=rcond),
        population_clustering(features, pop.class_joint, restarts=RESTARTS, seed=seed).ari,
    )


def _spectral_fit(outputs: Outputs, theory: ExactTheory, pop: Population, source: Source):
    f, g = outputs.spectral_f, outputs.spectral_g
    if f is None or g is None:
        return None
    k = g.shape[1]
    weights = pop.mass[:, None] * theory.objective.weights[None, :]  # P(x) w(omega)
    scores = f @ g.T  # (n, P, V): f(c).g(t)
    cross = np.einsum("np,npv,npv->", weights, theory.conditionals, scores)
    product = np.einsum("np,npv,v->", weights, scores**2, theory.target_mass)
    loss = float(-2.0 * cross + product)
    optimum = -float(np.sum(theory.singular_values[:k] ** 2))
    dense = np.zeros((theory.cooccurrence.shape[0], k))
    offsets = context_offsets(theory.objective, source.vocab)
    for j, p in enumerate(theory.objective.patterns):
        dense[offsets[j] + visible_index(p.visible, pop.tokens, source.vocab)] = f[:, j]
    abar, left, _ = normalize(theory.cooccurrence)
    live = left > 0
    u = np.linalg.svd(abar[live], full_matrices=False)[0][:, :k]
    learned = np.sqrt(theory.cooccurrence.sum(axis=1)[live])[:, None] * dense[live]
    angle = float(np.degrees(np.max(subspace_angles(learned, u))))
    return SpectralFit(k, loss, optimum, loss - optimum, angle)


def evaluate(
    outputs: Outputs, theory: ExactTheory, pop: Population, source: Source, *,
    ks: tuple[int, ...], seed: int = 0,
) -> PretrainEvaluation:  # fmt: skip
    """Every population number of one predictor against the exact theory.

    Parameters
    ----------
    outputs : Outputs
        What the predictor says on the population.
    theory : ExactTheory
        The exact theory of the objective.
    pop : Population
        The population.
    source : Source
        The source.
    ks : tuple of int
        The ``k`` of the T1 map.
    seed : int
        Seed of k-means.

    Returns
    -------
    PretrainEvaluation

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> src = preset_source("topic")
    >>> pop = population(src)
    >>> theory = exact_theory(src, parse_objective("mlm:1", 4), pop)
    >>> res = evaluate(exact_outputs(theory), theory, pop, src, ks=(2,))
    >>> round(res.objective_excess, 12), round(res.at(2).probe_error, 6)
    (0.0, 0.002741)
    """
    mass = pop.mass
    bayes = theory.generation.bayes_loss
    per_length = (
        _cross_entropy(outputs.prefix_conditionals, theory.prefix_conditionals, mass) - bayes
    )
    fit = _cross_entropy(outputs.conditionals, theory.conditionals, mass) @ theory.objective.weights
    averaged = np.einsum("p,npv->nv", theory.objective.weights, outputs.conditionals)
    t1 = tuple(
        _classes(averaged @ theory.feature_map[:, :k], pop, k, seed, states=False) for k in ks
    )
    rank = theory.feature_map.shape[1]
    full = _classes(averaged @ theory.feature_map, pop, rank, seed, states=False)
    raw = pooled = None
    pca: tuple[ClassMetrics, ...] = ()
    if outputs.pattern_hidden is not None:
        hidden = np.einsum("p,npd->nd", theory.objective.weights, outputs.pattern_hidden)
        raw = _classes(hidden, pop, None, seed, states=True)
        directions = principal_directions(hidden, pop.mass)
        pca = tuple(_classes(hidden @ directions[:, :k], pop, k, seed, states=True)
                    for k in ks)  # fmt: skip
    if outputs.pooled is not None:
        pooled = _classes(outputs.pooled, pop, None, seed, states=True)
    return PretrainEvaluation(
        generation_excess=float(np.mean(per_length)),
        excess_per_length=per_length,
        objective_excess=float(fit - theory.objective_entropy),
        t1=t1,
        raw=raw,
        pooled=pooled,
        spectral=_spectral_fit(outputs, theory, pop, source),
        full=full,
        pca=pca,
    )


def conditionals_of(head: np.ndarray, *, loss: str, g: np.ndarray | None, target_mass: np.ndarray):
    """A network head's predictive law: softmax of logits, or T1's read-out of ``f.g``.

    Parameters
    ----------
    head : ndarray
        A network's head outputs: logits (``"ce"``) or features ``f`` (``"spectral"``).
    loss : str
        The loss it was trained on.
    g : ndarray or None
        The spectral target table.
    target_mass : ndarray
        ``P_t`` as the run saw it.

    Returns
    -------
    ndarray
        ``P(t | c)``, rows summing to 1.
    """
    if loss == "ce":
        return softmax(head)
    assert g is not None
    flat = head.reshape(-1, head.shape[-1])
    probs = predictive(flat, g, np.zeros(g.shape[0]), loss="spectral", target_mass=target_mass)
    return probs.reshape(*head.shape[:-1], g.shape[0])
