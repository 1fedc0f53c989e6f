"""One simulated pretraining run: train a model from samples, then measure it against theory."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.linalg import subspace_angles

from lookaround.simulations.data import draw_patterns
from lookaround.simulations.evaluate import (
    all_context_features,
    averaged_features,
    classification_metrics,
    conditional_entropy,
    exact_dense_cooccurrence,
    generation_eval,
    normalized_svd,
)
from lookaround.simulations.shared import fit_shared
from lookaround.simulations.tabular import fit_tabular
from lookaround.theory.bounds import spectral_loss, spectral_optimum
from lookaround.theory.errors import InputError
from lookaround.theory.limits import (
    MAX_STEPS,
    check_count,
    check_draws,
    check_k,
    check_positive,
    check_seed,
)
from lookaround.theory.objectives import Objective
from lookaround.theory.sources import Source

# Defaults that reach convergence on the presets (checked by tests/test_simulations.py).
DEFAULTS = {
    ("tabular", "spectral"): {"steps": 3000, "lr": 0.2},
    ("tabular", "ce"): {"steps": 1500, "lr": 0.05},
    ("shared", "spectral"): {"steps": 3000, "lr": 0.01},
    ("shared", "ce"): {"steps": 3000, "lr": 0.01},
}


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """The numbers of one run (JSON form: :meth:`to_dict`).

    ``final_loss`` is the trained model's *population* loss under the exact ``A``; for the
    spectral loss ``optimum`` is T1's ``-sum_{i<=k} s_i^2`` and ``gap = final_loss - optimum``
    (never negative, by T1); for cross-entropy ``optimum`` and ``gap`` are None and
    ``bayes_ce`` is the conditional entropy ``H(t | c)`` that no model beats. Generation is
    measured on held-out sequences per prefix length ``l = 1..T-1`` (index ``l-1``): the
    excess over the exact Bayes loss, its standard error, and the Bayes loss itself.
    """

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
    logits = f @ g.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-np.sum(a * log_p))


class Diverged(InputError):
    """Training left the finite numbers: a result of the settings (usually ``lr``), not a bug."""


def _check_converging(curve: np.ndarray, f: np.ndarray, g: np.ndarray, lr: float) -> None:
    bad = ~np.isfinite(curve)
    if bad.any() or not (np.all(np.isfinite(f)) and np.all(np.isfinite(g))):
        step = int(np.argmax(bad)) + 1 if bad.any() else curve.size
        raise Diverged(
            f"training diverged (loss not finite from step {step}) with learning rate {lr:g}; "
            "lower --lr"
        )


def simulate(
    source: Source,
    objective: Objective,
    model: str = "tabular",
    loss: str = "spectral",
    k: int = 2,
    steps: int | None = None,
    lr: float | None = None,
    seed: int = 0,
    n_train: int = 50_000,
    n_eval: int = 2000,
) -> SimulationResult:
    """Train ``model`` on ``n_train`` draws and evaluate it exactly and on held-out draws.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> from lookaround.theory.objectives import parse_objective
    >>> res = simulate(preset_source("topic"), parse_objective("ar", 4), k=2, steps=300)
    >>> res.gap >= 0
    True
    """
    if model not in ("tabular", "shared"):
        raise InputError(f"model must be 'tabular' or 'shared', got {model!r}")
    if loss not in ("spectral", "ce"):
        raise InputError(f"loss must be 'spectral' or 'ce', got {loss!r}")
    check_k(k, source.vocab)
    defaults = DEFAULTS[(model, loss)]
    steps = check_count(defaults["steps"] if steps is None else steps, "steps", 1, MAX_STEPS)
    lr = check_positive(defaults["lr"] if lr is None else lr, "learning rate")
    check_draws(n_train, "n_train", source.length)
    check_draws(n_eval, "n_eval", source.length, low=4)
    check_seed(seed)
    draws = draw_patterns(source, objective, n_train, seed)
    fit = fit_tabular if model == "tabular" else fit_shared
    # an overflow here is reported as divergence just below, in one line, not as warnings
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        trained = fit(draws, source.vocab, k, loss, steps, lr, seed)

    a, _ = exact_dense_cooccurrence(source, objective)
    f_all = (
        trained.f if model == "tabular" else all_context_features(trained, objective, source.vocab)
    )
    g = trained.g if model == "tabular" else trained.params["G"]
    bias = trained.bias if model == "tabular" else trained.params["b"]
    _check_converging(trained.curve, f_all, g, lr)
    final = _population_loss(a, f_all, g, bias, loss)
    live, u, s = normalized_svd(a)
    optimum = gap = angle = bayes_ce = None
    if loss == "spectral":
        optimum = spectral_optimum(s, k)
        gap = final - optimum
        learned = np.sqrt(a.sum(axis=1)[live])[:, None] * f_all[live]
        angle = (
            float(np.degrees(np.max(subspace_angles(learned, u[:, :k]))))
            if np.any(learned)
            else 90.0
        )
    else:
        bayes_ce = conditional_entropy(a)

    held = draw_patterns(source, objective, n_eval, seed + 1_000_003)
    sample_metrics = classification_metrics(
        averaged_features(trained, objective, held.tokens), held.classes, source.n_classes, seed
    )
    context_feats = np.empty((n_eval, k))
    for j, pattern in enumerate(objective.patterns):
        rows = np.flatnonzero(held.pattern_index == j)
        if rows.size:
            context_feats[rows] = trained.features(pattern, held.tokens[rows])
    context_metrics = classification_metrics(context_feats, held.classes, source.n_classes, seed)
    generation = generation_eval(trained, source, objective, held.tokens)
    return SimulationResult(
        source.name,
        objective.name,
        model,
        loss,
        k,
        steps,
        lr,
        seed,
        n_train,
        final,
        optimum,
        gap,
        bayes_ce,
        angle,
        sample_metrics["probe_error"],
        sample_metrics["ari"],
        sample_metrics["nmi"],
        context_metrics["probe_error"],
        context_metrics["ari"],
        generation.mean_excess,
        generation.mean_standard_error,
        generation.excess,
        generation.standard_error,
        generation.bayes,
        n_eval,
        trained.curve,
    )
