"""Phase maps: a claim's signed margin over a grid of a source family's knobs, exactly.

``margin > 0`` where the paper's side wins (docs/theory.md §6), ``< 0`` where it loses, and
``|margin| <= EXACT_TOL`` is a tie. Every point is an exact analysis. A map runs on the sweep
engine (:func:`lookaround.simulations.engine.run_plan`): resumable JSON lines, one process
per core, or a Dask cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from lookaround.base.errors import InputError
from lookaround.base.reprs import short_repr
from lookaround.simulations.engine import config_hash
from lookaround.simulations.metrics import (
    AMBIGUITY_TOL,
    EXACT_TOL,
    METRICS,
    ExactSource,
    Metric,
    check_claim_metric,
    decide,
    default_objectives,
    margin,
    point_seconds,
    unsettled,
)
from lookaround.theory.families import FAMILIES, Family, parse_family_call
from lookaround.theory.limits import check_k, check_seconds
from lookaround.theory.numerics import parse_integer, parse_real
from lookaround.theory.objectives import parse_objective
from lookaround.theory.sources import Source, source_from_dict

__all__ = [
    "MAX_POINTS",
    "Axis",
    "MapRequest",
    "map_point",
    "parse_axis",
    "plan_map",
]

MAX_POINTS = 10_000  # 100 x 100: minutes at V = 3, T = 6 on two cores


@dataclass(frozen=True)
class Axis:
    """One knob of a family and the grid values it takes.

    Attributes
    ----------
    name : str
        The knob.
    values : tuple of float
        Its grid values.
    """

    name: str
    values: tuple[float, ...]


def parse_axis(text: str, family: Family) -> Axis:
    """``"stick=0:1:30"`` into an axis of 30 values of ``stick`` (ends included).

    Parameters
    ----------
    text : str
        ``NAME=lo:hi:n``.
    family : Family
        The family whose knob it is.

    Returns
    -------
    Axis

    Examples
    --------
    >>> from lookaround.theory.families import FAMILIES
    >>> parse_axis("overlap=0:0.5:3", FAMILIES["markov2"])
    Axis(name='overlap', values=(0.0, 0.25, 0.5))
    """
    name, sep, span = text.partition("=")
    parts = span.split(":")
    if not sep or len(parts) != 3:
        raise InputError(f"axis {text!r} is not PARAM=lo:hi:n")
    params = {p.name: p for p in family.parameters}
    if name not in params:
        raise InputError(
            f"{family.name} has no parameter {name!r} (parameters: {', '.join(params)})"
        )
    lo, hi = (parse_real(part, f"axis {name}: {end}") for part, end in zip(parts, ("lo", "hi")))
    n = parse_integer(parts[2], f"axis {name}: n")
    if not 1 <= n <= MAX_POINTS:
        raise InputError(f"axis {text!r}: n must be in 1..{MAX_POINTS} (the map's point limit)")
    if n > 1 and not lo < hi:
        raise InputError(f"axis {text!r}: lo must be < hi")
    values = tuple(float(v) for v in np.linspace(lo, hi, n))
    for value in (values[0], values[-1]):
        params[name].check(value, family.name)
    if params[name].integer and any(v != round(v) for v in values):
        raise InputError(
            f"axis {text!r}: {family.name}.{name} is an integer; pick lo:hi:n that give whole numbers"
        )
    return Axis(name, values)


@dataclass(frozen=True)
class MapRequest:
    """A validated map: the family (and fixed knobs), axes, claim, metric, ``k``, objectives.

    Attributes
    ----------
    family : str
        The family's name.
    fixed : dict
        Knobs fixed in the call.
    x, y : Axis
        The axes (``y`` None for a one-dimensional map).
    claim, metric : str
        The claim and its metric.
    k : int or None
        None: every ``k = 1..V``, the margin the smallest decided one.
    objectives : tuple of str
        The paper's side and the other.
    seconds : float
        The modelled time of every point, one thread.
    """

    __repr__ = short_repr

    family: str
    fixed: dict
    x: Axis
    y: Axis | None
    claim: str
    metric: str
    k: int | None  # None: every k = 1..V, the margin is the smallest decided one
    objectives: tuple[str, str]
    seconds: float = 0.0  # modelled time of every point, one thread

    def header(self) -> dict:
        """What identifies the map in its results file (the points are derived from it)."""
        return {
            "map": self.family, "fixed": self.fixed, "claim": self.claim,
            "metric": self.metric, "k": "all" if self.k is None else self.k,
            "objectives": list(self.objectives),
            "x": {"name": self.x.name, "values": list(self.x.values)},
            "y": None if self.y is None else {"name": self.y.name, "values": list(self.y.values)},
        }  # fmt: skip

    @property
    def point(self) -> Callable[[dict], dict]:
        """What computes one configuration's row (for :func:`~lookaround.simulations.engine.run_plan`)."""
        return map_point

    def configs(self) -> list[dict]:
        """One configuration per grid point, x fastest."""
        ys = self.y.values if self.y else (None,)
        out = []
        for yv in ys:
            for xv in self.x.values:
                knobs = {**self.fixed, self.x.name: xv}
                if self.y is not None:
                    knobs[self.y.name] = yv
                out.append({"family": self.family, "knobs": knobs, "claim": self.claim,
                            "metric": self.metric, "k": self.k,
                            "objectives": list(self.objectives)})  # fmt: skip
        return out


