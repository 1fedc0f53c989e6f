"""One simulated pretraining run: train a model from samples, then measure it against theory."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np
from scipy.linalg import subspace_angles

from lookaround.base.checks import check_count, check_positive, check_seed
from lookaround.base.errors import InputError
from lookaround.base.reprs import Presented, short_repr
from lookaround.base.seeds import SeedLike, as_seed, streams
from lookaround.simulations.data import PatternDraws, draw_patterns
from lookaround.simulations.evaluate import (
    Classification,
    all_context_features,
    averaged_features,
    classification_metrics,
    conditional_entropy,
    exact_dense_cooccurrence,
    generation_eval,
    normalized_svd,
)
from lookaround.simulations.models import MODELS, Model, check_loss
from lookaround.simulations.shared import fit_shared
from lookaround.simulations.tabular import fit_tabular
from lookaround.theory.bounds import spectral_loss, spectral_optimum
from lookaround.theory.cooccurrence import context_offsets
from lookaround.theory.costs import FLOAT, draws_bytes
from lookaround.theory.limits import MAX_STEPS, check_draws, check_k, check_memory
from lookaround.theory.numerics import log_softmax
from lookaround.theory.objectives import Objective, as_objective
from lookaround.theory.presets import as_source
from lookaround.theory.sources import Source

__all__ = [
    "DEFAULTS",
    "Diverged",
    "FITTERS",
    "Fitter",
    "SimulationResult",
    "check_converged",
    "simulate",
]

# Defaults that reach convergence on the presets (checked by tests/test_simulations.py).
DEFAULTS = {
    ("tabular", "spectral"): {"steps": 3000, "lr": 0.2},
    ("tabular", "ce"): {"steps": 1500, "lr": 0.05},
    ("shared", "spectral"): {"steps": 3000, "lr": 0.01},
    ("shared", "ce"): {"steps": 3000, "lr": 0.01},
}


@dataclass(frozen=True, eq=False)
class SimulationResult(Presented):
    """The numbers of one run (JSON form: :meth:`to_dict`).

    ``final_loss`` is the trained model's *population* loss under the exact ``A``; for the
    spectral loss ``optimum`` is T1's ``-sum_{i<=k} s_i^2`` and ``gap = final_loss - optimum``
    (never negative, by T1); for cross-entropy ``optimum`` and ``gap`` are None and
    ``bayes_ce`` is the conditional entropy ``H(t | c)`` that no model beats. Generation is
    measured on held-out sequences per prefix length ``l = 1..T-1`` (index ``l-1``): the
    excess over the exact Bayes loss, its standard error, and the Bayes loss itself.

    Attributes
    ----------
    source, objective, model, loss : str
        What was run.
    k, steps, seed, n_train, n_eval : int
    lr : float
    final_loss : float
        The trained model's population loss under the exact ``A``.
    optimum, gap : float or None
        T1's optimum and ``final_loss - optimum`` (spectral loss only).
    bayes_ce : float or None
        ``H(t | c)`` (cross-entropy only).
    max_angle_deg : float or None
        The largest principal angle to the top-``k`` subspace (spectral loss only).
    probe_error, ari, nmi : float
        On held-out sequences' averaged features.
    context_probe_error, context_ari : float
        On the contexts' features.
    generation_excess, generation_excess_se : float
        The excess generation loss over the Bayes loss and its standard error.
    excess_per_length, excess_se_per_length, bayes_loss_per_length : ndarray
        The same per prefix length ``l = 1..T-1``, and the Bayes loss.
    curve : ndarray
        The training loss at each step.
    """

    __repr__ = short_repr

    source: str
    objective: str
    model: str
    loss: str
    k: int
    steps: int
    lr: float
    seed: int
    n_train: int
    final_loss: float
    optimum: float | None
    gap: float | None
    bayes_ce: float | None
    max_angle_deg: float | None
    probe_error: float
    ari: float
    nmi: float
    context_probe_error: float
    context_ari: float
    generation_excess: float
    generation_excess_se: float
    excess_per_length: np.ndarray
    excess_se_per_length: np.ndarray
    bayes_loss_per_length: np.ndarray
    n_eval: int
    curve: np.ndarray

    def to_dict(self, curve_points: int = 20) -> dict:
        """JSON-ready dict; the loss curve thinned to ``curve_points`` points."""
        out = asdict(self)
        for key in ("excess_per_length", "excess_se_per_length", "bayes_loss_per_length"):
            out[key] = getattr(self, key).tolist()
        idx = np.unique(np.linspace(0, len(self.curve) - 1, curve_points).astype(int))
        out["curve"] = {"step": idx.tolist(), "loss": self.curve[idx].tolist()}
        return out


def _population_loss(
    a: np.ndarray, f: np.ndarray, g: np.ndarray, bias: np.ndarray, loss: str
) -> float:
    if loss == "spectral":
        return spectral_loss(a, f, g)
    return float(-np.sum(a * log_softmax(f @ g.T + bias)))


class Diverged(ArithmeticError):
    """Training left the finite numbers: a result of the settings (usually ``lr``), not bad input.

    Commands report it as a run's ``status: diverged`` with this message, never as exit 2.
    """


def check_converged(model: Model, lr: float, features: np.ndarray | None = None) -> None:
    """Raise :class:`Diverged` when ``model``'s loss curve, head or ``features`` is not finite.

    Parameters
    ----------
    model : Model
        The trained model.
    lr : float
        Its learning rate, for the message.
    features : ndarray, optional
        Features to check as well.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from lookaround.simulations.models import Readout
    >>> bad = SimpleNamespace(curve=np.array([1.0, np.inf]), readout=Readout(np.ones(2), np.zeros(2)))
    >>> check_converged(bad, 0.2)
    Traceback (most recent call last):
    ...
    lookaround.simulations.runs.Diverged: training diverged (loss not finite from step 2) with learning rate 0.2
    """
    curve, parts = model.curve, [model.readout.g, model.readout.bias]
    bad = ~np.isfinite(curve)
    if bad.any() or not all(
        np.all(np.isfinite(p)) for p in [*parts, *([features] if features is not None else [])]
    ):
        step = int(np.argmax(bad)) + 1 if bad.any() else curve.size
        raise Diverged(
            f"training diverged (loss not finite from step {step}) with learning rate {lr:g}"
        )


class Fitter(Protocol):
    """What every model's trainer takes (the shared model adds keyword options of its own)."""

    def __call__(
        self, draws: PatternDraws, vocab: int, k: int, *, loss: str, steps: int, lr: float,
        seed: int,
    ) -> Model: ...  # fmt: skip


