"""One style for every figure, applied through ``matplotlib.rc_context`` only.

Importing this module changes no global state: no backend switch (the CLI alone picks Agg) and
no ``rcParams`` update, so a notebook keeps its inline figures and its own settings. The
palette is Okabe and Ito's, safe for the common colour-vision deficiencies, and every objective
also has its own marker and line style, so a figure reads in grey scale too.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure

__all__ = [
    "axes_of",
    "COLUMN",
    "DIVERGING",
    "FORMATS",
    "WIDE",
    "color",
    "figure",
    "legend_outside",
    "legends_to_figure",
    "line_style",
    "save",
    "styled",
]

COLUMN = 3.25  # inches: one column of an ICML page
WIDE = 6.75  # inches: the full text width of an ICML page
DIVERGING = "PuOr"  # colour-blind safe diverging map (ColorBrewer), centred by the caller

# Okabe & Ito (2008): colour, then a marker and a dash pattern of its own per family.
STYLES: dict[str, tuple[str, str, Any]] = {
    "ar": ("#0072B2", "o", "-"),
    "ar:last": ("#000000", "x", ":"),
    "dar": ("#009E73", "^", "-."),
    "mlm": ("#D55E00", "s", "--"),
    "vmlm": ("#CC79A7", "D", (0, (3, 1, 1, 1))),
    "plm": ("#E69F00", "v", (0, (5, 2))),
    "prefixlm": ("#56B4E9", "P", (0, (1, 1))),
    "span": ("#999999", "*", (0, (4, 1, 1, 1, 1, 1))),
}
CLASS_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7")
RC: dict[Any, Any] = {
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
    # Type 42 (TrueType) fonts: venue checkers reject the Type 3 fonts matplotlib embeds by default.
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "svg.hashsalt": "lookaround",
}
FORMATS = ("png", "pdf", "svg")
# Timestamps and tool versions in metadata would make the same figure differ byte for byte.
METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "Producer": None},
    "svg": {"Date": None},
}


def _family(objective: str) -> tuple[str, str, Any]:
    return STYLES.get(objective, STYLES.get(objective.split(":")[0], ("#000000", "o", "-")))


def color(objective: str) -> str:
    """The colour of an objective's family (``mlm:2`` and ``mlm:0.4`` share ``mlm``'s).

    Parameters
    ----------
    objective : str

    Returns
    -------
    str

    Examples
    --------
    >>> color("mlm:2") == color("mlm:0.4") != color("ar")
    True
    """
    return _family(objective)[0]


def line_style(objective: str) -> dict[str, Any]:
    """``color``, ``marker`` and ``linestyle`` keywords of an objective, for ``ax.plot``.

    Parameters
    ----------
    objective : str

    Returns
    -------
    dict

    Examples
    --------
    >>> line_style("ar")
    {'color': '#0072B2', 'marker': 'o', 'linestyle': '-'}
    """
    colour, marker, dashes = _family(objective)
    return {"color": colour, "marker": marker, "linestyle": dashes}


def styled(draw: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a figure function inside the house ``rc_context`` (text sizes are fixed when drawn).

    Parameters
    ----------
    draw : callable
        A function that returns a figure.

    Returns
    -------
    callable
    """

    @functools.wraps(draw)
    def inside(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(RC):
            return draw(*args, **kwargs)

    return inside


def figure(
    width: float = COLUMN, height: float = 2.4, fig: Figure | None = None, **subplots: Any
) -> tuple[Figure, Any]:
    """A figure (``fig``, or a new one of ``width x height`` inches) and its axes.

    A new figure is a bare :class:`~matplotlib.figure.Figure`, not a pyplot one: nothing is
    registered globally, so nothing is left open, and a notebook shows it when it is returned.

    Parameters
    ----------
    width, height : float
        Inches.
    fig : matplotlib.figure.Figure, optional
        A figure to reuse.
    subplots : dict
        Passed to ``Figure.subplots``.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or array of Axes
    """
    if fig is None:
        fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(**subplots)


def legend_outside(fig: Figure, ax: Any, ncols: int = 4, **kwargs: Any) -> None:
    """The legend of ``ax``'s labelled artists above the panels, never over the data.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    ax : Axes
        The axes whose handles are shown.
    ncols : int
    **kwargs
        Passed to ``Figure.legend``.
    """
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncols=ncols, frameon=False, **kwargs)


def legends_to_figure(fig: Figure, axes: Any, ncols: int = 4) -> None:
    """The panels' own legends (a ``plot_*`` draws one for a reader of a single panel) moved
    into one figure legend above the panels, each entry once.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    axes : iterable of Axes
        The panels whose legends move.
    ncols : int
    """
    entries: dict[str, Any] = {}
    for ax in axes:
        legend = ax.get_legend()
        if legend is None:
            continue
        for handle, text in zip(legend.legend_handles, legend.get_texts()):
            entries.setdefault(text.get_text(), handle)
        legend.remove()
    fig.legend(list(entries.values()), list(entries), loc="outside upper center", ncols=ncols,
               frameon=False)  # fmt: skip


def save(fig: Figure, path: Path, fmt: str) -> Path:
    """Write ``fig`` as ``path.fmt`` in the house style, without timestamps; return the file.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : Path
        The file, without or with its suffix.
    fmt : str
        ``png``, ``pdf`` or ``svg``.

    Returns
    -------
    Path
    """
    target = path.with_suffix(f".{fmt}")
    with matplotlib.rc_context(RC):
        fig.savefig(target, format=fmt, metadata=METADATA[fmt])
    return target


def axes_of(ax: Any, axes: Any, where: str) -> Any:
    """The Axes a multi-panel ``plot_*`` draws into: ``ax`` (a sequence), or the deprecated
    ``axes`` keyword of earlier releases, warned.

    Parameters
    ----------
    ax : sequence of Axes or None
        The ``ax=`` every ``plot_*`` takes.
    axes : sequence of Axes or None
        The old name.
    where : str
        The function, for the warning.

    Returns
    -------
    sequence of Axes or None

    Examples
    --------
    >>> axes_of(None, None, "plot_generation") is None
    True
    """
    if axes is None:
        return ax
    warnings.warn(f"{where}(axes=...) is deprecated and will be removed in 0.3; use ax=, as "
                  "every plot_* does", DeprecationWarning, stacklevel=3)  # fmt: skip
    return axes if ax is None else ax
