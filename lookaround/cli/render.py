"""Text and JSON rendering of results: tables, numbers, durations."""

from __future__ import annotations

from lookaround.base.encoding import dumps, provenance
from lookaround.base.reprs import number


def dump(obj: dict) -> str:
    """One JSON record: provenance first, then the result (docs/json.md)."""
    return dumps({**provenance(), **obj})


def fmt(value) -> str:
    if isinstance(value, float):
        return number(value, 6)
    if isinstance(value, list):
        return (
            "[" + ", ".join(fmt(v) for v in value[:8]) + (", ..." if len(value) > 8 else "") + "]"
        )
    return str(value)


def table(title: str, rows: dict) -> str:
    width = max(len(k) for k in rows)
    return "\n".join([title] + [f"  {k:<{width}}  {fmt(v)}" for k, v in rows.items()])


def moved(counts: dict) -> str:
    """What a resume moved aside, said (a partial last line is an interrupted write)."""
    n = counts["quarantined"]
    if not n:
        return ""
    return f"; {n} line{'s' * (n > 1)} moved to {counts['out']}.corrupt"


def duration(seconds: float) -> str:
    """``12 s``, ``3.4 min`` or ``1.5 h``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 3600 else f"{seconds / 3600:.1f} h"
