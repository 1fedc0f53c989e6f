"""The JSON form of a pretraining evaluation, one results row per run (docs/json.md), and
the evaluation read back from it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from lookaround.simulations.beliefs import BeliefFit, BeliefGeometry
from lookaround.simulations.pretrain import ClassMetrics, PretrainEvaluation, SpectralFit

__all__ = ["evaluation_of", "record"]


def record(result: PretrainEvaluation) -> dict:
    """The JSON form of an evaluation (docs/json.md).

    Parameters
    ----------
    result : PretrainEvaluation
        An evaluation.

    Returns
    -------
    dict
    """
    out = asdict(result)
    out["excess_per_length"] = result.excess_per_length.tolist()
    if not result.sampled:  # an exact row is written as before intervals existed
        return _without_intervals(out)
    out["excess_per_length_ci"] = np.asarray(result.excess_per_length_ci).tolist()
    return out


def _without_intervals(value: Any) -> Any:
    """``value`` with every ``NAME_ci`` and ``sequences`` key dropped, at any depth: what a
    sampled evaluation adds and an exact one has not."""
    if isinstance(value, dict):
        return {k: _without_intervals(v) for k, v in value.items()
                if not k.endswith("_ci") and k != "sequences"}  # fmt: skip
    if isinstance(value, (list, tuple)):  # asdict keeps a tuple of records a tuple
        return type(value)(_without_intervals(v) for v in value)
    return value


def _pair(value: list | None) -> tuple | None:
    return None if value is None else tuple(value)


def evaluation_of(row: dict) -> PretrainEvaluation:
    """A row read back from the results file.

    Parameters
    ----------
    row : dict
        A results row of :func:`pretrain_point`.

    Returns
    -------
    PretrainEvaluation
    """

    def metrics(value: dict | None) -> ClassMetrics | None:
        if value is None:
            return None
        ci = {k: _pair(value.get(k)) for k in ("probe_error_ci", "ari_ci")}
        return ClassMetrics(value["k"], value["probe_error"], value["ari"], **ci)

    per_length_ci = row.get("excess_per_length_ci")
    return PretrainEvaluation(
        generation_excess=row["generation_excess"],
        excess_per_length=np.asarray(row["excess_per_length"], dtype=float),
        objective_excess=row["objective_excess"],
        t1=tuple(m for m in map(metrics, row["t1"]) if m is not None),
        raw=metrics(row["raw"]),
        pooled=metrics(row["pooled"]),
        spectral=_spectral(row["spectral"]),
        generation_excess_ci=_pair(row.get("generation_excess_ci")),
        excess_per_length_ci=None if per_length_ci is None else np.asarray(per_length_ci, float),
        objective_excess_ci=_pair(row.get("objective_excess_ci")),
        sequences=row.get("sequences"),
        full=metrics(row.get("full")),
        pca=tuple(m for m in map(metrics, row.get("pca", ())) if m is not None),
        belief=_belief(row.get("belief")),
    )


def _spectral(value: dict | None) -> SpectralFit | None:
    if value is None:
        return None
    ci = {k: _pair(value.get(k)) for k in ("loss_ci", "optimum_ci", "gap_ci")}
    numbers = (value["loss"], value["optimum"], value["gap"], value["max_angle_deg"])
    return SpectralFit(value["k"], *numbers, **ci)


def _belief(value: dict | None) -> BeliefGeometry | None:
    if value is None:
        return None

    def fit(row: dict) -> BeliefFit:
        ci = {k: _pair(row.get(k)) for k in ("class_r2_ci", "state_r2_ci")}
        return BeliefFit(row["layer"], row["class_r2"], row["state_r2"], **ci)

    fits = tuple(fit(row) for row in value["fits"])
    return BeliefGeometry(fits, value["contexts"], value["folds"], value.get("sequences"))
