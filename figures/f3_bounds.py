"""Figure 3: T2 and T2' bounds against the measured probe error as k grows."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, figure, legend_outside, line_style, styled
from lookaround.theory.analysis import Analysis, analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "draw", "plot_bounds"]

NAME = "bounds"
CAPTION = (
    "T2 (contexts) and T2' (samples) on sbm-walk under mlm:2: the bound 2 phi/(1 - s_{k+1}^2) "
    "never falls below the probe error, and both fall as k grows."
)


def plot_bounds(
    results: Sequence[Analysis], *, level: str = "context", ax: Axes | None = None
) -> Axes:
    """T2 (``level="context"``) or T2' (``"sample"``): the bound against the probe error of
    each analysis, against its ``k`` (a bound above 2 is drawn at 2, and the panel says so
    where one is). Returns the Axes drawn into.

    Parameters
    ----------
    results : sequence of Analysis
        Analyses to draw.
    level : {"context", "sample"}
        Whose probe error and bound.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from lookaround.theory.sources import source_from_dict
    >>> source = source_from_dict({"family": "iid", "prior": [0.5, 0.5], "length": 3,
    ...                            "emit": [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]})
    >>> results = [analyze(source, parse_objective("mlm:1", 3), k) for k in (1, 2, 3)]
    >>> [line.get_label() for line in plot_bounds(results).get_lines()]
    ['bound', 'probe error']
    """
    if ax is None:
        ax = figure(COLUMN / 2, 2.4, None)[1]
    assert ax is not None
    ks = [r.k for r in results]
    levels = [r.level(level) for r in results]
    bounds = np.array([lv.bound for lv in levels])
    ax.plot(ks, np.minimum(bounds, 2.0), "o-", color="#000000", label="bound")
    if np.any(bounds > 2.0):  # an error is at most 1: a bound past 2 says nothing more
        ax.text(0.98, 0.97, "bounds > 2 drawn at 2", transform=ax.transAxes, ha="right",
                va="top", fontsize="x-small")  # fmt: skip
    ax.plot(ks, [lv.probe_error for lv in levels], label="probe error", **line_style("mlm"))
    ax.set_xlabel("features k")
    theorem = "T2" if level == "context" else "T2'"
    ax.set_title(f"{level} level ({theorem})")
    return ax


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 3 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = preset_source("sbm-walk")
    objective = parse_objective("mlm:2", source.length)
    results = [analyze(source, objective, k) for k in range(1, source.vocab + 1)]
    fig, axes = figure(COLUMN, 2.4, fig, ncols=2, sharey=True)
    for ax, level in zip(axes, ("context", "sample")):
        plot_bounds(results, level=level, ax=ax)
    axes[0].set_ylabel("probe error and bound")
    legend_outside(fig, axes[0], ncols=2)
    return fig
