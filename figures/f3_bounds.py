"""Figure 3: T2 and T2' bounds against the measured probe error as k grows."""

from __future__ import annotations

import numpy as np

from figures.style import COLUMN, figure
from theory.analysis import analyze
from theory.objectives import parse_objective
from theory.presets import preset_source

NAME = "bounds"
CAPTION = (
    "T2 (contexts) and T2' (samples) on sbm-walk under mlm:2: the bound 2 phi/(1 - s_{k+1}^2) "
    "never falls below the probe error, and both fall as k grows."
)


def draw():
    source = preset_source("sbm-walk")
    objective = parse_objective("mlm:2", source.length)
    ks = np.arange(1, source.vocab + 1)
    results = [analyze(source, objective, int(k)) for k in ks]
    fig, axes = figure(COLUMN, 2.4, ncols=2, sharey=True)
    for ax, level, symbol in zip(axes, ("context", "sample"), ("T2", "T2'")):
        bound = [getattr(r, level).bound for r in results]
        error = [getattr(r, level).probe_error for r in results]
        ax.plot(ks, np.minimum(bound, 2.0), "o-", color="#444444", label=f"{symbol} bound")
        ax.plot(ks, error, "s-", color="#d62728", label="probe error")
        ax.set_xlabel("features k")
        ax.set_title(f"{level} level")
    axes[0].set_ylabel("error (bound clipped at 2)")
    axes[0].legend(frameon=False)
    return fig