FITTERS: dict[str, Fitter] = {"tabular": fit_tabular, "shared": fit_shared}


def _check_settings(
    source: Source,
    model: str,
    loss: str,
    k: int,
    steps: int | None,
    lr: float | None,
    seed: int,
    n_train: int,
    n_eval: int,
) -> tuple[int, float]:
    """Every setting of a run checked before it starts; the steps and learning rate to use."""
    if model not in MODELS:
        raise InputError(f"model must be 'tabular' or 'shared', got {model!r}")
    check_loss(loss)
    check_k(k, source.vocab)
    defaults = DEFAULTS[(model, loss)]
    steps = check_count(
        defaults["steps"] if steps is None else steps, "steps", low=1, high=MAX_STEPS
    )
    lr = check_positive(defaults["lr"] if lr is None else lr, "lr")
    check_draws(n_train, "n_train", length=source.length)
    check_draws(n_eval, "n_eval", length=source.length, low=4)
    check_seed(seed)
    return steps, lr


def simulation_bytes(source: Source, objective: Objective, n_train: int) -> int:
    """Peak memory of :func:`simulate`: the training draws and the dense exact ``A`` with its
    class joint, features and SVD (measured: about ``8 (5 V + 10)`` bytes per context).

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> simulation_bytes(preset_source("markov"), parse_objective("ar", 5), 1_000_000)
    104024000
    """
    contexts = int(context_offsets(objective, source.vocab)[-1])
    return draws_bytes(n_train, source.length) + FLOAT * contexts * (5 * source.vocab + 10)


def _check_memory(source: Source, objective: Objective, n_train: int) -> None:
    check_memory(
        simulation_bytes(source, objective, n_train),
        f"a simulation of {objective.name!r} with n_train = {n_train} (its draws and the dense "
        "exact A over every context) needs about",
        "use fewer draws, a shorter length or a smaller vocabulary",
    )


@dataclass(frozen=True)
class _Population:
    """The trained model under the exact ``A``: its loss and how it compares with T1."""

    final_loss: float
    optimum: float | None = None
    gap: float | None = None
    max_angle_deg: float | None = None
    bayes_ce: float | None = None


