"""Figure 2: singular values of Abar under several objectives on one source."""

from __future__ import annotations

import numpy as np

from figures.style import color, figure
from theory.analysis import analyze
from theory.objectives import parse_objective
from theory.presets import preset_source

NAME = "spectra"
CAPTION = "Singular values s_i of the normalized co-occurrence Abar on the sbm-walk source."
OBJECTIVES = ("ar", "ar:last", "dar:2", "mlm:2", "vmlm")


def draw():
    source = preset_source("sbm-walk")
    fig, ax = figure()
    for spec in OBJECTIVES:
        res = analyze(source, parse_objective(spec, source.length), source.vocab, level="context")
        values = res.context.spectrum[: source.vocab]
        ax.plot(
            np.arange(1, values.size + 1),
            values,
            marker="o",
            color=color(spec),
            label=spec,
            linestyle="--" if spec == "ar:last" else "-",
        )
    ax.set_xlabel("index i")
    ax.set_ylabel("singular value $s_i$ of $\\bar A$")
    ax.legend(frameon=False)
    return fig
