"""Figure 8: training curves of the spectral and cross-entropy models against their optima."""

from __future__ import annotations

import numpy as np

from figures.style import COLUMN, color, figure
from simulations.data import draw_patterns
from simulations.evaluate import conditional_entropy, exact_dense_cooccurrence, normalized_svd
from simulations.runs import DEFAULTS
from simulations.tabular import fit_tabular
from theory.bounds import spectral_optimum
from theory.objectives import parse_objective
from theory.presets import preset_source

NAME = "training"
CAPTION = (
    "Tabular models trained on 50k draws from the hmm source, k=2: the spectral loss against "
    "T1's optimum -sum s_i^2 and the cross-entropy against the conditional entropy H(t|c)."
)
OBJECTIVES = ("ar", "mlm:2")


def draw():
    source = preset_source("hmm")
    fig, axes = figure(COLUMN, 2.4, ncols=2)
    for spec in OBJECTIVES:
        objective = parse_objective(spec, source.length)
        draws = draw_patterns(source, objective, 50_000, seed=0)
        a, _ = exact_dense_cooccurrence(source, objective)
        optimum = spectral_optimum(normalized_svd(a)[2], 2)
        entropy = conditional_entropy(a)
        for ax, loss, floor in zip(axes, ("spectral", "ce"), (optimum, entropy)):
            cfg = DEFAULTS[("tabular", loss)]
            model = fit_tabular(draws, source.vocab, 2, loss, cfg["steps"], cfg["lr"], seed=0)
            ax.plot(np.arange(1, model.curve.size + 1), model.curve, color=color(spec), label=spec)
            ax.axhline(floor, color=color(spec), ls=":", lw=0.9)
            ax.set_xscale("log")
            ax.set_xlabel("step")
    axes[0].set_ylabel("training loss (dotted: optimum)")
    axes[0].set_title("spectral loss (T1)")
    axes[1].set_title("cross-entropy")
    axes[0].legend(frameon=False)
    return fig
