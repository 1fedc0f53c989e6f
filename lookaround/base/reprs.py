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

__all__ = ["LIMIT", "Presented", "short_repr"]

LIMIT = 299


def _value(value: Any) -> str:
    if value is None or isinstance(value, (bool, np.bool_)):
        return str(value if value is None else bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.4g}"
    if isinstance(value, np.ndarray):
        head = ", ".join(_value(v) for v in value.ravel()[:3])
        more = ", ..." if value.size > 3 else ""
        return f"array{value.shape}[{head}{more}]"
    if isinstance(value, str):
        return repr(value if len(value) <= 24 else value[:21] + "...")
    if dataclasses.is_dataclass(value):
        return f"<{type(value).__name__}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_value(v) for v in value[:3]) + (", ..." if len(value) > 3 else "")
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{k}: {_value(v)}" for k, v in list(value.items())[:3])
            + (", ...}" if len(value) > 3 else "}")
        )
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
        rows = [f"  {name:<{width}}  {_value(value)}" for name, value in flat.items()]
        return "\n".join([type(self).__name__, *rows])


def _flatten(record: dict, prefix: str = "") -> list[tuple[str, Any]]:
    out = []
    for key, value in record.items():
        if isinstance(value, dict):
            out += _flatten(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out