def _population(
    trained: Model, source: Source, objective: Objective, k: int, lr: float
) -> _Population:
    a, _ = exact_dense_cooccurrence(source, objective)
    f_all = all_context_features(trained, objective, source.vocab)
    readout = trained.readout
    check_converged(trained, lr, f_all)
    final = _population_loss(a, f_all, readout.g, readout.bias, trained.loss)
    if trained.loss != "spectral":
        return _Population(final, bayes_ce=conditional_entropy(a))
    live, u, s = normalized_svd(a)
    optimum = spectral_optimum(s, k)
    learned = np.sqrt(a.sum(axis=1)[live])[:, None] * f_all[live]
    angle = (
        float(np.degrees(np.max(subspace_angles(learned, u[:, :k])))) if np.any(learned) else 90.0
    )
    return _Population(final, optimum, final - optimum, angle)


def _heldout_classification(
    trained: Model, objective: Objective, held: PatternDraws, n_classes: int, seed: int
) -> tuple[Classification, Classification]:
    """Classes from the averaged features ``h(x)`` and from each draw's own context ``f(c)``."""
    averaged = averaged_features(trained, objective, held.tokens)
    own = np.empty_like(averaged)
    for j, pattern in enumerate(objective.patterns):
        rows = np.flatnonzero(held.pattern_index == j)
        if rows.size:
            own[rows] = trained.features(pattern, held.tokens[rows])
    return (
        classification_metrics(averaged, held.classes, n_classes, seed=seed),
        classification_metrics(own, held.classes, n_classes, seed=seed),
    )


def simulate(
    source: Source | str,
    objective: Objective | str,
    *,
    model: str = "tabular",
    loss: str = "spectral",
    k: int = 2,
    steps: int | None = None,
    lr: float | None = None,
    seed: SeedLike = 0,
    n_train: int = 50_000,
    n_eval: int = 2000,
) -> SimulationResult:
    """Train ``model`` on ``n_train`` draws and evaluate it exactly and on held-out draws.

    Parameters
    ----------
    source : Source
        The class-conditional source the draws come from.
    objective : Objective
        Its patterns ``(S, i)`` and their law ``w``; of the source's length ``T``.
    model : {"tabular", "shared"}
        One free feature row per context, or a shared-weight encoder (position-aware token
        embeddings and a small MLP, :mod:`lookaround.simulations.shared`).
    loss : {"spectral", "ce"}
        T1's spectral loss, or cross-entropy on the target.
    k : int
        Feature dimension, ``1 <= k <= V``.
    steps, lr : int and float, optional
        Optimizer steps and (largest) step size; unset, the defaults of ``(model, loss)``.
    seed : int or SeedLike
        Every random choice (draws, initialization, held-out draws) derives from it.
    n_train, n_eval : int
        Training and held-out draws of ``(sequence, pattern)``.

    Returns
    -------
    SimulationResult
        The trained model's gap to T1's optimum, its probes and k-means on held-out draws,
        and its generation losses.

    Raises
    ------
    Diverged
        When training leaves the finite numbers; the commands report it as a run's
        ``status: diverged``, not as bad input.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> res = simulate(preset_source("topic"), parse_objective("ar", 4), k=2, steps=300)
    >>> res.gap >= 0
    True
    """
    seed = as_seed(seed)
    source = as_source(source)
    objective = as_objective(objective, source.length)
    steps, lr = _check_settings(source, model, loss, k, steps, lr, seed, n_train, n_eval)
    _check_memory(source, objective, n_train)
    draws = draw_patterns(source, objective, n_train, seed=seed)
    # an overflow here is reported as divergence just below, in one line, not as warnings
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        trained = FITTERS[model](draws, source.vocab, k, loss=loss, steps=steps, lr=lr, seed=seed)
    population = _population(trained, source, objective, k, lr)
    held = draw_patterns(source, objective, n_eval, seed=streams(seed).heldout)
    sample, context = _heldout_classification(trained, objective, held, source.n_classes, seed)
    generation = generation_eval(trained, source, objective, tokens=held.tokens)
    return SimulationResult(
        source=source.name,
        objective=objective.name,
        model=model,
        loss=loss,
        k=k,
        steps=steps,
        lr=lr,
        seed=seed,
        n_train=n_train,
        **asdict(population),
        probe_error=sample.probe_error,
        ari=sample.ari,
        nmi=sample.nmi,
        context_probe_error=context.probe_error,
        context_ari=context.ari,
        generation_excess=generation.mean_excess,
        generation_excess_se=generation.mean_standard_error,
        excess_per_length=generation.excess,
        excess_se_per_length=generation.standard_error,
        bayes_loss_per_length=generation.bayes,
        n_eval=n_eval,
        curve=trained.curve,
    )
