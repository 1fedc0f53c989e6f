"""The one JSON encoder of lookaround: one rule for non-finite numbers, and provenance.

JSON has no infinity, yet infinite values are ordinary here: T2's bound is infinite on a
disconnected graph, ``chi`` is infinite when a length is uncovered. Every output spells them
the same way, as the strings ``"inf"``, ``"-inf"`` and ``"nan"`` (docs/json.md), so that a
reader can restore them losslessly with :func:`restore_nonfinite`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import platform
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy

from lookaround.base.version import __version__

__all__ = ["SCHEMA_VERSION", "dumps", "jsonable", "provenance", "restore_nonfinite"]

SCHEMA_VERSION = 1
NONFINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def jsonable(value: Any) -> Any:
    """``value`` with numpy types made Python and non-finite floats spelled as strings.

    Parameters
    ----------
    value : object
        A dataclass, mapping, sequence, numpy value or plain value.

    Returns
    -------
    object
        Built of dicts, lists, str, int, float, bool and None only.

    Examples
    --------
    >>> jsonable({"bound": float("inf"), "s": np.array([1.0, -np.inf]), "n": np.int64(3)})
    {'bound': 'inf', 's': [1.0, '-inf'], 'n': 3}
    >>> jsonable(float("nan"))
    'nan'
    """
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value


def dumps(value: Any, **kwargs: Any) -> str:
    """Strict JSON text of ``value`` (``allow_nan=False``: a stray NaN is a bug, not output).

    Parameters
    ----------
    value : object
        Anything :func:`jsonable` converts: dataclasses, numpy scalars and arrays, mappings.
    **kwargs
        Passed to :func:`json.dumps` (``indent``, ``sort_keys``).

    Returns
    -------
    str

    Examples
    --------
    >>> dumps({"chi": float("inf")})
    '{"chi": "inf"}'
    """
    return json.dumps(jsonable(value), allow_nan=False, **kwargs)


def restore_nonfinite(value: Any) -> Any:
    """The inverse of the string spelling: ``"inf"`` back to ``float("inf")``, recursively.

    Parameters
    ----------
    value : object
        A value read from JSON.

    Returns
    -------
    object
        The same structure with ``"inf"``, ``"-inf"`` and ``"nan"`` as floats.

    Examples
    --------
    >>> restore_nonfinite({"bound": "inf", "s": [1.0, "nan"], "name": "ar"})
    {'bound': inf, 's': [1.0, nan], 'name': 'ar'}
    """
    if isinstance(value, str):
        return NONFINITE.get(value, value)
    if isinstance(value, dict):
        return {k: restore_nonfinite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore_nonfinite(v) for v in value]
    return value


def provenance() -> dict[str, Any]:
    """``schema_version`` and the versions that produced an output, for every JSON record.

    Examples
    --------
    >>> sorted(provenance()["versions"])
    ['lookaround', 'numpy', 'python', 'scipy']
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "versions": {
            "lookaround": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
    }
