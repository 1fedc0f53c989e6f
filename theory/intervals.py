"""Point estimates with confidence intervals: the typed result of every estimating mode.

The plug-in mode (:mod:`lookaround.theory.estimates`) and the exact-conditional Monte Carlo
mode (:mod:`lookaround.theory.montecarlo`) both estimate the context-level numbers of T2:
``s_1..s_{k+1}``, ``phi``, the probe error and the bound. :class:`ContextEstimates` holds them
by name; its JSON form is ``{name: estimate, name + "_ci": [low, high] or null}``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ContextEstimates", "Interval"]


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval; ``low`` and ``high`` are None when no interval
    can be trusted (the mode's output says why).

    Examples
    --------
    >>> Interval(0.5, 0.4, 0.6).covers(0.45), Interval(0.5, None, None).covers(0.5)
    (True, False)
    """

    estimate: float
    low: float | None = None
    high: float | None = None

    @property
    def reliable(self) -> bool:
        return self.low is not None and self.high is not None

    def covers(self, value: float) -> bool:
        """Whether ``value`` lies in the interval (never, without an interval)."""
        return bool(self.reliable and self.low <= value <= self.high)

    @property
    def width(self) -> float:
        return self.high - self.low if self.reliable else float("nan")


@dataclass(frozen=True)
class ContextEstimates:
    """``s_1..s_{k+1}`` (``singular_values[j]`` is ``s_{j+1}``), ``phi``, the argmax probe's
    error and T2's bound ``2 phi / (1 - s_{k+1}^2)``, each an :class:`Interval`."""

    singular_values: tuple[Interval, ...]
    phi: Interval
    probe_error: Interval
    bound: Interval

    def named(self) -> list[tuple[str, Interval]]:
        """``[("s_1", ...), ..., ("phi", ...), ("probe_error", ...), ("bound", ...)]``."""
        values = [(f"s_{j + 1}", v) for j, v in enumerate(self.singular_values)]
        return values + [
            ("phi", self.phi),
            ("probe_error", self.probe_error),
            ("bound", self.bound),
        ]

    def record(self) -> dict:
        """``{name: estimate, name_ci: [low, high] or None}`` and the names without interval."""
        out: dict = {}
        for name, value in self.named():
            out[name] = value.estimate
            out[f"{name}_ci"] = [value.low, value.high] if value.reliable else None
        unreliable = [name for name, value in self.named() if not value.reliable]
        if unreliable:
            out["unreliable"] = unreliable
        return out
