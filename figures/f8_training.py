"""Figure 8: training curves of the spectral and cross-entropy models against their optima."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from lookaround.figures.style import COLUMN, color, figure, legend_outside, line_style, styled
from lookaround.simulations.data import draw_patterns
from lookaround.simulations.evaluate import (
    conditional_entropy,
    exact_dense_cooccurrence,
    normalized_svd,
)
from lookaround.simulations.runs import DEFAULTS
from lookaround.simulations.tabular import fit_tabular
from lookaround.theory.bounds import spectral_optimum
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw"]

NAME = "training"
CAPTION = (
    "Tabular models trained on 50k draws from the hmm source, k=2: the spectral loss against "
    "T1's optimum -sum s_i^2 and the cross-entropy against the conditional entropy H(t|c)."
)
OBJECTIVES = ("ar", "mlm:2")


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 8 into ``fig`` (a new figure by default) and return it."""
    source = preset_source("hmm")
    fig, axes = figure(COLUMN, 2.4, fig, ncols=2)
    for spec in OBJECTIVES:
        objective = parse_objective(spec, source.length)
        draws = draw_patterns(source, objective, 50_000, seed=0)
        a, _ = exact_dense_cooccurrence(source, objective)
        optimum = spectral_optimum(normalized_svd(a)[2], 2)
        entropy = conditional_entropy(a)
        for ax, loss, floor in zip(axes, ("spectral", "ce"), (optimum, entropy)):
            cfg = DEFAULTS[("tabular", loss)]
            model = fit_tabular(
                draws, source.vocab, 2, loss=loss, steps=cfg["steps"], lr=cfg["lr"], seed=0
            )
            style = {**line_style(spec), "marker": None}
            ax.plot(np.arange(1, model.curve.size + 1), model.curve, label=spec, **style)
            ax.axhline(floor, color=color(spec), ls=":", lw=0.9)
            ax.set_xscale("log")
            ax.set_xlabel("step")
    axes[0].set_ylabel("training loss (dotted: optimum)")
    axes[0].set_title("spectral loss (T1)")
    axes[1].set_title("cross-entropy")
    legend_outside(fig, axes[0], ncols=2)
    return fig
