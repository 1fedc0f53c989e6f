"""Figure 7: T3', the count estimator's excess loss against N w(omega_l), slope -1."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import color, figure, legend_outside, line_style, styled
from lookaround.simulations.rates import count_estimator_rate
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "SIZES", "draw"]

NAME = "rate"
CAPTION = (
    "T3': exact excess loss of add-1/2 count estimators (3 seeds) against N w(omega_l), with "
    "the predicted sum_c (V_c - 1)/(2 N w) (lines); vmlm's lengths sit in the pre-asymptotic "
    "regime, below the line, at these N."
)
OBJECTIVES = ("ar", "dar:2", "vmlm")
SIZES = (5_000, 20_000, 80_000, 320_000)


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 7 into ``fig`` (a new figure by default) and return it."""
    source = preset_source("hmm")
    fig, ax = figure(fig=fig)
    for spec in OBJECTIVES:
        results = [
            count_estimator_rate(source, parse_objective(spec, source.length), n) for n in SIZES
        ]
        x = np.concatenate([r.effective_draws for r in results])
        y = np.concatenate([r.excess for r in results])
        ax.loglog(x, y, label=spec, alpha=0.8, **{**line_style(spec), "linestyle": "none"})
        # the prediction is c_l / (N w): one line per length, through its constant
        for l in range(source.length - 1):
            xs = np.array([r.effective_draws[l] for r in results])
            ys = np.array([r.predicted[l] for r in results])
            if np.all(np.isfinite(ys)):
                ax.loglog(xs, ys, "-", color=color(spec), lw=0.7, alpha=0.6)
    ax.set_xlabel("$N\\,w(\\omega_l)$ (draws of the prefix pattern)")
    ax.set_ylabel("excess loss (nats)")
    legend_outside(fig, ax, ncols=3, title="lines: the prediction, slope $-1$")
    return fig
