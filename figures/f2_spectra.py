"""Figure 2: singular values of Abar under several objectives on one source."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import figure, legend_outside, line_style, styled
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw"]

NAME = "spectra"
CAPTION = "Singular values s_i of the normalized co-occurrence Abar on the sbm-walk source."
OBJECTIVES = ("ar", "ar:last", "dar:2", "mlm:2", "vmlm")


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 2 into ``fig`` (a new figure by default) and return it."""
    source = preset_source("sbm-walk")
    fig, ax = figure(fig=fig)
    for spec in OBJECTIVES:
        res = analyze(source, parse_objective(spec, source.length), source.vocab, level="context")
        values = res.level("context").spectrum[: source.vocab]
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            label=spec,
            **line_style(spec),
        )
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value $s_i$ of $\\bar A$")
    legend_outside(fig, ax, ncols=5)
    return fig
