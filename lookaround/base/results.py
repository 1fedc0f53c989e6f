"""Results files into pandas: sweep and map rows (JSON lines) or one ``--json`` record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lookaround.base.encoding import restore_nonfinite
from lookaround.base.errors import InputError
from lookaround.base.extras import require
from lookaround.base.files import regular_file

__all__ = ["load_results", "read_records"]


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a results file, non-finite numbers restored (docs/json.md).

    A JSON-lines file gives one record per run (a sweep's header line, which holds the grid,
    is skipped); a file holding one JSON object (``analyze --json > out.json``) gives one.

    Parameters
    ----------
    path : str or Path
        A results file.

    Returns
    -------
    list of dict

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.jsonl"
    >>> _ = path.write_text('{"grid_hash": "ab", "grid": {}}\\n{"k": 1, "bound": "inf"}\\n')
    >>> read_records(path)
    [{'k': 1, 'bound': inf}]
    """
    try:
        regular_file(path, "results file")  # a FIFO would block, a device never end
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(path)!r} cannot be read: {exc}") from None
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    lines = [whole] if isinstance(whole, dict) else None
    if lines is None:
        lines = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if not isinstance(record, dict):
                raise InputError(f"{path}:{number} is corrupt (not a JSON object)")
            lines.append(record)
    return [restore_nonfinite(r) for r in lines if "grid_hash" not in r]


def load_results(path: str | Path):
    """A :class:`pandas.DataFrame` of a results file, nested fields flattened with ``.``.

    Needs the ``pandas`` extra (``pip install 'lookaround[pandas]'``).

    Parameters
    ----------
    path : str or Path
        A results file of ``sweep``, ``map`` or ``pretrain`` (one JSON record a line).

    Returns
    -------
    pandas.DataFrame
        One row a record, nested keys flattened.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "r.json"
    >>> _ = path.write_text('{"k": 2, "context": {"phi": 0.25, "bound": "inf"}}')
    >>> frame = load_results(path)
    >>> list(frame.columns), float(frame.loc[0, "context.bound"])
    (['k', 'context.phi', 'context.bound'], inf)
    """
    pandas = require("pandas", "pandas", "load_results")
    return pandas.json_normalize(read_records(path))
