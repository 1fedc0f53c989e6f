"""Figure 7: T3', the count estimator's excess loss against N w(omega_l), slope -1."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import color, figure, legend_outside, line_style, styled
from lookaround.simulations.rates import RateResult, count_estimator_rate
from lookaround.theory.objectives import parse_objective
from lookaround.theory.presets import preset_source

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "SIZES", "draw", "plot_rate"]

NAME = "rate"
CAPTION = (
    "T3': exact excess loss of add-1/2 count estimators (3 seeds) against N w(omega_l), with "
    "the predicted sum_c (V_c - 1)/(2 N w) (lines); vmlm's lengths sit in the pre-asymptotic "
    "regime, below the line, at these N."
)
OBJECTIVES = ("ar", "dar:2", "vmlm")
SIZES = (5_000, 20_000, 80_000, 320_000)


def plot_rate(results: Mapping[str, Sequence[RateResult]], *, ax: Axes | None = None) -> Axes:
    """T3' per objective: the excess loss of each :func:`count_estimator_rate` result against
    ``N w(omega_l)`` (points), and the predicted ``c_l / (N w)`` of each covered length
    (lines). Returns the Axes drawn into.

    Parameters
    ----------
    results : mapping of str to sequence of RateResult
        Results by objective, one per training size.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> source = preset_source("markov")
    >>> runs = {"ar": [count_estimator_rate(source, parse_objective("ar", 5), n) for n in (500, 2000)]}
    >>> plot_rate(runs).get_xscale()
    'log'
    """
    if ax is None:
        ax = figure(fig=None)[1]
    assert ax is not None
    for spec, runs in results.items():
        x = np.concatenate([r.effective_draws for r in runs])
        y = np.concatenate([r.excess for r in runs])
        ax.loglog(x, y, label=spec, alpha=0.8, **{**line_style(spec), "linestyle": "none"})
        # the prediction is c_l / (N w): one line per length, through its constant
        for l in range(len(runs[0].predicted)):
            xs = np.array([r.effective_draws[l] for r in runs])
            ys = np.array([r.predicted[l] for r in runs])
            if np.all(np.isfinite(ys)):
                ax.loglog(xs, ys, "-", color=color(spec), lw=1.0, alpha=0.9)
    # the key of the lines: one entry, in the objectives' colours on the plot
    ax.plot([], [], "-", color="#666666", lw=1.0, label="prediction $c_l/(N w)$, one per length")
    ax.legend(fontsize="x-small")
    ax.set_xlabel("$N\\,w(\\omega_l)$ (draws of the prefix pattern)")
    ax.set_ylabel("excess loss (nats)")
    return ax


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 7 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = preset_source("hmm")
    fig, ax = figure(fig=fig)
    results = {
        spec: [count_estimator_rate(source, parse_objective(spec, source.length), n) for n in SIZES]
        for spec in OBJECTIVES
    }
    plot_rate(results, ax=ax)
    ax.get_legend().remove()  # the figure's legend, above the panel
    legend_outside(fig, ax, ncols=2, title="points: measured; lines: predicted, slope $-1$")
    return fig
