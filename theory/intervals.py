"""Point estimates with confidence intervals: the typed result of every estimating mode.

The plug-in mode (:mod:`lookaround.theory.estimates`) and the exact-conditional Monte Carlo
mode (:mod:`lookaround.theory.montecarlo`) both estimate the context-level numbers of T2:
``s_1..s_{k+1}``, ``phi``, the probe error and the bound. :class:`ContextEstimates` holds them
by name; its JSON form is ``{name: estimate, name + "_ci": [low, high] or null}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from lookaround.base.reprs import Presented, short_repr

__all__ = ["ContextEstimates", "Interval"]


@dataclass(frozen=True)
class Interval:
    """An estimate and its confidence interval; ``low`` and ``high`` are None when no interval
    can be trusted (the mode's output says why).

    Attributes
    ----------
    estimate : float
    low, high : float or None
        The interval's ends; None when no interval can be trusted.

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
        if self.low is None or self.high is None:
            return False
        return bool(self.low <= value <= self.high)

    @property
    def width(self) -> float:
        if self.low is None or self.high is None:
            return float("nan")
        return self.high - self.low

    def squared(self) -> Interval:
        """The interval of ``x^2`` for ``x >= 0`` (a singular value's, as an eigenvalue's)."""
        if self.low is None or self.high is None:
            return Interval(self.estimate**2)
        return Interval(self.estimate**2, self.low**2, self.high**2)


@dataclass(frozen=True)
class ContextEstimates(Presented):
    """``s_1..s_{k+1}`` (``singular_values[j]`` is ``s_{j+1}``), ``phi``, the argmax probe's
    error and T2's bound ``2 phi / (1 - s_{k+1}^2)``, each an :class:`Interval`.

    Attributes
    ----------
    singular_values : tuple of Interval
        ``singular_values[j]`` is ``s_{j+1}``.
    phi : Interval
    probe_error : Interval
    bound : Interval
        T2's bound ``2 phi / (1 - s_(k+1)^2)``.
    """

    __repr__ = short_repr

    singular_values: tuple[Interval, ...]
    phi: Interval
    probe_error: Interval
    bound: Interval

    def named(self, level: str = "context") -> list[tuple[str, Interval]]:
        """``[("s_1", ...), ..., ("phi", ...), ("probe_error", ...), ("bound", ...)]``.

        For the sample level the same numbers of ``Qbar`` are named as T2' names them: the
        sample graph's ``lambda_j = s_j(Qbar)^2`` and ``alpha`` (docs/theory.md §4.2).
        """
        if level == "sample":
            values = [(f"lambda_{j + 1}", v.squared()) for j, v in enumerate(self.singular_values)]
            values.append(("alpha", self.phi))
        else:
            values = [(f"s_{j + 1}", v) for j, v in enumerate(self.singular_values)]
            values.append(("phi", self.phi))
        return values + [("probe_error", self.probe_error), ("bound", self.bound)]

    def record(self, level: str = "context") -> dict:
        """``{name: estimate, name_ci: [low, high] or None}`` and the names without interval."""
        out: dict = {}
        named = self.named(level)
        for name, value in named:
            out[name] = value.estimate
            out[f"{name}_ci"] = [value.low, value.high] if value.reliable else None
        unreliable = [name for name, value in named if not value.reliable]
        if unreliable:
            out["unreliable"] = unreliable
        return out
