"""Figure 8: training curves of the spectral and cross-entropy models against their optima."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.axes import Axes
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

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "draw", "plot_training"]

NAME = "training"
CAPTION = (
    "Tabular models trained on 50k draws from the hmm source, k=2: the spectral loss against "
    "T1's optimum -sum s_i^2 and the cross-entropy against the conditional entropy H(t|c) "
    "(dotted: the population's). A curve is the loss on the draws, whose own optimum differs "
    "from the population's by sampling noise: mlm:2's 540 contexts see fewer draws each, its "
    "sample optimum lies below the dotted line, and its curve ends there."
)
OBJECTIVES = ("ar", "mlm:2")


def plot_training(
    curves: Mapping[str, tuple[np.ndarray, float]], *, ax: Axes | None = None
) -> Axes:
    """Training curves against their optima: ``curves[objective] = (curve, optimum)`` (the
    ``curve`` of a fitted model, the optimum dotted in the objective's colour). Returns the
    Axes drawn into.

    Parameters
    ----------
    curves : mapping of str to (ndarray, float)
        Loss curves and their optimum, by label.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_training({"ar": (np.array([1.0, 0.5, 0.3]), 0.25)})
    >>> len(ax.get_lines())
    2
    """
    if ax is None:
        ax = figure(COLUMN / 2, 2.4, None)[1]
    assert ax is not None
    for spec, (curve, optimum) in curves.items():
        style = {**line_style(spec), "marker": None}
        ax.plot(np.arange(1, curve.size + 1), curve, label=spec, **style)
        ax.axhline(optimum, color=color(spec), ls=":", lw=0.9)
    ax.set_xscale("log")
    ax.set_xlabel("step")
    return ax


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 8 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    source = preset_source("hmm")
    fig, axes = figure(COLUMN, 2.4, fig, ncols=2)
    curves: dict[str, dict[str, tuple[np.ndarray, float]]] = {"spectral": {}, "ce": {}}
    for spec in OBJECTIVES:
        objective = parse_objective(spec, source.length)
        draws = draw_patterns(source, objective, 50_000, seed=0)
        a, _ = exact_dense_cooccurrence(source, objective)
        floors = {"spectral": spectral_optimum(normalized_svd(a)[2], 2),
                  "ce": conditional_entropy(a)}  # fmt: skip
        for loss, floor in floors.items():
            cfg = DEFAULTS[("tabular", loss)]
            model = fit_tabular(
                draws, source.vocab, 2, loss=loss, steps=cfg["steps"], lr=cfg["lr"], seed=0
            )
            curves[loss][spec] = (model.curve, floor)
    for ax, loss in zip(axes, ("spectral", "ce")):
        plot_training(curves[loss], ax=ax)
    axes[0].set_ylabel("training loss (dotted: population optimum)")
    axes[0].set_title("spectral loss (T1)")
    axes[1].set_title("cross-entropy")
    legend_outside(fig, axes[0], ncols=2)
    return fig
