"""The JSON form of a pretraining evaluation, one results row per run (docs/json.md), and
the evaluation read back from it."""

from __future__ import annotations

from dataclasses import asdict

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
        for key in ("generation_excess_ci", "excess_per_length_ci", "objective_excess_ci",
                    "sequences"):  # fmt: skip
            del out[key]
        parts = [out["raw"], out["pooled"], out["full"], *out["t1"], *out["pca"]]
        for metrics in filter(None, parts):
            for key in ("probe_error_ci", "ari_ci"):
                del metrics[key]
        if out["spectral"] is not None:
            for key in ("loss_ci", "optimum_ci", "gap_ci"):
                del out["spectral"][key]
        if out["belief"] is not None:
            del out["belief"]["sequences"]
            for fit in out["belief"]["fits"]:
                del fit["class_r2_ci"], fit["state_r2_ci"]
        return out
    out["excess_per_length_ci"] = np.asarray(result.excess_per_length_ci).tolist()
    return out


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

    def pair(value: list | None) -> tuple | None:
        return None if value is None else tuple(value)

    def metrics(value: dict | None) -> ClassMetrics | None:
        if value is None:
            return None
        ci = {k: pair(value.get(k)) for k in ("probe_error_ci", "ari_ci")}
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
        generation_excess_ci=pair(row.get("generation_excess_ci")),
        excess_per_length_ci=None if per_length_ci is None else np.asarray(per_length_ci, float),
        objective_excess_ci=pair(row.get("objective_excess_ci")),
        sequences=row.get("sequences"),
        full=metrics(row.get("full")),
        pca=tuple(m for m in map(metrics, row.get("pca", ())) if m is not None),
        belief=_belief(row.get("belief")),
    )


def _spectral(value: dict | None) -> SpectralFit | None:
    if value is None:
        return None
    ci = {k: None if value.get(k) is None else tuple(value[k])
          for k in ("loss_ci", "optimum_ci", "gap_ci")}  # fmt: skip
    numbers = (value["loss"], value["optimum"], value["gap"], value["max_angle_deg"])
    return SpectralFit(value["k"], *numbers, **ci)


def _belief(value: dict | None) -> BeliefGeometry | None:
    if value is None:
        return None

    def fit(row: dict) -> BeliefFit:
        ci = {k: None if row.get(k) is None else tuple(row[k])
              for k in ("class_r2_ci", "state_r2_ci")}  # fmt: skip
        return BeliefFit(row["layer"], row["class_r2"], row["state_r2"], **ci)

    fits = tuple(fit(row) for row in value["fits"])
    return BeliefGeometry(fits, value["contexts"], value["folds"], value.get("sequences"))
