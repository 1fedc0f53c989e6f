"""The theorems a stress search pushes to their limits (docs/theory.md §5 and §7)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Theorem"]


class Theorem(StrEnum):
    """T2 and T2' (probe error within a bound) and T3' (a rate of the count estimator).

    Examples
    --------
    >>> Theorem("T2'").parts, Theorem.T3_PRIME.parts
    (('probe_error', 'bound'), ('excess', 'predicted'))
    """

    T2 = "T2"
    T2_PRIME = "T2'"
    T3_PRIME = "T3'"

    @property
    def parts(self) -> tuple[str, str]:
        """The names of the stressed ratio's numerator and denominator."""
        return ("excess", "predicted") if self is Theorem.T3_PRIME else ("probe_error", "bound")
