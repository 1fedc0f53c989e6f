"""Figure 12: the belief simplex of Mess3, exact and read linearly off a network (§10.6)."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lookaround.figures.style import WIDE, figure, styled
from lookaround.simulations.beliefs import BeliefProjection

__all__ = ["CAPTION", "NAME", "OBJECTIVES", "REQUIRES", "SETTINGS", "draw", "plot_belief"]

NAME = "belief"
REQUIRES = ("jax", "transformer")
OBJECTIVES = ("ar", "mlm:1")
SETTINGS = {"width": 32, "layers": 2, "steps": 1000}
CAPTION = (
    "Mess3 (x = 0.05, alpha = 0.85, T = 10): the exact belief over the hidden state at the "
    "target, for every context of the 2,000 likeliest sequences (top), and the affine map of "
    "a transformer's final residual stream onto it, cross-fitted (bottom); colour is the "
    "exact belief. Left: ar (the filtered belief after x_<l); right: mlm:1 (the smoothed "
    "belief given both sides). Width 32, 2 blocks, 1,000 steps, seed 0; the reproduction at "
    "Shai et al.'s shape is in docs/theory.md §10.6."
)
_CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


def plot_belief(projection: BeliefProjection, *, fitted: bool, ax: Axes | None = None) -> Axes:
    """A 3-state belief on the simplex: the exact beliefs, or a layer's map of them, each
    context coloured by its exact belief (red, green, blue: states 0, 1, 2).

    Parameters
    ----------
    projection : BeliefProjection
        From :func:`lookaround.simulations.beliefs.belief_projection` (a source whose beliefs
        have 3 states, such as ``mess3``).
    fitted : bool
        Draw the layer's mapped states (else the exact beliefs).
    ax : matplotlib.axes.Axes, optional
        Where to draw; unset makes a figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if projection.exact.shape[1] != 3:
        raise ValueError(f"a simplex of 3 states is drawn; this belief has "
                         f"{projection.exact.shape[1]}")  # fmt: skip
    if ax is None:
        ax = figure(WIDE / 2, 2.6, None)[1]
    assert ax is not None
    points = (projection.fitted if fitted else projection.exact) @ _CORNERS
    colours = np.clip(projection.exact, 0.0, 1.0)
    ax.scatter(points[:, 0], points[:, 1], c=colours, s=1.5, linewidths=0, rasterized=True)
    ax.plot(*np.vstack([_CORNERS, _CORNERS[:1]]).T, color="#999999", linewidth=0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _projections() -> dict[str, BeliefProjection]:
    from lookaround.simulations.architectures import architecture_config
    from lookaround.simulations.beliefs import belief_projection
    from lookaround.simulations.pretrain import population
    from lookaround.simulations.training import training_config
    from lookaround.simulations.transformer import context_layers, pretrain_transformer
    from lookaround.theory.objectives import parse_objective
    from lookaround.theory.presets import preset_source

    source = preset_source("mess3")
    pop = population(source)
    out = {}
    for objective in OBJECTIVES:
        run = pretrain_transformer(source, objective, config=training_config(SETTINGS),
                                   architecture=architecture_config(SETTINGS), seed=0)  # fmt: skip
        out[objective] = belief_projection(
            lambda *a, run=run: context_layers(run, *a), source,
            parse_objective(objective, source.length), pop.tokens, pop.mass, seed=0,
            layer=f"block {SETTINGS['layers']}",
        )  # fmt: skip
    return out


@styled
def draw(fig: Figure | None = None) -> Figure:
    """Draw figure 12 into ``fig`` (a new figure by default) and return it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure, optional
        A figure to draw into; unset makes one of the figure's own size.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = figure(WIDE, 4.4, fig, nrows=2, ncols=len(OBJECTIVES))
    for column, (objective, projection) in enumerate(_projections().items()):
        plot_belief(projection, fitted=False, ax=axes[0, column])
        plot_belief(projection, fitted=True, ax=axes[1, column])
        axes[0, column].set_title(f"{objective}: exact belief", fontsize="small")
        axes[1, column].set_title(f"{objective}: {projection.layer}, R^2 = {projection.r2:.3f}",
                                  fontsize="small")  # fmt: skip
    return fig