def plan_map(
    family_text: str,
    *,
    x: str,
    y: str | None,
    claim: str,
    metric: str,
    k: str,
    objectives: str | None,
) -> MapRequest:
    """Validate a map request completely, every grid point included, before any work.

    Parameters
    ----------
    family_text : str
        A family, knobs may be fixed (``"markov2(V=3,T=6)"``).
    x, y : str
        The axes, ``NAME=lo:hi:n`` (``y`` may be None).
    claim, metric : str
        The claim and its metric.
    k : str
        An integer, or ``"all"``.
    objectives : str, optional
        ``"A,B"``: the paper's side and the other (default per claim).

    Returns
    -------
    MapRequest
    """
    family, fixed = parse_family_call(family_text if "(" in family_text else family_text + "()")
    chosen = check_claim_metric(claim, metric)
    x_axis = parse_axis(x, family)
    y_axis = parse_axis(y, family) if y else None
    if y_axis is not None and y_axis.name == x_axis.name:
        raise InputError(f"x and y both vary {x_axis.name}", field="x")
    for axis in filter(None, (x_axis, y_axis)):
        if axis.name in fixed:
            raise InputError(f"{family.name}.{axis.name} is both fixed and an axis")
    points = len(x_axis.values) * (len(y_axis.values) if y_axis else 1)
    if points > MAX_POINTS:
        raise InputError(f"the map has {points} points, more than {MAX_POINTS}; use fewer")
    request = MapRequest(family.name, fixed, x_axis, y_axis, claim, metric,
                         _parse_k(k), _parse_pair(objectives, claim, chosen))  # fmt: skip
    seconds = 0.0
    for config in request.configs():  # every point is a valid source with valid objectives
        source = source_from_dict(family.spec(config["knobs"]))
        seconds += point_seconds(
            source, _objectives_of(config, source), metric=chosen, k=config["k"]
        )
    check_seconds(seconds, f"the map: {points} points of",
                  "use fewer points, one --k, or a smaller V or T", jobs=True)  # fmt: skip
    return replace(request, seconds=seconds)


def _parse_k(text: str) -> int | None:
    if text == "all":
        return None
    try:
        value = parse_integer(text, "k")
    except InputError:
        raise InputError(f"k must be an integer >= 1 or 'all', got {text[:40]!r}") from None
    if value < 1:
        raise InputError(f"k must be an integer >= 1 or 'all', got {value}")
    return value


def _parse_pair(text: str | None, claim: str, metric: Metric) -> tuple[str, str]:
    if text is None:
        return default_objectives(claim, metric)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise InputError(
            f"objectives must be two different objectives A,B, got {text!r}", field="objectives"
        )
    return parts[0], parts[1]


def _objectives_of(config: dict, source: Source) -> tuple[str, str]:
    winner, other = (parse_objective(n, source.length).name for n in config["objectives"])
    if config["k"] is not None:
        check_k(config["k"], source.vocab)
    return winner, other


def _past_rank(exact: ExactSource, pair: tuple[str, str], k: int) -> bool:
    """Whether ``k`` is past both sides' ranks (``s_(k+1) = 0`` on both): there a metric of
    ``s_(k+1)`` alone ties by construction, and ``--k all`` leaves such a tie out."""
    return all(
        exact.analysis(name, k).level("context").singular_values[k] <= AMBIGUITY_TOL
        for name in pair
    )


def map_point(config: dict) -> dict:
    """One grid point: both sides' values, the signed margin and the verdict (a sweep row).

    Parameters
    ----------
    config : dict
        One grid point of a :class:`MapRequest`.

    Returns
    -------
    dict
    """
    spec = FAMILIES[config["family"]].spec(config["knobs"])
    exact = ExactSource(source_from_dict(spec))
    winner, other = _objectives_of(config, exact.source)
    metric = METRICS[config["metric"]]
    # --k all: the smallest margin over k, ties past both ranks left out
    ks = [config["k"]] if config["k"] is not None else range(1, exact.source.vocab + 1)
    if not metric.uses_k:
        ks = [1]
    best = None
    for k in ks:
        if unsettled(exact, metric, winner=winner, other=other, k=k):
            continue
        a, b = metric.read(exact, winner, k), metric.read(exact, other, k)
        if config["k"] is None and a == b and _past_rank(exact, (winner, other), k):
            continue  # equal by construction (s_(k+1) = 0 on both sides), not by the source
        value = margin(metric.better, a, b)
        if best is None or value < best[0]:
            best = (value, k, a, b)
    row = {"hash": config_hash(config), "config": config}
    if best is None:
        return {**row, "verdict": "ambiguous", "margin": float("nan"), "k_used": None,
                "winner_value": float("nan"), "other_value": float("nan")}  # fmt: skip
    value, k, a, b = best
    verdict = decide(a, b, better=metric.better, tol=EXACT_TOL)
    return {**row, "verdict": verdict, "margin": value, "k_used": k,
            "winner_value": a, "other_value": b}  # fmt: skip
