"""Re-verification of a witness written by ``lookaround search``: every field its JSON states is
read through one validation (named one-line errors for a malformed file) and then recomputed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lookaround.base.errors import InputError
from lookaround.simulations.metrics import CERTIFIABLE_METRICS, METRICS, check_claim_metric
from lookaround.simulations.spaces import PROBABILITIES, probabilities_of
from lookaround.theory.certificates import certify
from lookaround.theory.limits import check_k
from lookaround.theory.objectives import Objective, parse_objective
from lookaround.theory.sources import Source, source_from_dict

__all__ = ["verify_record"]

# The witness fields read before anything is recomputed, with what each must be.
_SHAPES: dict[str, tuple[type, str]] = {
    "claim": (str, "a claim label such as 'C2'"),
    "metric": (str, f"one of {', '.join(CERTIFIABLE_METRICS)}"),
    "k": (int, "an integer k >= 1"),
    "objectives": (list, "a list of two objective names"),
    "wanted": (str, "'holds' or 'fails'"),
    "search": (dict, "a JSON object"),
    "source": (dict, "a JSON object"),
    "certificate": (dict, "a JSON object"),
}


@dataclass(frozen=True)
class _Witness:
    """A witness's fields, each checked for its kind, with its source and objectives built."""

    record: dict
    source: Source
    pair: tuple[Objective, Objective]


def _read_witness(record: object) -> _Witness:
    if not isinstance(record, dict) or record.get("kind") != "witness":
        raise InputError("the file is not a witness written by `lookaround search`")
    for name, (kind, what) in _SHAPES.items():
        if name not in record:
            raise InputError(f"witness.{name} is missing")
        value = record[name]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InputError(f"witness.{name} must be {what}, got {str(value)[:60]!r}")
    if record["wanted"] not in ("holds", "fails"):
        raise InputError(
            f"witness.wanted must be 'holds' or 'fails', got {record['wanted'][:20]!r}"
        )
    if record["metric"] not in CERTIFIABLE_METRICS:
        raise InputError(f"witness.metric {record['metric']!r} has no certificate")
    names = record["objectives"]
    if len(names) != 2 or not all(isinstance(name, str) for name in names):
        raise InputError(f"witness.objectives must be two objective names, got {names!r:.60}")
    source = source_from_dict(record["source"])
    check_k(record["k"], source.vocab)
    winner, other = (parse_objective(name, source.length) for name in names)
    return _Witness(record, source, (winner, other))


def verify_record(record: object) -> list[str]:
    """Recompute a witness's certificate from its JSON alone; the list of disagreements.

    Every stored field is checked: the claim and metric are a pair the claim model accepts;
    every certificate field (metric, ``k``, direction, both sides' values, exact forms,
    polynomials and isolating intervals, the 50-digit margin, the proved verdict) equals its
    recomputation; the verdict is the one wanted; and the search record agrees with the
    source it describes (sizes shrunk to, probabilities in steps of the stated denominator,
    the sign of the margin found). An empty list means the witness re-verifies; a field of
    the wrong kind, or a source too large to certify, is an :class:`InputError` first.

    Parameters
    ----------
    record : object
        A witness's JSON record.

    Returns
    -------
    list of str
        What does not verify (empty when it does).

    Examples
    --------
    >>> verify_record({"kind": "witness", "claim": "C2"})
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: witness.metric is missing
    """
    witness = _read_witness(record)
    stored, metric = witness.record["certificate"], witness.record["metric"]
    wanted = witness.record["wanted"]
    problems = _claim_problems(witness.record["claim"], metric)
    better = METRICS[metric].better
    fresh = certify(
        witness.source, *witness.pair, metric=metric, k=witness.record["k"], better=better
    ).record()
    kept = _flat(stored)
    problems += [
        f"certificate.{key}: stored {kept.get(key)!r}, recomputed {value!r}"
        for key, value in _flat(fresh).items()
        if kept.get(key) != value
    ]
    if fresh["verdict"] == "unresolved":
        problems.append("verdict: unresolved, nothing is proved")
    elif fresh["verdict"] != wanted:
        problems.append(f"the claim {fresh['verdict']} on this source, not {wanted}")
    return problems + _search_problems(witness)


def _flat(certificate: dict) -> dict:
    """A certificate record as ``{"winner.interval": [...], "margin": ..., ...}``, lists for
    tuples, so that stored JSON and a fresh record compare field by field."""
    out = {}
    for key, value in certificate.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, item in items:
            name = key if sub is None else f"{key}.{sub}"
            out[name] = list(item) if isinstance(item, (list, tuple)) else item
    return out


def _claim_problems(claim: str, metric: str) -> list[str]:
    try:
        check_claim_metric(claim, metric)
    except InputError as exc:
        return [f"claim: {exc}"]
    return []


def _search_problems(witness: _Witness) -> list[str]:
    """What the search record says of the source, checked against the source itself."""
    search, spec, source = witness.record["search"], witness.record["source"], witness.source
    wanted = witness.record["wanted"]
    problems = []
    sizes = {"V": source.vocab, "T": source.length, "r": source.n_classes}
    shrunk = search.get("shrunk") or {}
    if not isinstance(shrunk, dict):
        problems.append(f"search.shrunk: stored {str(shrunk)[:40]!r}, not the sizes shrunk to")
        shrunk = {}
    for name, size in shrunk.items():
        if sizes.get(name) != size:
            problems.append(
                f"search.shrunk.{name}: stored {size!r}, the source has {sizes.get(name)!r}"
            )
    denominator = search.get("denominator")
    if not isinstance(denominator, int) or denominator < 1 or not _in_steps(spec, denominator):
        problems.append(
            f"search.denominator: the probabilities are not in steps of 1/{denominator}"
        )
    stored = search.get("found_margin")
    # "inf" and "-inf" are JSON's spellings of the infinite margins
    found = float(stored) if isinstance(stored, (int, float, str)) and _number(stored) else math.nan
    if not found == found or (found > 0) != (wanted == "holds"):
        problems.append(f"search.found_margin: {found!r} has not the sign of {wanted!r}")
    return problems


def _number(text: object) -> bool:
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def _in_steps(spec: dict, denominator: int) -> bool:
    """Whether every probability of ``spec`` is a multiple of ``1 / denominator``."""
    scaled = probabilities_of(spec, PROBABILITIES) * denominator
    return bool(np.all(np.abs(scaled - np.round(scaled)) < 1e-9))
