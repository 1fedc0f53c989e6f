"""Figure 6: generation coverage and the exact excess loss per prefix length (T3)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, figure, legend_outside, line_style, styled
from lookaround.theory.coverage import generation_report
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw"]

NAME = "generation"
CAPTION = (
    "Coverage w(omega_l) and the exact excess generation loss of the population-optimal "
    "tabular predictor (uniform fallback) per prefix length l, markov source (T=5)."
)
OBJECTIVES = ("ar", "mlm:2", "vmlm", "plm")


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 6 into ``fig`` (a new figure by default) and return it."""
    source = preset_source("markov")
    fig, axes = figure(COLUMN, 3.6, fig, nrows=2, sharex=True)
    lengths = np.arange(1, source.length)
    offsets = np.linspace(-0.3, 0.3, len(OBJECTIVES))
    for offset, spec in zip(offsets, OBJECTIVES):
        rep = generation_report(source, parse_objective(spec, source.length))
        style = line_style(spec)
        axes[0].bar(lengths + offset, rep.weights, width=0.18, color=style["color"], label=spec)
        axes[1].plot(lengths, rep.excess, **style)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("$w(\\omega_l)$ (0 = uncovered)")
    axes[1].set_ylabel("excess loss (nats)")
    axes[1].set_xlabel("prefix length l")
    axes[1].set_xticks(lengths)
    legend_outside(fig, axes[0], ncols=4)
    return fig
