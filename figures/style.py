"""One style for every figure: column width, fonts, colors per objective, deterministic files."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLUMN = 3.4  # inches: one column of a two-column paper
WIDE = 7.0  # both columns
COLORS = {
    "ar": "#1f77b4",
    "ar:last": "#7f7f7f",
    "dar": "#2ca02c",
    "mlm": "#d62728",
    "vmlm": "#9467bd",
    "plm": "#ff7f0e",
    "prefixlm": "#8c564b",
    "span": "#e377c2",
}
RC = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "lines.linewidth": 1.3,
    "lines.markersize": 4,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 150,
    "savefig.dpi": 200,
    "svg.hashsalt": "lookaround",
}
FORMATS = ("png", "pdf", "svg")
# Timestamps and tool versions in metadata would make the same figure differ byte for byte.
METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None},
    "svg": {"Date": None},
}


def color(objective: str) -> str:
    """The color of an objective's family (``mlm:2`` and ``mlm:0.4`` share ``mlm``'s)."""
    return COLORS.get(objective, COLORS.get(objective.split(":")[0], "black"))


def figure(width: float = COLUMN, height: float = 2.4, **kwargs):
    """A new figure and axes in the house style."""
    plt.rcParams.update(RC)
    return plt.subplots(figsize=(width, height), layout="constrained", **kwargs)


def save(fig, path: Path, fmt: str) -> Path:
    """Write ``fig`` as ``path.fmt`` without timestamps, close it, return the file."""
    target = path.with_suffix(f".{fmt}")
    fig.savefig(target, format=fmt, metadata=METADATA[fmt])
    plt.close(fig)
    return target
