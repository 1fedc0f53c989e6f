"""The validators of plain numbers every layer takes: counts, seeds, positive reals.

Each raises :class:`~lookaround.base.errors.InputError` whose message opens with the field the
caller names. A library caller names its parameter (``n``); the error then carries it as its
``field``, so the command line says the flag that set it (``--mc``) and Python says ``n``.
"""

from __future__ import annotations

import math

from lookaround.base.errors import InputError

__all__ = ["check_count", "check_positive", "check_seed"]


def check_count(value: object, field: str, *, low: int, high: int, what: str = "") -> int:
    """An integer in ``[low, high]``; past ``high`` the message says what it would cost.

    Parameters
    ----------
    value : object
        What the caller passed.
    field : str
        Its name, as the message opens with it (a parameter or a flag).
    low, high : int
        The admissible range, both ends included.
    what : str
        What ``high`` costs, said in the message.

    Returns
    -------
    int
        ``value``, checked.

    Examples
    --------
    >>> check_count(10**10, "n", low=2, high=20_000_000, what="draws of T = 5 tokens")
    Traceback (most recent call last):
    ...
    lookaround.base.errors.InputError: n must be an integer in [2, 20000000] (draws of T = 5 tokens), got 10000000000
    """
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        note = f" ({what})" if what else ""
        raise _error(f"{field} must be an integer in [{low}, {high}]{note}, got {value!r}", field)
    return value


def check_seed(value: object, field: str = "seed") -> int:
    """A seed of numpy's ``SeedSequence``: an integer in ``[0, 2^63)``.

    Parameters
    ----------
    value : object
        What the caller passed.
    field : str
        Its name, as the message opens with it.

    Returns
    -------
    int
        ``value``, checked.
    """
    return check_count(value, field, low=0, high=2**63 - 1)


def check_positive(value: object, field: str) -> float:
    """A finite real number ``> 0`` (a learning rate, a memory limit in GB, a budget).

    Parameters
    ----------
    value : object
        What the caller passed.
    field : str
        Its name, as the message opens with it.

    Returns
    -------
    float
        ``value`` as a float.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not (math.isfinite(value) and value > 0)
    ):
        raise _error(f"{field} must be a finite number > 0, got {value!r}", field)
    return float(value)


def _error(message: str, field: str) -> InputError:
    """The error, carrying ``field`` when it is a parameter's name (not a phrase or a flag)."""
    return InputError(message, field=field if field.isidentifier() else None)
