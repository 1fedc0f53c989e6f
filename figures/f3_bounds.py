"""Figure 3: T2 and T2' bounds against the measured probe error as k grows."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, figure, legend_outside, line_style, styled
from lookaround.theory.analysis import analyze
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "draw"]

NAME = "bounds"
CAPTION = (
    "T2 (contexts) and T2' (samples) on sbm-walk under mlm:2: the bound 2 phi/(1 - s_{k+1}^2) "
    "never falls below the probe error, and both fall as k grows."
)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 3 into ``fig`` (a new figure by default) and return it."""
    source = preset_source("sbm-walk")
    objective = parse_objective("mlm:2", source.length)
    ks = np.arange(1, source.vocab + 1)
    results = [analyze(source, objective, int(k)) for k in ks]
    fig, axes = figure(COLUMN, 2.4, fig, ncols=2, sharey=True)
    for ax, level, symbol in zip(axes, ("context", "sample"), ("T2", "T2'")):
        bound = [getattr(r, level).bound for r in results]
        error = [getattr(r, level).probe_error for r in results]
        ax.plot(ks, np.minimum(bound, 2.0), "o-", color="#000000", label="bound")
        ax.plot(ks, error, label="probe error", **line_style("mlm"))
        ax.set_xlabel("features k")
        ax.set_title(f"{level} level ({symbol})")
    axes[0].set_ylabel("error (bound clipped at 2)")
    legend_outside(fig, axes[0], ncols=2)
    return fig
