"""Figure 2: singular values of Abar under several objectives on one source."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, figure, legend_outside, line_style, styled
from lookaround.theory.analysis import Analysis, analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw", "plot_spectra"]

NAME = "spectra"
CAPTION = (
    "Singular values s_i of the normalized co-occurrence Abar on the sbm-walk preset "
    "(two blocks of 3 tokens, T=4), i = 1..V, under five objectives, drawn side by side at each "
    "i so that close spectra stay visible (ar and ar:last nearly coincide here)."
)
OBJECTIVES = ("ar", "ar:last", "dar:2", "mlm:2", "vmlm")


def plot_spectra(analyses: Mapping[str, Analysis], *, ax: Axes | None = None) -> Axes:
    """The context spectrum ``s_1..s_k`` of each analysis, one line per objective.

    ``analyses`` maps an objective's name to its :func:`~lookaround.theory.analysis.analyze`
    result (its context level, ``k = V`` for the whole spectrum). Returns the Axes drawn into.

    Parameters
    ----------
    analyses : mapping of str to Analysis
        Analyses by label.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from lookaround.theory.sources import source_from_dict
    >>> source = source_from_dict({"family": "iid", "prior": [0.5, 0.5], "length": 3,
    ...                            "emit": [[0.7, 0.2, 0.1], [0.1, 0.2, 0.7]]})
    >>> result = analyze(source, parse_objective("ar", 3), 2, level="context")
    >>> plot_spectra({"ar": result}).get_lines()[0].get_ydata()[0]
    np.float64(1.0)
    """
    if ax is None:
        ax = figure(COLUMN, 2.4, None)[1]
    assert ax is not None
    # objectives side by side at each i, so that close spectra (ar and ar:last on this
    # walk) both stay visible instead of one hiding under the other
    shifts = np.linspace(-0.15, 0.15, len(analyses)) if len(analyses) > 1 else np.zeros(1)
    for shift, (spec, result) in zip(shifts, analyses.items()):
        values = result.level("context").singular_values[: result.k]
        ax.plot(np.arange(1, values.size + 1) + shift, values, label=spec, **line_style(spec))
    ax.set_xticks(np.arange(1, max(r.k for r in analyses.values()) + 1))
    if len(analyses) > 1:
        ax.legend(fontsize="small")
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value $s_i$ of $\\bar A$")
    return ax


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 2 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = preset_source("sbm-walk")
    fig, ax = figure(fig=fig)
    analyses = {
        spec: analyze(source, parse_objective(spec, source.length), source.vocab, level="context")
        for spec in OBJECTIVES
    }
    plot_spectra(analyses, ax=ax)
    ax.get_legend().remove()  # the figure's legend, above the panel
    legend_outside(fig, ax, ncols=3)  # five entries do not fit one column's width
    return fig
