"""Figure 6: generation coverage and the exact excess loss per prefix length (T3)."""

from __future__ import annotations

import numpy as np

from figures.style import COLUMN, color, figure
from theory.coverage import generation_report
from theory.objectives import parse_objective
from theory.presets import preset_source

NAME = "generation"
CAPTION = (
    "Coverage w(omega_l) and the exact excess generation loss of the population-optimal "
    "tabular predictor (uniform fallback) per prefix length l, markov source (T=5)."
)
OBJECTIVES = ("ar", "mlm:2", "vmlm", "plm")


def draw():
    source = preset_source("markov")
    fig, axes = figure(COLUMN, 3.6, nrows=2, sharex=True)
    lengths = np.arange(1, source.length)
    offsets = np.linspace(-0.3, 0.3, len(OBJECTIVES))
    for offset, spec in zip(offsets, OBJECTIVES):
        rep = generation_report(source, parse_objective(spec, source.length))
        style = {"color": color(spec), "label": spec}
        axes[0].bar(lengths + offset, rep.weights, width=0.18, **style)
        axes[1].plot(lengths, rep.excess, "o--" if spec == "plm" else "o-", **style)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("$w(\\omega_l)$ (0 = uncovered)")
    axes[1].set_ylabel("excess loss (nats)")
    axes[1].set_xlabel("prefix length l")
    axes[1].set_xticks(lengths)
    axes[0].legend(frameon=False, ncols=2)
    return fig
