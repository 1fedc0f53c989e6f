"""How results present themselves: a short repr, a labelled summary and a DataFrame.

A dataclass's generated repr prints every array in full (about 2,000 characters for a
``Source``) and mixes ``np.float64(...)`` with floats. :func:`short_repr` prints the class
and its fields with numbers to 4 significant digits, arrays as their shape and first values,
nested results by class name, and stops at :data:`LIMIT` characters. :class:`Presented`
gives every result type ``summary()`` (every field, labelled, one per line) and
``to_frame()`` (a pandas DataFrame, with the ``pandas`` extra).
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

from lookaround.base.encoding import jsonable, restore_nonfinite
from lookaround.base.extras import require

__all__ = ["LIMIT", "NOISE", "SHOWN", "Presented", "aligned", "number", "short_repr"]

LIMIT = 299
NOISE = 1e-12  # below this a printed number is rounding residue (numerics.SLACK, one layer up)
SHOWN = 16  # values of a sequence summary() prints before it cuts (a repr prints 3)


def aligned(table: list[list[str]]) -> list[str]:
    """The rows of a text table, each cell padded to its column's width, indented by two.

    Parameters
    ----------
    table : list of list of str
        Rows of cells, the header first; every row as long as the header.

    Returns
    -------
    list of str

    Examples
    --------
    >>> aligned([["k", "value"], ["12", "0.5"]])
    ['  k   value', '  12  0.5']
    """
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in table]


def number(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, and ``0`` below :data:`NOISE` in magnitude.

    The exact passes leave rounding residue such as ``s_3 = 1.6e-16`` where the value is 0;
    text shows 0 and the JSON keeps the float as computed.

    Parameters
    ----------
    value : float
        The number.
    digits : int
        Significant digits.

    Returns
    -------
    str

    Examples
    --------
    >>> number(0.123456789), number(1.6e-16), number(-3e-30, 6), number(float("nan"))
    ('0.1235', '0', '0', 'nan')
    """
    return "0" if abs(value) < NOISE else f"{value:.{digits}g}"


def _value(value: Any, items: int = 3) -> str:
    """``value`` in a few characters: numbers to 4 digits, the first ``items`` of a sequence
    (all of a sequence no longer than ``items``), strings cut past 24 characters when
    ``items`` is the repr's 3."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return str(value if value is None else bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return number(float(value))
    if isinstance(value, np.ndarray):
        head = ", ".join(_value(v, items) for v in value.ravel()[:items])
        more = f", ... ({value.size} values)" if value.size > items else ""
        return f"array{value.shape}[{head}{more}]"
    if isinstance(value, str):
        return repr(value if len(value) <= 24 or items > 3 else value[:21] + "...")
    if dataclasses.is_dataclass(value):
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_value(v, items) for v in value[:items])
        inner += f", ... ({len(value)} values)" if len(value) > items else ""
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        shown = list(value.items())[:items]
        more = ", ...}" if len(value) > items else "}"
        return "{" + ", ".join(f"{k}: {_value(v, items)}" for k, v in shown) + more
    return f"<{type(value).__name__}>"


def short_repr(self: Any) -> str:
    """``Name(field=value, ...)`` of a dataclass, at most :data:`LIMIT` characters.

    Examples
    --------
    >>> from lookaround.theory.presets import preset_source
    >>> short_repr(preset_source("topic"))[:60]
    'Source(prior=array(2,)[0.5, 0.5], init=array(2, 1)[1, 1], tr'
    """
    shown = [f.name for f in dataclasses.fields(self) if f.repr]
    text = f"{type(self).__name__}(" + ", ".join(
        f"{name}={_value(getattr(self, name))}" for name in shown
    )
    return text + ")" if len(text) < LIMIT else text[: LIMIT - 4] + "...)"


class Presented:
    """What every result type offers beside its short repr.

    Examples
    --------
    >>> from lookaround.theory.analysis import analyze
    >>> from lookaround.theory.objectives import parse_objective
    >>> from lookaround.theory.presets import preset_source
    >>> result = analyze(preset_source("topic"), parse_objective("ar", 4), 1, level="context")
    >>> print(result.summary().splitlines()[5])
      context.phi               0.3905
    >>> round(float(result.to_frame().loc[0, "context.phi"]), 4)
    0.3905
    """

    def _record(self) -> dict:
        """The result as plain Python (its JSON form where it has one)."""
        to_dict = getattr(self, "to_dict", None)
        return restore_nonfinite(jsonable(to_dict() if callable(to_dict) else self))

    def _frame_rows(self) -> list[dict]:
        """The rows of :meth:`to_frame`: one, unless the result is a table."""
        return [self._record()]

    def to_frame(self) -> Any:
        """A :class:`pandas.DataFrame`, nested fields flattened with ``.``: one row, or one
        per entry of a table-like result. Needs the ``pandas`` extra."""
        pandas = require("pandas", "pandas", f"{type(self).__name__}.to_frame()")
        return pandas.DataFrame([dict(_flatten(row)) for row in self._frame_rows()])

    def summary(self) -> str:
        """Every field on its own labelled line (nested ones as ``part.field``)."""
        flat = dict(_flatten(self._record()))
        width = max(map(len, flat), default=0)
        rows = [f"  {name:<{width}}  {_value(value, SHOWN)}" for name, value in flat.items()]
        return "\n".join([type(self).__name__, *rows])


def _flatten(record: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for key, value in record.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out
