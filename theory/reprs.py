"""Short reprs for result objects: the fields a reader checks first, never whole arrays.

A dataclass's generated repr prints every array in full (about 2,000 characters for a
``Source``) and mixes ``np.float64(...)`` with floats. :func:`short_repr` prints the class
and its fields with numbers to 4 significant digits, arrays as their shape and first values,
nested results by class name, and stops at :data:`LIMIT` characters.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Any

import numpy as np

__all__ = ["LIMIT", "short_repr"]

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
