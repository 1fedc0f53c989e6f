"""Figure 6: generation coverage and the exact excess loss per prefix length (T3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, axes_of, figure, legend_outside, line_style, styled
from lookaround.theory.coverage import GenerationReport, generation_report
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw", "plot_generation"]

NAME = "generation"
CAPTION = (
    "Coverage w(omega_l) and the exact excess generation loss of the population-optimal "
    "tabular predictor (uniform fallback) per prefix length l, markov preset (T=5); the weights "
    "are on a log scale, and an x marks a length an objective never trains on (w = 0). ar, "
    "vmlm and plm cover every length, so their excess is 0 at every l (markers side by side)."
)
OBJECTIVES = ("ar", "mlm:2", "vmlm", "plm")


def plot_generation(
    reports: Mapping[str, GenerationReport],
    *,
    ax: Sequence[Axes] | None = None,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """T3 per prefix length: coverage ``w(omega_l)`` (top; an ``x`` on the axis marks an
    uncovered length) and the exact excess loss (bottom, with a legend) of each objective's
    :func:`~lookaround.theory.coverage.generation_report`.

    Objectives sit side by side at each ``l`` so that equal values stay visible. Returns the
    two Axes drawn into (new ones by default).

    Parameters
    ----------
    reports : mapping of str to GenerationReport
        Reports by objective.
    ax : sequence of Axes, optional
        Two axes: the coverage weights and the excess losses.
    axes : sequence of Axes, optional
        Deprecated name of ``ax``.

    Returns
    -------
    sequence of Axes

    Examples
    --------
    >>> source = preset_source("markov")
    >>> reports = {s: generation_report(source, parse_objective(s, 5)) for s in ("ar", "mlm:2")}
    >>> top, bottom = plot_generation(reports)
    >>> [line.get_label() for line in bottom.get_lines()]
    ['ar', 'mlm:2']
    """
    given = axes_of(ax, axes, "plot_generation")
    top, bottom = given if given is not None else figure(COLUMN, 3.6, None, nrows=2, sharex=True)[1]
    lengths = np.arange(1, len(next(iter(reports.values())).weights) + 1)
    offsets = np.linspace(-0.3, 0.3, len(reports)) if len(reports) > 1 else np.zeros(1)
    width = 0.72 / len(reports)
    for offset, (spec, report) in zip(offsets, reports.items()):
        style = line_style(spec)
        top.bar(lengths + offset, report.weights, width=width, color=style["color"])
        # a log axis has no 0: an uncovered length is an x at the axis's foot
        gap = report.weights == 0
        top.plot(lengths[gap] + offset, np.full(gap.sum(), 0.06), linestyle="none", marker="x",
                 markersize=4, color=style["color"], transform=top.get_xaxis_transform(),
                 scaley=False)  # fmt: skip
        bottom.plot(lengths + offset, report.excess, label=spec, **style)
    top.set_yscale("log")
    top.set_ylabel("$w(\\omega_l)$")
    top.text(0.99, 0.97, "x: uncovered ($w = 0$)", transform=top.transAxes, ha="right",
             va="top", fontsize="x-small")  # fmt: skip
    if len(reports) > 1:
        bottom.legend(fontsize="small")
    bottom.set_ylabel("excess loss (nats)")
    bottom.set_xlabel("prefix length l")
    bottom.set_xticks(lengths)
    return top, bottom


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 6 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = preset_source("markov")
    fig, axes = figure(COLUMN, 3.6, fig, nrows=2, sharex=True)
    reports = {s: generation_report(source, parse_objective(s, source.length)) for s in OBJECTIVES}
    plot_generation(reports, ax=axes)
    axes[1].get_legend().remove()  # the figure's one legend, below both panels
    # the lines' handles carry colour, marker and dash: one legend for both panels
    legend_outside(fig, axes[1], ncols=4)
    return fig
